"""The SDR workspace's pages: the incoming queue with claims and reassignment, the SDR's
own day, the queue's settings and the report of requests that have not ended.

Views only read filters, call the domain (``qualify.queue``, ``leads.transitions``,
``qualify.routing``, ``sla.report``) and render. Every page costs a fixed number of
queries whatever the number of rows: the choices of the filters are read once, the rows
come with what they show joined, and each row's strings are worked out here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import ExpressionWrapper, F, IntegerField, Q, QuerySet
from django.db.models.lookups import Exact, In
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.errors import AlreadyTaken, LeadError, LeadNotFound
from leadrelay.leads.models import Lead
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import claim, leads_sdr_team, may_claim, reassign
from leadrelay.qualify.models import ReasonCode, Return, SdrQueueSettings
from leadrelay.qualify.queue import SdrMonth, incoming, sdr_month
from leadrelay.qualify.routing import unended
from leadrelay.sla.calendar import BusinessCalendar
from leadrelay.sla.clocks import _default_calendar
from leadrelay.sla.models import Clock, ClockKind
from leadrelay.sla.report import Stats, period
from leadrelay.web.forms import active_people
from leadrelay.web.templatetags.leadrelay_web import Countdown, countdown, when
from leadrelay.web.views import HtmxHttpRequest, _partial, _user

# Who works the incoming queue (and sees the report of requests with no end).
QUEUE_ROLES = frozenset({Role.SDR, Role.HEAD_MARKETING, Role.ADMIN})
# Who has an own day to look at: the SDRs, and the heads for their own figures.
MY_DAY_ROLES = frozenset({Role.SDR, Role.HEAD_MARKETING, Role.HEAD_SALES, Role.ADMIN})
# Who decides how requests reach SDRs.
SETTINGS_ROLES = frozenset({Role.HEAD_MARKETING, Role.ADMIN})

# The most rows a list outside the queue shows at once; the total is always given.
LIST_CAP = 100
# The longest look back the report of requests with no end accepts, in working hours.
MAX_STALE_HOURS = 2000


# What a row of requests shows besides the lead: joined in the same query. And what it
# never shows: the long texts and JSON it need not read and decode for every row.
ROW_RELATED = ("service", "source", "sdr")
ROW_UNUSED = ("message", "consent", "extra", "review", "end_reason")


def current_time() -> datetime:
    """The views' clock: one seam for tests to fake time with."""
    return timezone.now()


def works_queue(user: User) -> bool:
    return user.is_superuser or user.role in QUEUE_ROLES


def has_my_day(user: User) -> bool:
    return user.is_superuser or user.role in MY_DAY_ROLES


def sets_up_queue(user: User) -> bool:
    return user.is_superuser or user.role in SETTINGS_ROLES


def _forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "403.html", {"message": message}, status=403)


def _back(request: HttpRequest, default: str) -> str:
    """Where a form without JavaScript returns to: its ``next`` when it is ours."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _url_pattern(name: str) -> str:
    """One reverse() per page: ``{}`` where the lead's id goes."""
    sentinel = 2_147_483_647
    return reverse(name, args=[sentinel]).replace(str(sentinel), "{}")


def _person(user: User | None) -> str:
    return "—" if user is None else str(user)


# The queue's rows ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One request in the queue, every label and link worked out for the template."""

    pk: int
    # The id and the version as text: templates would run every int through number_format.
    key: str
    version: str
    url: str
    claim_url: str
    reassign_url: str
    received: str
    title: str
    company: str
    service: str
    source: str
    channel: str
    attribution: str
    duplicate_url: str
    duplicate: str  # the id of the request this one repeats, "" if none
    sla: Countdown | None
    owner: str
    owner_id: int | None
    mine: bool
    claimable: bool
    status: str
    status_label: str
    # The "reassign to…" options, rendered once per owner on the page; "" if not offered.
    reassign_options: str


# The UTM tags a row shows, in the order marketers read them.
SUMMARY_TAGS = ("utm_source", "utm_medium", "utm_campaign")


def attribution_summary(attribution: dict[str, Any] | None) -> str:
    values = (str((attribution or {}).get(tag) or "").strip() for tag in SUMMARY_TAGS)
    return " / ".join(v for v in values if v)


def _reassign_options(sdrs: Sequence[tuple[int, str]], owner_id: int | None) -> str:
    """The SDRs as ``<option>``s, the current owner greyed out: one string per owner,
    not a template loop per row (a thousand options on a page of 50 rows and 20 SDRs)."""
    return format_html(
        '<option value="">{}</option>{}',
        _("Reassign to…"),
        format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((pk, mark_safe(" disabled") if pk == owner_id else "", name) for pk, name in sdrs),
        ),
    )


def queue_rows(
    user: User,
    leads: Iterable[Lead],
    now: datetime,
    reassign_to: Sequence[tuple[int, str]] | None = None,
) -> list[QueueRow]:
    """The rows of ``leads``; each lead must come with its service, source and SDR.

    ``reassign_to`` (pk, name) lists the SDRs a row may be given to, when it may be.
    """
    no_name = _("(no name)")
    statuses = {str(s.value): str(s.label) for s in Status}
    kinds = {str(k): str(label) for k, label in Source.Kind.choices}
    lead_url = _url_pattern("leads:detail")
    claim_url = _url_pattern("sdr:claim")
    reassign_url = _url_pattern("sdr:reassign")
    names: dict[object, str] = {}
    options: dict[int | None, str] = {}

    def name_of(obj: object) -> str:
        if obj is None:
            return "—"
        if obj not in names:
            names[obj] = str(obj)
        return names[obj]

    def options_for(owner_id: int | None) -> str:
        if reassign_to is None:
            return ""
        if owner_id not in options:
            options[owner_id] = _reassign_options(reassign_to, owner_id)
        return options[owner_id]

    rows = []
    for lead in leads:
        source = lead.source
        source_name = name_of(source)
        channel = kinds.get(source.kind, source.kind) if source is not None else ""
        rows.append(
            QueueRow(
                pk=lead.pk,
                key=str(lead.pk),
                version=str(lead.version),
                url=lead_url.format(lead.pk),
                claim_url=claim_url.format(lead.pk),
                reassign_url=reassign_url.format(lead.pk),
                received=when(lead.received_at),
                title=lead.name or lead.email or lead.phone or no_name,
                company=lead.company,
                service=name_of(lead.service),
                source=source_name,
                # "Meta Lead Ads · Meta Lead Ads" says nothing twice.
                channel=channel if channel != source_name else "",
                attribution=attribution_summary(lead.attribution),
                duplicate_url=(
                    lead_url.format(lead.duplicate_of_id) if lead.duplicate_of_id else ""
                ),
                duplicate=str(lead.duplicate_of_id or ""),
                sla=countdown(lead.sla_due_at, lead.sla_warn_at, now),
                owner=name_of(lead.sdr),
                owner_id=lead.sdr_id,
                mine=lead.sdr_id == user.pk,
                claimable=may_claim(user, lead),
                status=lead.status,
                status_label=statuses.get(lead.status, lead.status),
                reassign_options=options_for(lead.sdr_id),
            )
        )
    return rows


# The queue's filters and pages ----------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICRO


@dataclass(frozen=True)
class Cursor:
    """The last row of a page, in the queue's order: deadline (none last), arrival, id."""

    due: datetime | None
    received: datetime
    pk: int

    @classmethod
    def parse(cls, text: str) -> Cursor:
        parts = text.split(".")
        if len(parts) != 3:
            raise ValueError(text)
        due, received, pk = parts
        return cls(
            None if due == "n" else _EPOCH + int(due) * _MICRO,
            _EPOCH + int(received) * _MICRO,
            int(pk),
        )

    def __str__(self) -> str:
        due = "n" if self.due is None else str(_micros(self.due))
        return f"{due}.{_micros(self.received)}.{self.pk}"

    def after(self) -> Q:
        """The rows that come after this one in ``queue.incoming``'s order."""
        later = Q(received_at__gt=self.received) | Q(received_at=self.received, pk__gt=self.pk)
        if self.due is None:
            return Q(sla_due_at__isnull=True) & later
        return (
            Q(sla_due_at__gt=self.due)
            | (Q(sla_due_at=self.due) & later)
            | Q(sla_due_at__isnull=True)
        )


def _choices(form: forms.Form, name: str, choices: list[Any]) -> None:
    """Give a choice field the choices the view read (one query per list per page)."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class QueueFilterForm(forms.Form):
    """The queue's query string; the choices come from lists the view read once."""

    MINE, UNCLAIMED = "mine", "unclaimed"
    CHOICES = ("source", "service", "channel", "owner")

    source = forms.TypedChoiceField(
        label=gettext_lazy("Source"), required=False, coerce=int, empty_value=None
    )
    service = forms.TypedChoiceField(
        label=gettext_lazy("Service"), required=False, coerce=int, empty_value=None
    )
    channel = forms.ChoiceField(label=gettext_lazy("Channel"), required=False)
    owner = forms.ChoiceField(label=gettext_lazy("Owner"), required=False)
    after = forms.CharField(
        label=gettext_lazy("Page"), required=False, max_length=80, widget=forms.HiddenInput
    )

    def __init__(
        self,
        data: QueryDict,
        *,
        sources: Sequence[Source],
        services: Sequence[Service],
        sdrs: Sequence[User],
    ) -> None:
        super().__init__(data)
        _choices(self, "source", [("", _("Any source")), *((str(s.pk), str(s)) for s in sources)])
        _choices(
            self, "service", [("", _("Any service")), *((str(s.pk), str(s)) for s in services)]
        )
        _choices(self, "channel", [("", _("Any channel")), *Source.Kind.choices])
        _choices(
            self,
            "owner",
            [
                ("", _("Everyone")),
                (self.MINE, _("Mine")),
                (self.UNCLAIMED, _("Unclaimed")),
                (_("SDR"), [(str(u.pk), str(u)) for u in sdrs]),
            ],
        )

    def clean_after(self) -> Cursor | None:
        text = self.cleaned_data["after"]
        if not text:
            return None
        try:
            return Cursor.parse(text)
        except (ValueError, OverflowError):
            raise forms.ValidationError(
                _("This page marker is not valid; start from the first page.")
            ) from None

    def filter(self, leads: QuerySet[Lead], user: User) -> QuerySet[Lead]:
        """Narrow ``leads`` by the filters (not the page); only when the form is valid."""
        data = self.cleaned_data
        # Source and service, like the owner, must not steer the planner off the queue's
        # index onto theirs: one source has hundreds of thousands of leads.
        if data["source"] is not None:
            leads = leads.filter(unindexed_is("source_id", data["source"]))
        if data["service"] is not None:
            leads = leads.filter(unindexed_is("service_id", data["service"]))
        if data["channel"]:
            kind = Source.objects.filter(kind=data["channel"]).values("id")
            unindexed = ExpressionWrapper(F("source_id") + 0, output_field=IntegerField())
            leads = leads.filter(Q(In(unindexed, kind)))
        owner = data["owner"]
        if owner == self.MINE:
            leads = leads.filter(owned_by(user.pk))
        elif owner == self.UNCLAIMED:
            leads = leads.filter(sdr__isnull=True)
        elif owner:
            leads = leads.filter(owned_by(int(owner)))
        return leads


def owned_by(user_id: int) -> Q:
    """``sdr = user``, written so the planner keeps to the queue's partial index.

    An SDR owns every request they ever worked, tens of thousands once the years add up;
    given the bare column, SQLite walks the owner index through all of them (hundreds of
    milliseconds at a million leads) instead of the few thousand open requests that
    ``lead_sdr_queue`` holds. ``sdr_id + 0`` is the usual way to say "not that index".
    """
    return unindexed_is("sdr_id", user_id)


def unindexed_is(column: str, value: int) -> Q:
    """``column = value`` that no index on ``column`` answers (see ``owned_by``)."""
    unindexed = ExpressionWrapper(F(column) + 0, output_field=IntegerField())
    return Q(Exact(unindexed, value))


def select_options(form: forms.Form, name: str) -> str:
    """A choice field's ``<option>``s (and ``<optgroup>``s), the submitted one selected.

    Written out here rather than by the widget's templates, which cost two template
    includes per option: the queue's four filters hold dozens of options.
    """
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    value = str(form[name].value() or "")

    def options(choices: Iterable[tuple[Any, Any]]) -> str:
        return format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (key, mark_safe(" selected") if str(key) == value else "", label)
                for key, label in choices
            ),
        )

    parts: list[str] = []
    # The field normalised the choices _choices gave it to a list.
    for key, label in cast(list[tuple[Any, Any]], field.choices):
        if isinstance(label, list | tuple):
            parts.append(format_html('<optgroup label="{}">{}</optgroup>', key, options(label)))
        else:
            parts.append(options([(key, label)]))
    return mark_safe("".join(parts))


def _page_query(params: QueryDict, after: Cursor | None) -> str:
    params = params.copy()
    params.pop("after", None)
    if after is not None:
        params["after"] = str(after)
    return params.urlencode()


# The "Returned to you" block ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReturnRow:
    pk: int
    lead_pk: int
    url: str
    title: str
    returned: str
    returned_by: str
    reason_label: str
    reason: str


def open_returns(user: User) -> list[ReturnRow]:
    """The returns sales made of this user's requests that still wait for their answer."""
    returns = list(
        Return.objects.filter(state=Return.State.OPEN, sdr=user, lead__sdr=user)
        .select_related("lead", "returned_by")
        .order_by("returned_at", "pk")[:LIST_CAP]
    )
    if not returns:
        return []
    labels = {c.code: str(c) for c in ReasonCode.objects.filter(kind=ReasonCode.Kind.RETURN)}
    lead_url = _url_pattern("leads:detail")
    no_name = _("(no name)")
    return [
        ReturnRow(
            pk=r.pk,
            lead_pk=r.lead_id,
            url=lead_url.format(r.lead_id),
            title=r.lead.name or r.lead.email or r.lead.phone or no_name,
            returned=when(r.returned_at),
            returned_by=_person(r.returned_by),
            reason_label=labels.get(r.reason_code, r.reason_code),
            reason=r.reason,
        )
        for r in returns
    ]


# The queue page -----------------------------------------------------------------------


def _queue_context(request: HttpRequest, user: User) -> tuple[dict[str, Any], bool]:
    sdrs = list(active_people(Role.SDR))
    form = QueueFilterForm(
        request.GET,
        sources=list(Source.objects.order_by("name")),
        services=list(Service.objects.filter(active=True).order_by("name_en")),
        sdrs=sdrs,
    )
    valid = form.is_valid()
    may_reassign = leads_sdr_team(user)
    options = {name: select_options(form, name) for name in QueueFilterForm.CHOICES}
    context: dict[str, Any] = {
        "nav": "incoming",
        "form": form,
        "rows": [],
        "total": None,
        "next_query": None,
        "first_query": None,
        "options": options,
        "back": request.get_full_path(),
        "filtered": any(v for k, v in request.GET.items() if k != "after"),
    }
    if not valid:
        return context, False
    size: int = settings.LEADRELAY_PAGE_SIZE
    queue = form.filter(incoming(user), user)
    after: Cursor | None = form.cleaned_data["after"]
    page = queue
    if after is not None:
        page = page.filter(after.after())
        context["first_query"] = _page_query(request.GET, None)
    else:
        # The whole queue is a few thousand rows at most (they all sit in the partial
        # index lead_sdr_queue), so counting it is cheap; later pages skip it.
        context["total"] = queue.count()
    # The page's keys first, then its rows with what they show: joined before the sort,
    # the thousands of queued rows would each be joined to their SDR, service and source
    # (PostgreSQL, misjudging the scope's selectivity, joins them by nested loops).
    keys = list(page.values_list("sla_due_at", "received_at", "pk")[: size + 1])
    if len(keys) > size:
        keys = keys[:size]
        context["next_query"] = _page_query(request.GET, Cursor(*keys[-1]))
    by_pk = (
        Lead.objects.select_related(*ROW_RELATED)
        .defer(*ROW_UNUSED)
        .in_bulk([pk for _due, _received, pk in keys])
    )
    leads = [by_pk[pk] for _due, _received, pk in keys if pk in by_pk]
    reassign_to = [(u.pk, str(u)) for u in sdrs] if may_reassign else None
    context["rows"] = queue_rows(user, leads, current_time(), reassign_to)
    return context, True


@login_required
@require_GET
def incoming_queue(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    if not works_queue(user):
        return _forbidden(request, _("The incoming queue is the SDR team's."))
    context, valid = _queue_context(request, user)
    status = 200 if valid else 400
    if _partial(request):
        # "Show more" asks for the next rows only; the filters for the whole results.
        more = request.htmx.target == "queue-more"
        template = "web/sdr/_queue_more.html" if more else "web/sdr/_queue_results.html"
        response = render(request, template, context, status=status)
    else:
        context["returns"] = open_returns(user)
        context["may_set_up"] = sets_up_queue(user)
        response = render(request, "web/sdr/queue.html", context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


# Claiming and reassigning a row ---------------------------------------------------------


def _row_response(
    request: HtmxHttpRequest,
    user: User,
    lead_id: int,
    *,
    notice: str,
    tone: str,
    status: int = 200,
) -> HttpResponse:
    """The row as the user may see it now, with a notice; a notice alone when gone."""
    lead = incoming(user).select_related(*ROW_RELATED).defer(*ROW_UNUSED).filter(pk=lead_id).first()
    may_reassign = leads_sdr_team(user)
    row = None
    if lead is not None:
        reassign_to = [(u.pk, str(u)) for u in active_people(Role.SDR)] if may_reassign else None
        row = queue_rows(user, [lead], current_time(), reassign_to)[0]
    context: dict[str, Any] = {
        "row": row,
        "gone_pk": lead_id,
        "notice": notice,
        "tone": tone,
        "back": _back(request, reverse("sdr:incoming")),
    }
    return render(request, "web/sdr/_queue_row.html", context, status=status)


def _after_action(
    request: HtmxHttpRequest, user: User, lead_id: int, notice: str, status: int
) -> HttpResponse:
    tone = "success" if status < 400 else "error"
    if _partial(request):
        return _row_response(request, user, lead_id, notice=notice, tone=tone, status=status)
    # Without JavaScript: back to the queue as it was, the outcome as a message.
    if status < 400:
        messages.success(request, notice)
    else:
        messages.error(request, notice)
    return redirect(_back(request, reverse("sdr:incoming")))


@login_required
@require_POST
def claim_lead(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Take a request: the actor is always the user who clicks, never someone posted."""
    user = _user(request)
    try:
        claim(user, lead_id)
    except AlreadyTaken as exc:
        return _after_action(request, user, lead_id, exc.message, exc.http_status)
    except LeadNotFound:
        return _after_action(
            request, user, lead_id, _("This request does not exist or is not visible to you."), 404
        )
    except LeadError as exc:
        return _after_action(request, user, lead_id, exc.message, exc.http_status)
    return _after_action(
        request, user, lead_id, _("Request #%(id)s is yours.") % {"id": lead_id}, 200
    )


class ReassignForm(forms.Form):
    sdr = forms.TypedChoiceField(label=gettext_lazy("SDR"), coerce=int)
    version = forms.IntegerField(min_value=1)

    def __init__(self, data: QueryDict, *, sdrs: Sequence[User]) -> None:
        super().__init__(data)
        _choices(self, "sdr", [(str(u.pk), str(u)) for u in sdrs])
        self.sdrs = {u.pk: u for u in sdrs}


@login_required
@require_POST
def reassign_lead(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """The lead SDR or the head gives a request to another SDR, at the version they saw."""
    user = _user(request)
    if not leads_sdr_team(user):
        message = _("Only the lead SDR or the head of marketing reassigns requests.")
        if _partial(request):
            return _row_response(request, user, lead_id, notice=message, tone="error", status=403)
        return _forbidden(request, message)
    form = ReassignForm(request.POST, sdrs=list(active_people(Role.SDR)))
    if not form.is_valid():
        if "sdr" in form.errors:
            message = _("Choose the SDR to give the request to.")
        else:
            message = _("The form is out of date; reload the page.")
        return _after_action(request, user, lead_id, message, 422)
    sdr = form.sdrs[form.cleaned_data["sdr"]]
    try:
        reassign(user, lead_id, sdr, version=form.cleaned_data["version"])
    except LeadNotFound:
        return _after_action(
            request, user, lead_id, _("This request does not exist or is not visible to you."), 404
        )
    except LeadError as exc:
        return _after_action(request, user, lead_id, exc.message, exc.http_status)
    done = _("Request #%(id)s is now %(name)s's.") % {"id": lead_id, "name": sdr}
    return _after_action(request, user, lead_id, done, 200)


# My day ---------------------------------------------------------------------------------


def month_of(now: datetime) -> tuple[datetime, datetime]:
    """The calendar month around ``now`` in the site's time zone: [first day, next month)."""
    first = timezone.localtime(now).date().replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return period(first, last)


def first_contact_stats(user: User, start: datetime, end: datetime, now: datetime) -> Stats:
    """One person's line of the first-contact SLA report (``sla.report.attainment``).

    The same attribution as the report: a clock counts for its recorded owner, else the
    lead's SDR; only this person's clocks are read, not the whole period's.
    """
    stats = Stats()
    rows = (
        Clock.objects.filter(
            kind=ClockKind.FIRST_CONTACT, started_at__gte=start, started_at__lt=end
        )
        .filter(Q(owner=user) | Q(owner__isnull=True, lead__sdr=user))
        .order_by()
        .values_list("outcome", "due_at", "working_seconds", "calendar_seconds")
    )
    for outcome, due_at, working, calendar in rows:
        stats.add(outcome, due_at, working, calendar, now)
    return stats


@dataclass(frozen=True)
class MyDay:
    rows: list[QueueRow]
    claimed: int
    unclaimed: int
    sla: Stats
    month: SdrMonth
    start: date
    end: date  # the month's last day


def my_day_figures(user: User, now: datetime) -> MyDay:
    mine = incoming(user).filter(owned_by(user.pk))
    leads = list(mine.select_related(*ROW_RELATED).defer(*ROW_UNUSED)[: LIST_CAP + 1])
    claimed = len(leads) if len(leads) <= LIST_CAP else mine.count()
    start, end = month_of(now)
    return MyDay(
        rows=queue_rows(user, leads[:LIST_CAP], now),
        claimed=claimed,
        unclaimed=incoming(user).filter(sdr__isnull=True).count(),
        sla=first_contact_stats(user, start, end, now),
        month=sdr_month(user, start, end),
        start=timezone.localtime(start).date(),
        end=timezone.localtime(end).date() - timedelta(days=1),
    )


def _mode() -> str:
    return str(SdrQueueSettings.get().get_mode_display())


@login_required
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not has_my_day(user):
        return _forbidden(request, _("This page is for the SDR team and the heads."))
    context = {
        "nav": "my_day",
        "day": my_day_figures(user, current_time()),
        "returns": open_returns(user),
        "mode": _mode(),
        "may_shift": user.role == Role.SDR,
    }
    return render(request, "web/sdr/my_day.html", context)


@login_required
@require_POST
def shift(request: HtmxHttpRequest) -> HttpResponse:
    """Go on or off shift: only SDRs on shift get requests in round-robin mode."""
    user = _user(request)
    if user.role != Role.SDR:
        return _forbidden(request, _("Only SDRs go on shift."))
    value = request.POST.get("on_shift", "")
    if value not in ("0", "1"):
        message = _("Say whether you go on shift (1) or off it (0).")
        if _partial(request):
            context = {"may_shift": True, "shift_error": message, "mode": _mode()}
            return render(request, "web/sdr/_shift.html", context, status=400)
        messages.error(request, message)
        return redirect("sdr:me")
    on = value == "1"
    User.objects.filter(pk=user.pk).update(on_shift=on)
    user.on_shift = on
    done = _("You are on shift.") if on else _("You are off shift.")
    if _partial(request):
        context = {"may_shift": True, "shift_done": done, "mode": _mode()}
        return render(request, "web/sdr/_shift.html", context)
    messages.success(request, done)
    return redirect("sdr:me")


# Queue settings -------------------------------------------------------------------------


class QueueSettingsForm(forms.ModelForm[SdrQueueSettings]):
    stale_hours = forms.IntegerField(
        label=gettext_lazy("A request has no end after, working hours"),
        min_value=1,
        max_value=MAX_STALE_HOURS,
    )

    class Meta:
        model = SdrQueueSettings
        fields = ["mode", "stale_hours"]
        widgets = {"mode": forms.RadioSelect}


@login_required
@require_http_methods(["GET", "POST"])
def queue_settings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not sets_up_queue(user):
        return _forbidden(
            request, _("Only the head of marketing and administrators set up the queue.")
        )
    row = SdrQueueSettings.get()
    status = 200
    if request.method == "POST":
        form = QueueSettingsForm(request.POST, instance=row)
        if form.is_valid():
            form.save()
            messages.success(request, _("The queue settings are saved."))
            return redirect("sdr:settings")
        status = 422
    else:
        form = QueueSettingsForm(instance=row)
    context = {
        "nav": "sdr_settings",
        "form": form,
        "on_shift": [str(u) for u in active_people(Role.SDR).filter(on_shift=True)],
    }
    return render(request, "web/sdr/settings.html", context, status=status)


# Requests with no end -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnendedRow:
    pk: int
    url: str
    title: str
    company: str
    received: str
    age: str
    status: str
    status_label: str
    owner: str
    owner_id: int | None
    service: str
    source: str


def working_ages(cal: BusinessCalendar, moments: Sequence[datetime], now: datetime) -> list[float]:
    """Working hours from each moment (oldest first) to now, walking the calendar once.

    ``elapsed(a, now) = elapsed(a, b) + elapsed(b, now)`` for ``a <= b``: from the newest
    back, each age adds only the stretch to the next newer one, so a year-old request
    costs no more than the days between it and its neighbour.
    """
    ages = [0.0] * len(moments)
    later, total = now, timedelta(0)
    for i in range(len(moments) - 1, -1, -1):
        moment = min(moments[i], later)
        total += cal.elapsed(moment, later)
        later = moment
        ages[i] = total.total_seconds() / 3600
    return ages


def oldest(stale: QuerySet[Lead], cap: int) -> tuple[list[Lead], int]:
    """The ``cap`` oldest of ``stale`` (requests on the SDR side), and how many there are.

    Asked for the oldest first, SQLite walks the index on ``received_at`` from the first
    request ever received, through every ended one, to reach the few still open (0.15 s
    at a million leads). Read in the queue's order instead, the rows come from the
    partial index ``lead_sdr_queue``, a few thousand at most: their ids and arrival
    times are sorted here, and only the page is read in full.
    """
    keys = sorted(
        stale.order_by("sla_due_at", "received_at", "pk").values_list("received_at", "pk")
    )
    page = [pk for _received, pk in keys[:cap]]
    by_pk = stale.select_related(*ROW_RELATED).defer(*ROW_UNUSED).in_bulk(page)
    return [by_pk[pk] for pk in page if pk in by_pk], len(keys)


class UnendedForm(forms.Form):
    hours = forms.IntegerField(
        label=gettext_lazy("Older than, working hours"),
        required=False,
        min_value=1,
        max_value=MAX_STALE_HOURS,
    )


@login_required
@require_GET
def unended_report(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not works_queue(user):
        return _forbidden(request, _("This report is the SDR team's."))
    form = UnendedForm(request.GET)
    context: dict[str, Any] = {"nav": "incoming", "form": form, "cap": LIST_CAP}
    if not form.is_valid():
        return render(request, "web/sdr/unended.html", context, status=400)
    now = current_time()
    cal = _default_calendar()[1]
    result = unended(cal, now, form.cleaned_data["hours"], visible=visible_leads(user))
    leads, total = oldest(result.leads, LIST_CAP)
    ages = working_ages(cal, [lead.received_at for lead in leads], now)
    statuses = {str(s.value): str(s.label) for s in Status}
    lead_url = _url_pattern("leads:detail")
    no_name = _("(no name)")
    context.update(
        hours=result.hours,
        cutoff=result.cutoff,
        total=total,
        rows=[
            UnendedRow(
                pk=lead.pk,
                url=lead_url.format(lead.pk),
                title=lead.name or lead.email or lead.phone or no_name,
                company=lead.company,
                received=when(lead.received_at),
                age=number_format(age, 1),
                status=lead.status,
                status_label=statuses.get(lead.status, lead.status),
                owner=_person(lead.sdr),
                owner_id=lead.sdr_id,
                service=str(lead.service) if lead.service else "—",
                source=str(lead.source) if lead.source else "—",
            )
            for lead, age in zip(leads, ages, strict=True)
        ],
    )
    return render(request, "web/sdr/unended.html", context)
