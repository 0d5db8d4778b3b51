"""Forms of the web pages: the lead list's query string, a move's, a contact's, a note's
and a return decision's POST body, the notification centre's page, a webhook endpoint,
the SLA report's filters.

They only validate and translate input into domain calls' arguments; which leads a user
sees and which moves are allowed stay in ``leadrelay.leads``.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Partner
from leadrelay.intake.normalize import normalize_email, normalize_phone
from leadrelay.leads.models import CallOutcome, Lead, TouchChannel
from leadrelay.leads.statuses import Stage, Status
from leadrelay.leads.transitions import MoveOptions
from leadrelay.notify.channels import UnsafeUrl, check_url
from leadrelay.notify.models import WebhookEndpoint
from leadrelay.sla.models import ClockKind


def active_people(role: Role) -> QuerySet[User]:
    """The active users of one role, as choices are listed: by name."""
    return User.objects.filter(role=role, is_active=True).order_by(
        "first_name", "last_name", "username"
    )


def search_filter(text: str) -> Q:
    """Cheap search: an exact e-mail or phone (both indexed), or a name/company prefix.

    A prefix rather than a substring keeps the door open to an index on UPPER(name) on
    PostgreSQL; a ``%text%`` match could never use one.
    """
    text = text.strip()
    cond = Q(name__istartswith=text) | Q(company__istartswith=text)
    if "@" in text:
        cond |= Q(email=normalize_email(text))
    if any(ch.isdigit() for ch in text):
        phone = normalize_phone(text)
        if phone:
            cond |= Q(phone=phone)
    return cond


class LeadFilterForm(forms.Form):
    """The lead list's query string; every field optional, bad values are form errors."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Name, company, e-mail, phone")}
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Status.choices]
    )
    stage = forms.ChoiceField(
        label=_("Stage reached"), required=False, choices=[("", _("Any stage")), *Stage.choices]
    )
    sdr = forms.ModelChoiceField(
        label=_("SDR"), required=False, queryset=active_people(Role.SDR), empty_label=_("Any SDR")
    )
    manager = forms.ModelChoiceField(
        label=_("Manager"),
        required=False,
        queryset=active_people(Role.SALES),
        empty_label=_("Any manager"),
    )
    # Keyset pagination: the id of the last lead on the previous page.
    cursor = forms.IntegerField(
        label=_("Page"), required=False, min_value=1, widget=forms.HiddenInput
    )

    def filter(self, leads: QuerySet[Lead]) -> QuerySet[Lead]:
        """Narrow ``leads`` by the cleaned filters; call only when the form is valid."""
        data = self.cleaned_data
        if data["q"]:
            leads = leads.filter(search_filter(data["q"]))
        if data["status"]:
            leads = leads.filter(status=data["status"])
        if data["stage"]:
            leads = leads.filter(**{f"reached_{Stage(data['stage']).value}_at__isnull": False})
        if data["sdr"] is not None:
            leads = leads.filter(sdr=data["sdr"])
        if data["manager"] is not None:
            leads = leads.filter(manager=data["manager"])
        if data["cursor"] is not None:
            leads = leads.filter(id__lt=data["cursor"])
        return leads


def routing_departments() -> QuerySet[Department]:
    """Where a request can be routed: group companies and other departments."""
    return Department.objects.filter(
        kind__in=(Department.Kind.GROUP_COMPANY, Department.Kind.OTHER)
    ).order_by("name")


class MoveForm(forms.Form):
    """One move of one lead: the target, the version the user saw, and what it needs."""

    to = forms.ChoiceField(choices=Status.choices)
    version = forms.IntegerField(min_value=1)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=4000, widget=forms.Textarea
    )
    manager = forms.ModelChoiceField(
        label=_("Sales manager"), required=False, queryset=active_people(Role.SALES)
    )
    partner = forms.ModelChoiceField(
        label=_("Partner"), required=False, queryset=Partner.objects.filter(active=True)
    )
    # Requests are routed to a group company or a department outside the funnel; the
    # marketing, sales and partner departments are the funnel itself.
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=routing_departments()
    )
    # A code from the configurable lists (disqualification, return, loss); the move's gate
    # says whether the move needs one and which codes it takes.
    reason_code = forms.CharField(label=_("Reason code"), required=False, max_length=40)
    competitor = forms.CharField(label=_("Competitor"), required=False, max_length=200)

    def options(self) -> MoveOptions:
        data = self.cleaned_data
        return MoveOptions(
            manager=data["manager"],
            partner=data["partner"],
            department=data["department"],
            reason_code=data["reason_code"],
            competitor=data["competitor"],
        )


class TouchForm(forms.Form):
    """A logged contact: how, the call's outcome (calls only) and a note."""

    channel = forms.ChoiceField(
        label=_("Contact"),
        choices=TouchChannel.choices,
        error_messages={"required": _("Choose how you contacted the lead.")},
    )
    outcome = forms.ChoiceField(
        label=_("Call outcome"), required=False, choices=[("", "—"), *CallOutcome.choices]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=4000)
    # Typed as "4:30" (minutes:seconds) or "5" (minutes); cleaned to seconds.
    duration = forms.CharField(label=_("Call duration"), required=False, max_length=12)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed, data["duration"] = data.get("duration") or "", None
        if data.get("channel") == TouchChannel.CALL:
            if not data.get("outcome"):
                self.add_error("outcome", _("Choose the outcome of the call."))
            try:
                data["duration"] = parse_duration(typed)
            except forms.ValidationError as exc:
                self.add_error("duration", exc)
        elif data.get("channel"):
            # An e-mail or a meeting has no outcome or duration to record.
            data["outcome"] = ""
        return data


_DURATION = re.compile(r"^(\d{1,4})(?::([0-5]\d))?$")


def parse_duration(text: str) -> int | None:
    """A call's length as typed, "4:30" (minutes:seconds) or "5" (minutes), in seconds;
    ``None`` when nothing was typed. Raises ``ValidationError`` for anything else."""
    text = text.strip().replace(" ", "")
    if not text:
        return None
    match = _DURATION.match(text)
    if match is None:
        raise forms.ValidationError(
            _("Enter minutes:seconds (4:30) or whole minutes (5)."), code="duration"
        )
    return int(match.group(1)) * 60 + int(match.group(2) or 0)


class NoteForm(forms.Form):
    """A note in the lead's history; ``add_note`` says what a note may be."""

    note = forms.CharField(label=_("Note"), required=False, max_length=10_000, strip=False)


class ReturnDecisionForm(forms.Form):
    """The SDR's answer to a return: accept it, or dispute it with a note."""

    decision = forms.ChoiceField(choices=[("accept", "accept"), ("dispute", "dispute")])
    note = forms.CharField(label=_("Note"), required=False, max_length=4000)


class ReturnVerdictForm(forms.Form):
    """A head's verdict on a disputed return: uphold it, or overturn it."""

    verdict = forms.ChoiceField(choices=[("uphold", "uphold"), ("overturn", "overturn")])
    note = forms.CharField(label=_("Note"), required=False, max_length=4000)


class PageForm(forms.Form):
    """A keyset page of a list: the id of the last row of the previous page."""

    cursor = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)


class WebhookForm(forms.Form):
    """A new webhook endpoint; the URL must be one Leadrelay is willing to send to."""

    url = forms.CharField(
        label=_("URL"),
        max_length=1000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/leadrelay"}),
    )
    description = forms.CharField(label=_("Description"), required=False, max_length=200)
    events = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"].strip()
        try:
            check_url(
                url,
                require_https=settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS,
                allow_private=settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE,
            )
        except UnsafeUrl as exc:
            raise forms.ValidationError(
                _("Webhooks cannot be sent to this URL: %(reason)s"),
                code="unsafe_url",
                params={"reason": str(exc)},
            ) from None
        return url


class WebhookActiveForm(forms.Form):
    """Switch an endpoint on (1) or off (0)."""

    active = forms.TypedChoiceField(
        choices=[("1", "on"), ("0", "off")], coerce=lambda v: v == "1", empty_value=None
    )


# The report reads every clock of the period into memory: a year is the most it offers.
REPORT_MAX_DAYS = 366
REPORT_DEFAULT_DAYS = 30


class SlaReportForm(forms.Form):
    """The SLA report's period (clocks started from ``start`` to ``end``, inclusive, in
    the site's time zone) and clock kind; empty fields take the defaults."""

    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    kind = forms.ChoiceField(label=_("Deadline"), required=False, choices=ClockKind.choices)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        today = timezone.localdate()
        end: date = data.get("end") or today
        start: date = data.get("start") or end - timedelta(days=REPORT_DEFAULT_DAYS - 1)
        if "start" in self.errors or "end" in self.errors:
            return data
        if start > end:
            raise forms.ValidationError(
                _("The period starts after it ends."), code="reversed_period"
            )
        if (end - start).days + 1 > REPORT_MAX_DAYS:
            raise forms.ValidationError(
                _("Choose a period of at most %(days)s days."),
                code="period_too_long",
                params={"days": REPORT_MAX_DAYS},
            )
        data.update(start=start, end=end, kind=data.get("kind") or ClockKind.FIRST_CONTACT)
        return data
