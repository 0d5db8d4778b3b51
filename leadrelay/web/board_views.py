"""The sales board: a manager's open leads in columns by status, moved with buttons or by
dragging, and the head of sales' view of every manager and their load.

The views only read filters, call ``leads.transitions.move_lead`` and render. A board
costs a fixed number of queries whatever the number of leads: the cards' keys come from
one windowed query (at most ``CARD_CAP`` + 1 per column, in the order of the
index ``lead_manager_status``), the cards with what they show from a second, the columns' counts
and sums from one aggregate, and the month's ends from another.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Q, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.http import HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy, pgettext_lazy
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
from leadrelay.web.templatetags.leadrelay_web import countdown, when
from leadrelay.web.views import HtmxHttpRequest, _partial, _user

# The board's columns, in the order of the path.
COLUMNS: tuple[Status, ...] = tuple(Status(s) for s in SALES_OPEN)
# Where a card may go from the board: a column, or out of it as a deal or a loss.
BUTTON_TARGETS = frozenset({*COLUMNS, Status.CONVERTED, Status.LOST})
# The most cards a column shows at once; "Show more" brings the next ones.
CARD_CAP = 50
# "Deadline soon": the running SLA clock ends within this time.
SOON = timedelta(hours=24)
# A move's button on a card: the status labels are sentences, too long for a button.
MOVE_LABELS = {
    Status.DISCUSSION: pgettext_lazy("board move", "Accept"),
    Status.BRIEF_FILLED: pgettext_lazy("board move", "Brief filled"),
    Status.PROPOSAL: pgettext_lazy("board move", "To proposal"),
    Status.CONTRACT: pgettext_lazy("board move", "To contract"),
    Status.CONVERTED: pgettext_lazy("board move", "Converted"),
    Status.LOST: pgettext_lazy("board move", "Lost"),
}


# The columns as the load table heads them: the status labels are sentences.
COLUMN_SHORT = {
    Status.ASSIGNED: pgettext_lazy("board column", "Assigned"),
    Status.DISCUSSION: pgettext_lazy("board column", "Discussion"),
    Status.BRIEF_FILLED: pgettext_lazy("board column", "Brief filled"),
    Status.PROPOSAL: pgettext_lazy("board column", "Proposal"),
    Status.CONTRACT: pgettext_lazy("board column", "Contract"),
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
    amounts to in these statuses), so it reads the index ``lead_manager_status`` (manager,
    status, status_changed_at) rather than a career of the manager's leads.
    """
    if not heads_board(user):
        return Lead.objects.filter(manager_id=user.pk, status__in=COLUMNS)
    if user.role == Role.HEAD_SALES and not user.is_superuser and user.department_id:
        # What ``visible_leads`` amounts to in the board's columns (a lead there always
        # has its manager; the queue and disputed returns are elsewhere), written as the
        # department's ids so each manager is read from the index; the scope's
        # ``manager_id + 0 IN (…)`` made SQLite scan every lead (1.3 s at a million).
        team: list[int] | None = getattr(user, "_board_team", None)
        if team is None:  # read once per request: the cards and the load table share it
            team = list(
                User.objects.filter(department_id=user.department_id).values_list("pk", flat=True)
            )
            user._board_team = team  # type: ignore[attr-defined]
        leads = Lead.objects.filter(manager_id__in=team, status__in=COLUMNS)
    else:
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
    """One lead on the board, as the page draws it."""

    pk: int
    status: str
    lost: bool  # the loss is on offer
    html: SafeString


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


# A card's markup. The board shows up to 250 cards; Django's template engine spends about
# a millisecond on each (a hundred variable lookups, translations, escaping), five times
# the page's whole budget. Written here from plain strings, with the page's labels
# worked out once and every value from the database escaped (the standard library's
# escape: Django's checks every argument for laziness), a card costs microseconds.
_CARD = (
    '<li id="card-{key}" class="board-card" draggable="true" data-lead="{key}" '
    'data-version="{version}" data-status="{status}" data-drops="{drops}">\n'
    '  <a class="board-card-title" href="{url}">{title}</a>{subtitle}\n'
    '  <div class="board-card-meta">{service}{value}</div>\n'
    '  <div class="board-card-meta"><span class="muted" title="{age_title}">{age}'
    "</span>{sla}</div>{owner}{notice}{moves}\n"
    "</li>"
)
_SLA = (
    '<span class="{}" data-sla-due="{}" data-sla-warn="{}" data-sla-state="{}">'
    '<span class="sla-dot" aria-hidden="true"></span><span class="sla-text">{}</span></span>'
)
_FORM = (
    '<form class="{cls}" method="post" action="{url}" hx-post="{url}" hx-target="#card-{key}" '
    'hx-swap="outerHTML">{hidden}<input type="hidden" name="version" value="{version}">{body}'
    "</form>"
)
_BUTTON = (
    '<button type="submit" name="to" value="{}" class="btn btn-sm btn-{}" title="{}" '
    'data-move="{}">{}</button>'
)
_LOST = (
    '<input type="hidden" name="to" value="lost">'
    '<label class="field"><span>{}</span><select name="reason_code" required>{}</select></label>'
    '<label class="field"><span>{}</span><input type="text" name="competitor" maxlength="200">'
    '</label><button type="submit" class="btn btn-sm btn-danger">{}</button>'
)
# What a card reads of the lead: plain columns, no joins; names come from the lists the
# page reads anyway (the filters' services, the picker's managers).
CARD_VALUES = (
    "id",
    "version",
    "status",
    "name",
    "email",
    "phone",
    "company",
    "manager_id",
    "service_id",
    "deal_amount",
    "deal_currency",
    "status_changed_at",
    "sla_due_at",
    "sla_warn_at",
)
# Time in status in its largest unit: (seconds in the unit, singular, plural).
_AGE_UNITS = (
    (86_400, ngettext_lazy("%(n)s day", "%(n)s days", "n")),
    (3_600, ngettext_lazy("%(n)s hour", "%(n)s hours", "n")),
    (60, ngettext_lazy("%(n)s minute", "%(n)s minutes", "n")),
)


@dataclass(frozen=True)
class Notice:
    """What went wrong with a move, shown on the card."""

    message: str
    missing: Sequence[dict[str, str]] = ()
    allowed: Sequence[str] = ()
    stale: bool = False


class _CardMaker:
    """Turns lead rows into cards with the page's strings, URLs and choices worked out
    once: the same labels, buttons and forms serve every card of a status."""

    def __init__(
        self,
        request: HttpRequest,
        user: User,
        now: datetime,
        *,
        here: str,
        services: dict[int, str],
        people: dict[int, str] | None,
    ) -> None:
        self.user = user
        self.now = now
        self.here = here
        self.services = services
        # The owners' names, when the cards show them (a head's board of everyone).
        self.people = people
        self.no_name = _("(no name)")
        self.lead_url = _url_pattern("leads:detail")
        self.move_url = _url_pattern("board:move")
        self.hidden = format_html(
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
            '<input type="hidden" name="next" value="{}">',
            get_token(request),
            here,
        )
        self.age_title = escape(_("In this status"))
        self.lost_label = escape(str(MOVE_LABELS[Status.LOST]))
        self.ages: dict[tuple[int, int], str] = {}
        self.moves: dict[tuple[str, bool], tuple[str, str, bool]] = {}
        self.move_forms: dict[tuple[str, bool], str] = {}
        self._lost_form: str | None = None

    @property
    def show_owner(self) -> bool:
        return self.people is not None

    def age(self, since: datetime) -> str:
        """Time in status, "3 days" or "5 hours": one translation per distinct value."""
        seconds = max(int((self.now - since).total_seconds()), 0)
        for size, label in _AGE_UNITS:
            if seconds >= size or size == 60:
                key = (size, seconds // size)
                if key not in self.ages:
                    self.ages[key] = escape(str(label % {"n": key[1]}))
                return self.ages[key]
        raise AssertionError("unreachable")  # pragma: no cover

    def moves_of(self, status: str, manager_id: int | None) -> tuple[str, str, bool]:
        """(the buttons, the columns it may be dropped on, the loss offered): the same
        for every card of one status and owner, so worked out once for each."""
        key = (status, manager_id == self.user.pk)
        if key not in self.moves:
            buttons, drops, lost = _buttons(self.user, Lead(status=status, manager_id=manager_id))
            html = format_html_join(
                "", _BUTTON, ((b.target, b.tone, b.title, b.target, b.label) for b in buttons)
            )
            self.moves[key] = (html, drops, lost)
        return self.moves[key]

    def lost_form(self) -> str:
        """The loss form's fields; the reason codes are read once, when first needed."""
        if self._lost_form is None:
            codes = ReasonCode.objects.filter(kind=ReasonCode.Kind.LOST, active=True)
            options = format_html(
                '<option value="">{}</option>{}',
                _("Choose a reason…"),
                format_html_join(
                    "", '<option value="{}">{}</option>', ((c.code, str(c)) for c in codes)
                ),
            )
            self._lost_form = format_html(
                _LOST, _("Reason"), options, _("Competitor (if known)"), _("Mark as lost")
            )
        return self._lost_form

    def notice_html(self, notice: Notice | None, url: str) -> str:
        if notice is None:
            return ""
        missing = ""
        if notice.missing:
            missing = format_html(
                '<ul>{}</ul><a href="{}">{}</a>',
                format_html_join("", "<li>{}</li>", ((m["label"],) for m in notice.missing)),
                url,
                _("Open the lead to fill them in"),
            )
        allowed = ""
        if notice.allowed:
            allowed = format_html(
                "<div>{} {}</div>", _("Allowed from here:"), ", ".join(notice.allowed)
            )
        reload = format_html(' <a href="{}">{}</a>', self.here, _("Reload")) if notice.stale else ""
        return format_html(
            '\n  <div class="board-notice" role="alert">{}{}{}{}</div>',
            notice.message,
            missing,
            allowed,
            reload,
        )

    def _moves_html(self, key: str, version: str, status: str, manager_id: int | None) -> str:
        """A card's move forms: written once per status and owner with the lead's id and
        version left as ``{key}`` and ``{version}``, then filled in for each card."""
        pattern_key = (status, manager_id == self.user.pk)
        if pattern_key not in self.move_forms:
            self.move_forms[pattern_key] = self._moves_pattern(status, manager_id)
        return self.move_forms[pattern_key].format(key=key, version=version)

    def _moves_pattern(self, status: str, manager_id: int | None) -> str:
        buttons, _drops, lost = self.moves_of(status, manager_id)
        if not (buttons or lost):
            return ""
        # Braces in the labels or the token must survive the per-card format().
        form = {
            "url": self.move_url.replace("{}", "{key}"),
            "key": "{key}",
            "hidden": self.hidden.replace("{", "{{").replace("}", "}}"),
            "version": "{version}",
        }
        parts = []
        if buttons:
            body = buttons.replace("{", "{{").replace("}", "}}")
            parts.append(_FORM.format(cls="board-move", body=body, **form))
        if lost:
            body = self.lost_form().replace("{", "{{").replace("}", "}}")
            lost_form = _FORM.format(cls="board-lost-form", body=body, **form)
            label = self.lost_label.replace("{", "{{").replace("}", "}}")
            parts.append(
                '<details class="board-lost"><summary class="btn btn-sm btn-danger">'
                f"{label}</summary>{lost_form}</details>"
            )
        return '\n  <div class="board-moves">' + "".join(parts) + "</div>"

    def card(self, row: dict[str, Any], notice: Notice | None = None) -> Card:
        """One card; ``row`` has the ``CARD_VALUES`` of a lead."""
        key, version, status = str(row["id"]), str(row["version"]), row["status"]
        person = row["name"] or row["email"] or row["phone"] or self.no_name
        url = self.lead_url.format(key)
        _buttons_html, drops, lost = self.moves_of(status, row["manager_id"])
        service = self.services.get(row["service_id"], "")
        value = money_text(row["deal_amount"], row["deal_currency"])
        sla = countdown(row["sla_due_at"], row["sla_warn_at"], self.now)
        owner = ""
        if self.people is not None and row["manager_id"] is not None:
            owner = self.people.get(row["manager_id"], "")
        html = _CARD.format(
            key=key,
            version=version,
            status=escape(status),
            drops=drops,
            url=url,
            title=escape(row["company"] or person),
            subtitle=(
                f'\n  <div class="board-card-sub">{escape(person)}</div>' if row["company"] else ""
            ),
            service=f"<span>{escape(service)}</span>" if service else "",
            value=f'<strong class="board-value">{escape(value)}</strong>' if value else "",
            age_title=self.age_title,
            age=self.age(row["status_changed_at"]),
            sla=format_html(_SLA, sla.css, sla.due, sla.warn, sla.state, sla.text) if sla else "",
            owner=(
                f'\n  <div class="board-card-owner muted small">{escape(owner)}</div>'
                if owner
                else ""
            ),
            notice=self.notice_html(notice, url),
            moves=self._moves_html(key, version, status, row["manager_id"]),
        )
        # Every value above from the database or a translation is escaped.
        return Card(pk=row["id"], status=status, lost=lost, html=mark_safe(html))


def _card_rows(leads: QuerySet[Lead], ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The rows of ``ids`` with what their cards show, in one query."""
    return {row["id"]: row for row in leads.filter(pk__in=list(ids)).values(*CARD_VALUES)}


def _owners(managers: Sequence[User], rows: Iterable[dict[str, Any]]) -> dict[int, str]:
    """The names of the cards' owners: the picker's managers, and (one query, only if
    there are any) the people no longer offered in it."""
    people = {u.pk: str(u) for u in managers}
    missing = {r["manager_id"] for r in rows if r["manager_id"] not in people} - {None}
    if missing:
        people.update((u.pk, str(u)) for u in User.objects.filter(pk__in=missing))
    return people


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


def _service_names() -> tuple[list[Service], dict[int, str]]:
    """The services the filter offers (active ones) and every service's name for the
    cards, from one query."""
    services = list(Service.objects.order_by("name_en"))
    return [s for s in services if s.active], {s.pk: str(s) for s in services}


def _board_context(
    request: HttpRequest, user: User, params: QueryDict, *, only_more: bool = False
) -> dict[str, Any]:
    """Everything the board page or one of its parts shows, for these query parameters
    (``only_more``: just the next cards of one column, for "Show more")."""
    head = heads_board(user)
    managers = managers_for(user) if head else []
    if not head and "manager" in params:
        # A manager's board is their own, whatever a link says.
        params = params.copy()
        del params["manager"]
    services, service_names = _service_names()
    form = BoardFilterForm(
        params,
        managers=managers,
        services=services,
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
    here = reverse("board:board") + (f"?{urlencode(keep)}" if keep else "")
    context.update(here=here, filtered=any(k != "manager" for k in keep), manager_id=manager_id)
    leads = form.filter(board_leads(user, manager_id if head else None), now)
    show_owner = head and manager_id is None

    def maker(rows: Iterable[dict[str, Any]]) -> _CardMaker:
        people = _owners(managers, rows) if show_owner else None
        return _CardMaker(request, user, now, here=here, services=service_names, people=people)

    column_name: str = form.cleaned_data["column"]
    after: Cursor | None = form.cleaned_data["after"]
    more = _more_cards(leads, column_name, after, maker, keep) if column_name and after else None
    if more is not None and only_more:
        context["more"] = more
        return context
    columns = _columns_totals(leads)
    pages = _first_pages(leads)
    by_pk = _card_rows(leads, (pk for ids in pages.values() for pk in ids))
    make = maker(by_pk.values())
    for status, ids in pages.items():
        column = columns[status]
        shown = [by_pk[pk] for pk in ids[:CARD_CAP] if pk in by_pk]
        column.cards = [make.card(row) for row in shown]
        if len(ids) > CARD_CAP and shown:
            column.more_query = _more_query(keep, status, shown[-1])
    if more is not None:
        # Without JavaScript "Show more" reloads the page with that column further on.
        first = columns[more.status]
        more.count, more.sums, more.paged = first.count, first.sums, True
        columns[more.status] = more
    converted, lost = _month_ends(user, manager_id, now)
    context["board"] = Board(
        columns=list(columns.values()),
        converted=converted,
        lost=lost,
        converted_url=_lead_list_url(Status.CONVERTED, manager_id),
        lost_url=_lead_list_url(Status.LOST, manager_id),
    )
    if head:
        others = {k: v for k, v in keep.items() if k != "manager"}
        context["load"] = load_table(user, managers, now, others)
        context["columns_short"] = [(str(COLUMN_SHORT[s]), str(s.label)) for s in COLUMNS]
    return context


def _more_query(keep: dict[str, str], status: str, last: dict[str, Any]) -> str:
    cursor = Cursor(last["status_changed_at"], last["id"])
    return urlencode({**keep, "column": status, "after": str(cursor)})


def _more_cards(
    leads: QuerySet[Lead],
    status: str,
    after: Cursor,
    maker: Callable[[Iterable[dict[str, Any]]], _CardMaker],
    keep: dict[str, str],
) -> Column:
    """The next cards of one column ("Show more"): one query."""
    rows = list(
        leads.filter(status=status)
        .filter(after.after())
        .order_by("status_changed_at", "id")
        .values(*CARD_VALUES)[: CARD_CAP + 1]
    )
    make = maker(rows)
    column = Column(status, str(Status(status).label))
    column.cards = [make.card(row) for row in rows[:CARD_CAP]]
    if len(rows) > CARD_CAP:
        column.more_query = _more_query(keep, status, rows[CARD_CAP - 1])
    return column


@login_required
@require_GET
def board(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    if not works_sales(user):
        return _forbidden(request, _("The board is the sales team's."))
    partial = _partial(request)
    context = _board_context(request, user, request.GET, only_more=partial)
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
    request: HtmxHttpRequest, user: User, lead_id: int, *, status: int, notice: Notice
) -> HttpResponse:
    """The card as it is in the database now, with what went wrong; a notice alone when
    the lead is no longer on this user's board."""
    here = _back(request)
    show_owner = heads_board(user) and not _board_query(request).get("manager")
    lead = _card_rows(board_leads(user, None), [lead_id]).get(lead_id)
    people = None
    if show_owner:
        people = _owners([], [lead] if lead is not None else [])
    maker = _CardMaker(
        request,
        user,
        current_time(),
        here=here,
        services=_service_names()[1] if lead is not None else {},
        people=people,
    )
    context = {
        "card": maker.card(lead, notice) if lead is not None else None,
        "gone_pk": lead_id,
        "notice": notice.message,
        "here": here,
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
    allowed = exc.details.get("allowed", ())
    notice = Notice(
        message,
        missing=exc.details.get("missing", ()),
        allowed=[str(MOVE_LABELS.get(Status(s), Status(s).label)) for s in allowed],
        stale=isinstance(exc, VersionConflict),
    )
    return _card_response(request, user, lead_id, status=exc.http_status, notice=notice)


@login_required
@require_POST
def board_move(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Move a card: the same ``move_lead`` as the lead page, at the version the card
    showed. HTMX gets the whole board again (two columns' counts and sums changed) or,
    when refused, the card as it is now with the reason; without JavaScript, the board
    again with a message (post/redirect/get)."""
    user = _user(request)
    if not works_sales(user):
        message = _("The board is the sales team's.")
        if _partial(request):
            return _card_response(request, user, lead_id, status=403, notice=Notice(message))
        return _forbidden(request, message)
    form = BoardMoveForm(request.POST)
    if not form.is_valid():
        message = _("The form is out of date; reload the board.")
        if _partial(request):
            return _card_response(request, user, lead_id, status=422, notice=Notice(message))
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
    context = _board_context(request, user, _board_query(request))
    context["notice"] = done
    response = render(request, "web/board/_board.html", context)
    response["HX-Retarget"] = "#board"
    response["HX-Reswap"] = "outerHTML"
    return response
