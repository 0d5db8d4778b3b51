"""Forms of the web pages: the lead list's query string and a move's POST body.

They only validate and translate input into domain calls' arguments; which leads a user
sees and which moves are allowed stay in ``leadrelay.leads``.
"""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Partner
from leadrelay.intake.normalize import normalize_email, normalize_phone
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Stage, Status
from leadrelay.leads.transitions import MoveOptions


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
    department = forms.ModelChoiceField(
        label=_("Department"), required=False, queryset=Department.objects.all()
    )

    def options(self) -> MoveOptions:
        data = self.cleaned_data
        return MoveOptions(
            manager=data["manager"], partner=data["partner"], department=data["department"]
        )
