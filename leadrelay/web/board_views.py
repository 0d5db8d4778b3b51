"""The sales board: a manager's open leads in columns by status, moved with buttons or by
dragging, and the head of sales' view of every manager and their load.

The views only read filters, call ``leads.transitions.move_lead`` and render. A board
costs a fixed number of queries whatever the number of leads: the cards' keys come from
one windowed query (at most ``CARD_CAP`` + 1 per column, in the order of the partial
index ``lead_board``), the cards with what they show from a second, the columns' counts
and sums from one aggregate, and the month's ends from another.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET, require_POST

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.errors import LeadError, LeadNotFound, VersionConflict
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.statuses import Status, Transition
from leadrelay.leads.transitions import MoveOptions, allowed_moves, move_lead
from leadrelay.qualify.models import ReasonCode
from leadrelay.sales.access import SALES_OPEN, works_sales
from leadrelay.web.forms import active_people
from leadrelay.web.sdr_views import (
    _choices,
    _forbidden,
    _url_pattern,
    month_of,
    select_options,
    unindexed_is,
)
from leadrelay.web.templatetags.leadrelay_web import Countdown, countdown, when
from leadrelay.web.views import HtmxHttpRequest, _partial, _user

# The board's columns, in the order of the path.
COLUMNS: tuple[Status, ...] = tuple(Status(s) for s in SALES_OPEN)
# Where a card may go from the board: a column, or out of it as a deal or a loss.
BUTTON_TARGETS = frozenset({*COLUMNS, Status.CONVERTED, Status.LOST})
# The most cards a column shows at once; "Show more" brings the next ones.
CARD_CAP = 50
# "Deadline soon": the running SLA clock ends within this time.
SOON = timedelta(hours=24)
# What a card reads of the lead (besides its service, source and, for a head, owner).
CARD_FIELDS = (
    "id",
    "version",
    "status",
    "name",
    "email",
    "phone",
    "company",
    "manager_id",
    "service",
    "source",
    "deal_amount",
    "deal_currency",
    "status_changed_at",
    "sla_due_at",
    "sla_warn_at",
)

# A move's button on a card: the status labels are sentences, too long for a button.
MOVE_LABELS = {
    Status.DISCUSSION: pgettext_lazy("board move", "Accept"),
    Status.BRIEF_FILLED: pgettext_lazy("board move", "Brief filled"),
    Status.PROPOSAL: pgettext_lazy("board move", "To proposal"),
    Status.CONTRACT: pgettext_lazy("board move", "To contract"),
    Status.CONVERTED: pgettext_lazy("board move", "Converted"),
    Status.LOST: pgettext_lazy("board move", "Lost"),
}


def current_time() -> datetime:
    """The views' clock: one seam for tests to fake time with."""
    return timezone.now()


def heads_board(user: User) -> bool:
    """The head of sales and admins see every manager's board and their load."""
    return user.is_superuser or user.role in (Role.HEAD_SALES, Role.ADMIN)


# Who and what the board shows --------------------------------------------------------


def managers_for(user: User) -> list[User]:
    """The managers a head may pick: the active sales managers of their department
    (every one for an admin or a head outside any department)."""
    people = active_people(Role.SALES)
    if not (user.is_superuser or user.role == Role.ADMIN) and user.department_id is not None:
        people = people.filter(department_id=user.department_id)
    return list(people)


def board_leads(user: User, manager_id: int | None) -> QuerySet[Lead]:
    """The open sales leads this user's board shows: ``visible_leads`` in the board's
    statuses, narrowed to one manager when one is picked.

    A manager's own board is written as the bare ``manager = me`` (what ``visible_leads``
    amounts to in these statuses), so it reads the partial index ``lead_board`` (manager,
    status, status_changed_at) rather than a career of the manager's leads.
    """
    if not heads_board(user):
        return Lead.objects.filter(manager_id=user.pk, status__in=COLUMNS)
    leads = visible_leads(user).filter(status__in=COLUMNS)
    if manager_id is not None:
        leads = leads.filter(manager_id=manager_id)
    return leads


def _ended_leads(user: User, manager_id: int | None) -> QuerySet[Lead]:
    """The same people's leads that ended as a deal or a loss (the summary line)."""
    ends = (Status.CONVERTED, Status.LOST)
    if not heads_board(user):
        return Lead.objects.filter(manager_id=user.pk, status__in=ends)
    leads = visible_leads(user).filter(status__in=ends)
    if manager_id is not None:
        leads = leads.filter(manager_id=manager_id)
    return leads


# The filters -----------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


@dataclass(frozen=True)
class Cursor:
    """The last card shown in a column, in the column's order: oldest in status first."""

    changed: datetime
    pk: int

    @classmethod
    def parse(cls, text: str) -> Cursor | None:
        """The marker ``str()`` wrote, or None for no marker (the first cards)."""
        if not text:
            return None
        changed, pk = text.split(".")
        return cls(_EPOCH + int(changed) * _MICRO, int(pk))

    def __str__(self) -> str:
        return f"{(self.changed - _EPOCH) // _MICRO}.{self.pk}"

    def after(self) -> Q:
        return Q(status_changed_at__gt=self.changed) | Q(
            status_changed_at=self.changed, pk__gt=self.pk
        )


class BoardFilterForm(forms.Form):
    """The board's query string; the choices come from lists the view read once."""

    EVERYONE = ""
    SOON, OVERDUE = "soon", "overdue"
    CHOICES = ("manager", "service", "source", "deadline")
    # The filters a link to the board keeps (not the "Show more" position).
    KEPT = ("manager", "service", "source", "deadline", "q")

    manager = forms.TypedChoiceField(
        label=gettext_lazy("Manager"), required=False, coerce=int, empty_value=None
    )
    service = forms.TypedChoiceField(
        label=gettext_lazy("Service"), required=False, coerce=int, empty_value=None
    )
    source = forms.TypedChoiceField(
        label=gettext_lazy("Source"), required=False, coerce=int, empty_value=None
    )
    deadline = forms.ChoiceField(label=gettext_lazy("Deadline"), required=False)
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=200)
    column = forms.ChoiceField(
        required=False, choices=[("", ""), *((s.value, s.value) for s in COLUMNS)]
    )
    after = forms.CharField(required=False, max_length=60)

    def __init__(
        self,
        data: QueryDict,
        *,
        managers: Sequence[User],
        services: Sequence[Service],
        sources: Sequence[Source],
    ) -> None:
        super().__init__(data)
        _choices(
            self,
            "manager",
            [(self.EVERYONE, _("Everyone")), *((str(u.pk), str(u)) for u in managers)],
        )
        _choices(
            self, "service", [("", _("Any service")), *((str(s.pk), str(s)) for s in services)]
        )
        _choices(self, "source", [("", _("Any source")), *((str(s.pk), str(s)) for s in sources)])
        _choices(
            self,
            "deadline",
            [
                ("", _("Any deadline")),
                (self.SOON, _("Deadline within 24 hours")),
                (self.OVERDUE, _("Overdue")),
            ],
        )

    def clean_after(self) -> Cursor | None:
        """The "Show more" marker; a forged one is a form error, not a server error."""
        try:
            return Cursor.parse(self.cleaned_data["after"])
        except (ValueError, OverflowError):
            message = _("This page marker is not valid; start from the first page.")
            raise forms.ValidationError(message) from None

    def filter(self, leads: QuerySet[Lead], now: datetime) -> QuerySet[Lead]:
        """Narrow ``leads`` by the filters (not the manager, not the page)."""
        data = self.cleaned_data
        # Service and source must not steer the planner off the board's index onto theirs.
        if data["service"] is not None:
            leads = leads.filter(unindexed_is("service_id", data["service"]))
        if data["source"] is not None:
            leads = leads.filter(unindexed_is("source_id", data["source"]))
        if data["deadline"] == self.SOON:
            leads = leads.filter(sla_due_at__gte=now, sla_due_at__lt=now + SOON)
        elif data["deadline"] == self.OVERDUE:
            leads = leads.filter(sla_due_at__lt=now)
        text = data["q"].strip()
        if text:
            # A board holds hundreds of leads, not a million: a substring match is cheap.
            leads = leads.filter(Q(company__icontains=text) | Q(name__icontains=text))
        return leads

    def kept(self) -> dict[str, str]:
        """The filters as a link keeps them (only those set)."""
        return {k: str(self.data[k]) for k in self.KEPT if self.data.get(k)}


# Cards -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MoveButton:
    target: str
    label: str
    title: str
    tone: str


@dataclass(frozen=True, slots=True)
class Card:
    """One lead on the board, every label and link worked out for the template."""

    pk: int
    key: str
    version: str
    status: str
    url: str
    move_url: str
    title: str
    subtitle: str
    service: str
    value: str
    in_status: str
    sla: Countdown | None
    owner: str
    buttons: tuple[MoveButton, ...]
    # The columns the card may be dropped on (space-separated statuses).
    drops: str
    lost: bool


def money_text(amount: Decimal | None, currency: str) -> str:
    """An amount as people read it: grouped digits, no kopecks unless there are any."""
    if amount is None:
        return ""
    places = 0 if amount == amount.to_integral_value() else 2
    text = number_format(amount, places, use_l10n=True, force_grouping=True)
    return f"{text} {currency}".strip()


def sums_text(sums: dict[str, Decimal]) -> str:
    """Sums in several currencies, largest first; "—" when there is none."""
    shown = [money_text(v, c) for c, v in sorted(sums.items(), key=lambda kv: -kv[1]) if v]
    return " · ".join(shown) or "—"


def _buttons(user: User, lead: Lead) -> tuple[tuple[MoveButton, ...], str, bool]:
    """The moves a card offers: forward along the board, out as a deal, and a loss."""
    buttons = []
    drops = []
    lost = False
    moves: Iterable[Transition] = allowed_moves(user, lead)
    for move in moves:
        if move.backward or move.target not in BUTTON_TARGETS:
            continue
        if move.target == Status.LOST:
            lost = True
            continue
        if move.target in COLUMNS:
            drops.append(move.target.value)
        buttons.append(
            MoveButton(
                target=move.target.value,
                label=str(MOVE_LABELS.get(move.target, move.target.label)),
                title=str(move.target.label),
                tone="primary" if move.target in COLUMNS else "secondary",
            )
        )
    return tuple(buttons), " ".join(drops), lost


class _CardMaker:
    """Turns leads into cards with the page's strings and URLs worked out once."""

    def __init__(self, user: User, now: datetime, show_owner: bool) -> None:
        self.user = user
        self.now = now
        self.show_owner = show_owner
        self.no_name = _("(no name)")
        self.lead_url = _url_pattern("leads:detail")
        self.move_url = _url_pattern("board:move")
        self.names: dict[object, str] = {}

    def name_of(self, obj: object) -> str:
        if obj is None:
            return ""
        if obj not in self.names:
            self.names[obj] = str(obj)
        return self.names[obj]

    def card(self, lead: Lead) -> Card:
        person = lead.name or lead.email or lead.phone or self.no_name
        buttons, drops, lost = _buttons(self.user, lead)
        return Card(
            pk=lead.pk,
            key=str(lead.pk),
            version=str(lead.version),
            status=lead.status,
            url=self.lead_url.format(lead.pk),
            move_url=self.move_url.format(lead.pk),
            title=lead.company or person,
            subtitle=person if lead.company else "",
            service=self.name_of(lead.service),
            value=money_text(lead.deal_amount, lead.deal_currency),
            in_status=timesince(lead.status_changed_at, self.now, depth=1),
            sla=countdown(lead.sla_due_at, lead.sla_warn_at, self.now),
            owner=self.name_of(lead.manager) if self.show_owner else "",
            buttons=buttons,
            drops=drops,
            lost=lost,
        )


def _card_rows(leads: QuerySet[Lead], ids: Iterable[int], with_owner: bool) -> dict[int, Lead]:
    """The leads of ``ids`` with what their cards show, in one query."""
    related = ("service", "source", "manager") if with_owner else ("service", "source")
    fields = (*CARD_FIELDS, "manager") if with_owner else CARD_FIELDS
    return leads.select_related(*related).only(*fields).in_bulk(list(ids))


# Columns ----------------------------------------------------------------------------------


@dataclass
class Column:
    status: str
    label: str
    count: int = 0
    sums: dict[str, Decimal] = field(default_factory=dict)
    cards: list[Card] = field(default_factory=list)
    more_query: str = ""
    paged: bool = False  # showing a later page of cards (no-JS "Show more")

    @property
    def sums_text(self) -> str:
        return sums_text(self.sums)


def _columns_totals(leads: QuerySet[Lead]) -> dict[str, Column]:
    """Every column's count and sums per currency, from one aggregate."""
    columns = {s.value: Column(s.value, str(s.label)) for s in COLUMNS}
    rows = (
        leads.order_by()
        .values_list("status", "deal_currency")
        .annotate(n=Count("id"), total=Sum("deal_amount"))
    )
    for status, currency, n, total in rows:
        column = columns[status]
        column.count += n
        if total is not None and currency:
            column.sums[currency] = column.sums.get(currency, Decimal(0)) + total
    return columns


def _first_pages(leads: QuerySet[Lead]) -> dict[str, list[int]]:
    """Each column's first ``CARD_CAP`` + 1 lead ids, oldest in status first: one query.

    The window numbers each column's leads in the index's order; only the ids and
    statuses are read here, the cards' rows come after, by id.
    """
    ranked = (
        leads.order_by()
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("status"),
                order_by=(F("status_changed_at").asc(), F("id").asc()),
            )
        )
        .filter(rank__lte=CARD_CAP + 1)
        .values_list("status", "id", "rank")
    )
    pages: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for status, pk, rank in ranked:
        pages[status].append((rank, pk))
    return {status: [pk for _rank, pk in sorted(ids)] for status, ids in pages.items()}


# The head's load table ------------------------------------------------------------------


@dataclass
class LoadRow:
    pk: int
    name: str
    url: str
    counts: list[int]
    open: int = 0
    sums: dict[str, Decimal] = field(default_factory=dict)
    overdue: int = 0

    @property
    def sums_text(self) -> str:
        return sums_text(self.sums)


def load_table(
    user: User, managers: Sequence[User], now: datetime, keep: dict[str, str]
) -> list[LoadRow]:
    """Each manager's open leads per column, expected value and overdue deadlines: one
    aggregate over every board in the head's view, whatever the filters."""
    index = {s.value: i for i, s in enumerate(COLUMNS)}
    base = reverse("board:board")
    rows: dict[int, LoadRow] = {}

    def row_for(pk: int, name: str) -> LoadRow:
        if pk not in rows:
            query = urlencode({**keep, "manager": pk})
            rows[pk] = LoadRow(pk, name, f"{base}?{query}", [0] * len(COLUMNS))
        return rows[pk]

    for manager in managers:
        row_for(manager.pk, str(manager))
    figures = (
        board_leads(user, None)
        .order_by()
        .values_list("manager_id", "status", "deal_currency")
        .annotate(
            n=Count("id"),
            total=Sum("deal_amount"),
            late=Count("id", filter=Q(sla_due_at__lt=now)),
        )
    )
    unknown: set[int] = set()
    for manager_id, status, currency, n, total, late in figures:
        if manager_id not in rows:
            unknown.add(manager_id)
            row_for(manager_id, "")
        row = rows[manager_id]
        row.counts[index[status]] += n
        row.open += n
        row.overdue += late
        if total is not None and currency:
            row.sums[currency] = row.sums.get(currency, Decimal(0)) + total
    if unknown:
        # Leads of someone no longer active: named, though not offered in the picker.
        for person in User.objects.filter(pk__in=unknown):
            rows[person.pk].name = str(person)
    return list(rows.values())


# The page ------------------------------------------------------------------------------------


@dataclass
class Board:
    columns: list[Column]
    converted: int
    lost: int
    converted_url: str
    lost_url: str


def _month_ends(user: User, manager_id: int | None, now: datetime) -> tuple[int, int]:
    start, end = month_of(now)
    counts = dict(
        _ended_leads(user, manager_id)
        .filter(status_changed_at__gte=start, status_changed_at__lt=end)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return counts.get(Status.CONVERTED, 0), counts.get(Status.LOST, 0)


def _lead_list_url(status: Status, manager_id: int | None) -> str:
    params: dict[str, Any] = {"status": status.value}
    if manager_id is not None:
        params["manager"] = manager_id
    return f"{reverse('leads:list')}?{urlencode(params)}"


def _board_context(user: User, params: QueryDict, *, only_more: bool = False) -> dict[str, Any]:
    """Everything the board page or one of its parts shows, for these query parameters
    (``only_more``: just the next cards of one column, for "Show more")."""
    head = heads_board(user)
    managers = managers_for(user) if head else []
    if not head and "manager" in params:
        # A manager's board is their own, whatever a link says.
        params = params.copy()
        del params["manager"]
    form = BoardFilterForm(
        params,
        managers=managers,
        services=list(Service.objects.filter(active=True).order_by("name_en")),
        sources=list(Source.objects.order_by("name")),
    )
    context: dict[str, Any] = {
        "nav": "board",
        "form": form,
        "head": head,
        "options": {name: select_options(form, name) for name in BoardFilterForm.CHOICES},
        "board": None,
        "load": [],
        "here": reverse("board:board"),
        "filtered": False,
    }
    if not form.is_valid():
        return context
    now = current_time()
    manager_id: int | None = form.cleaned_data["manager"] if head else user.pk
    keep = form.kept()
    if not head:
        keep.pop("manager", None)
    context["here"] = reverse("board:board") + (f"?{urlencode(keep)}" if keep else "")
    context["filtered"] = any(k != "manager" for k in keep)
    context["manager_id"] = manager_id
    leads = form.filter(board_leads(user, manager_id if head else None), now)
    maker = _CardMaker(user, now, show_owner=head and manager_id is None)
    column_name: str = form.cleaned_data["column"]
    after: Cursor | None = form.cleaned_data["after"]
    more = _more_cards(leads, column_name, after, maker, keep) if column_name and after else None
    if more is not None and only_more:
        context["more"] = more
        return context
    columns = _columns_totals(leads)
    pages = _first_pages(leads)
    by_pk = _card_rows(leads, (pk for ids in pages.values() for pk in ids), maker.show_owner)
    for status, ids in pages.items():
        column = columns[status]
        shown = [by_pk[pk] for pk in ids[:CARD_CAP] if pk in by_pk]
        column.cards = [maker.card(lead) for lead in shown]
        if len(ids) > CARD_CAP and shown:
            column.more_query = _more_query(keep, status, shown[-1])
    if more is not None:
        # Without JavaScript "Show more" reloads the page with that column further on.
        more.count, more.sums, more.paged = (
            columns[more.status].count,
            columns[more.status].sums,
            True,
        )
        columns[more.status] = more
    converted, lost = _month_ends(user, manager_id, now)
    context["board"] = Board(
        columns=list(columns.values()),
        converted=converted,
        lost=lost,
        converted_url=_lead_list_url(Status.CONVERTED, manager_id),
        lost_url=_lead_list_url(Status.LOST, manager_id),
    )
    context["lost_options"] = _lost_options(columns.values())
    if head:
        context["load"] = load_table(
            user, managers, now, {k: v for k, v in keep.items() if k != "manager"}
        )
        context["columns_short"] = [str(MOVE_LABELS.get(s, s.label)) for s in COLUMNS]
    return context


def _more_query(keep: dict[str, str], status: str, last: Lead) -> str:
    cursor = Cursor(last.status_changed_at, last.pk)
    return urlencode({**keep, "column": status, "after": str(cursor)})


def _more_cards(
    leads: QuerySet[Lead], status: str, after: Cursor, maker: _CardMaker, keep: dict[str, str]
) -> Column:
    """The next cards of one column ("Show more"): one query."""
    related = ("service", "source", "manager") if maker.show_owner else ("service", "source")
    fields = (*CARD_FIELDS, "manager") if maker.show_owner else CARD_FIELDS
    rows = list(
        leads.filter(status=status)
        .filter(after.after())
        .select_related(*related)
        .only(*fields)
        .order_by("status_changed_at", "id")[: CARD_CAP + 1]
    )
    column = Column(status, str(Status(status).label))
    column.cards = [maker.card(lead) for lead in rows[:CARD_CAP]]
    if len(rows) > CARD_CAP:
        column.more_query = _more_query(keep, status, rows[CARD_CAP - 1])
    return column


def _lost_options(columns: Iterable[Column]) -> str:
    """The loss reason codes as ``<option>``s, read and rendered once for the page, and
    only when some card offers the loss."""
    if not any(card.lost for column in columns for card in column.cards):
        return ""
    codes = ReasonCode.objects.filter(kind=ReasonCode.Kind.LOST, active=True)
    return format_html(
        '<option value="">{}</option>{}',
        _("Choose a reason…"),
        format_html_join("", '<option value="{}">{}</option>', ((c.code, str(c)) for c in codes)),
    )


@login_required
@require_GET
def board(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    if not works_sales(user):
        return _forbidden(request, _("The board is the sales team's."))
    partial = _partial(request)
    context = _board_context(user, request.GET, only_more=partial)
    status = 200 if context["form"].is_valid() else 400
    if "more" in context:
        template = "web/board/_more.html"
    elif partial and request.htmx.target == "board":
        template = "web/board/_board.html"
    else:
        template = "web/board/board.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


# Moves ---------------------------------------------------------------------------------------


class BoardMoveForm(forms.Form):
    """A move from the board: the target, the version the card showed, and for a loss
    its reason code and the competitor."""

    to = forms.ChoiceField(choices=[(s.value, s.value) for s in sorted(BUTTON_TARGETS)])
    version = forms.IntegerField(min_value=1)
    reason_code = forms.CharField(required=False, max_length=40)
    competitor = forms.CharField(required=False, max_length=200)
    reason = forms.CharField(required=False, max_length=4000)


def _board_query(request: HttpRequest) -> QueryDict:
    """The filters of the board the move was made on (its ``next``), so the board is
    drawn again as the user had it."""
    target = request.POST.get("next", "")
    board_url = reverse("board:board")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(target)
        if parts.path == board_url:
            return QueryDict(parts.query)
    return QueryDict()


def _back(request: HttpRequest) -> str:
    query = _board_query(request)
    kept = {k: query[k] for k in BoardFilterForm.KEPT if query.get(k)}
    return reverse("board:board") + (f"?{urlencode(kept)}" if kept else "")


def _stale_message(user: User, lead_id: int) -> str:
    """Who changed the lead last, and when, for a user who may see it."""
    event = (
        LeadEvent.objects.filter(lead_id=lead_id)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    if event is None:
        return _("The lead was changed by someone else; reload the board.")
    who = str(event.actor) if event.actor is not None else _("the system")
    return _("Changed by %(name)s at %(time)s — reload the board.") % {
        "name": who,
        "time": when(event.at),
    }


def _card_response(
    request: HtmxHttpRequest,
    user: User,
    lead_id: int,
    *,
    status: int,
    message: str,
    missing: Sequence[dict[str, str]] = (),
    allowed: Sequence[str] = (),
    stale: bool = False,
) -> HttpResponse:
    """The card as it is in the database now, with what went wrong; a notice alone when
    the lead is no longer on this user's board."""
    query = _board_query(request)
    head = heads_board(user)
    manager = query.get("manager", "")
    show_owner = head and not manager
    lead = _card_rows(board_leads(user, None), [lead_id], show_owner).get(lead_id)
    card = _CardMaker(user, current_time(), show_owner).card(lead) if lead is not None else None
    context = {
        "card": card,
        "gone_pk": lead_id,
        "notice": message,
        "tone": "error",
        "missing": missing,
        "allowed": [str(MOVE_LABELS.get(Status(s), Status(s).label)) for s in allowed],
        "stale": stale,
        "here": _back(request),
        "lead_url": reverse("leads:detail", args=[lead_id]),
        "lost_options": _lost_options([Column("", "", cards=[card])]) if card else "",
    }
    return render(request, "web/board/_card_reply.html", context, status=status)


def _refused(request: HtmxHttpRequest, user: User, lead_id: int, exc: LeadError) -> HttpResponse:
    if isinstance(exc, LeadNotFound):
        message = _("This lead does not exist or is not visible to you.")
    elif isinstance(exc, VersionConflict) and exc.details:
        # Details come only for a lead the user may see: naming who changed it is safe.
        message = _stale_message(user, lead_id)
    else:
        message = exc.message
    if not _partial(request):
        messages.error(request, message)
        return redirect(_back(request))
    return _card_response(
        request,
        user,
        lead_id,
        status=exc.http_status,
        message=message,
        missing=exc.details.get("missing", ()),
        allowed=exc.details.get("allowed", ()),
        stale=isinstance(exc, VersionConflict),
    )


@login_required
@require_POST
def board_move(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Move a card: the same ``move_lead`` as the lead page, at the version the card
    showed. HTMX gets the whole board again (two columns' counts and sums changed) or,
    when refused, the card as it is now with the reason; without JavaScript, the board
    again with a message (post/redirect/get)."""
    user = _user(request)
    if not works_sales(user):
        return _forbidden(request, _("The board is the sales team's."))
    form = BoardMoveForm(request.POST)
    if not form.is_valid():
        message = _("The form is out of date; reload the board.")
        if _partial(request):
            return _card_response(request, user, lead_id, status=422, message=message)
        messages.error(request, message)
        return redirect(_back(request))
    data = form.cleaned_data
    try:
        move_lead(
            user,
            lead_id,
            data["to"],
            version=data["version"],
            reason=data["reason"],
            options=MoveOptions(reason_code=data["reason_code"], competitor=data["competitor"]),
        )
    except LeadError as exc:
        return _refused(request, user, lead_id, exc)
    done = _("#%(id)s moved to “%(status)s”.") % {
        "id": lead_id,
        "status": Status(data["to"]).label,
    }
    if not _partial(request):
        messages.success(request, done)
        return redirect(_back(request))
    context = _board_context(user, _board_query(request))
    context["notice"] = done
    response = render(request, "web/board/_board.html", context)
    response["HX-Retarget"] = "#board"
    response["HX-Reswap"] = "outerHTML"
    return response
