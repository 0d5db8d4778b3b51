"""The server-rendered pages: log in, the lead list, a lead, its moves and contacts.

Views are thin adapters: leads are found only through ``leads.queries`` (scoped to the
user), changed only through the domain (``leads.transitions``, ``qualify.answers``,
``qualify.returns``), and the domain's errors are turned into messages on the page.
Under HTMX the same templates render a partial. The lead page is also the SDR's
workspace: BANT, the questionnaires, the hand-off panel (see ``qualify_views`` for
their POST handlers).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Partner, Service
from leadrelay.leads.errors import LeadError, LeadNotFound
from leadrelay.leads.models import CallOutcome, Lead, LeadEvent, TouchChannel
from leadrelay.leads.queries import SDR_INCOMING, visible_leads
from leadrelay.leads.statuses import Stage, Status, Transition
from leadrelay.leads.transitions import (
    allowed_moves,
    log_touch,
    may_claim,
    may_touch,
    move_lead,
)
from leadrelay.qualify import fields as qf
from leadrelay.qualify.answers import (
    BANT_FIELDS,
    bant_missing,
    may_qualify,
    questionnaires_for,
    summary,
)
from leadrelay.qualify.handoff import SALES_HELD, is_return
from leadrelay.qualify.models import (
    Answers,
    Bant,
    BudgetBand,
    NeedCategory,
    Questionnaire,
    QuestionnaireVersion,
    ReasonCode,
    Return,
    TimeframeBand,
)
from leadrelay.qualify.returns import JUDGES
from leadrelay.web import panels
from leadrelay.web.forms import (
    LeadFilterForm,
    MoveForm,
    TouchForm,
    active_people,
    routing_departments,
)
from leadrelay.web.templatetags.leadrelay_web import Countdown, countdown, touch_label, when


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User), "login_required lets only real users through"
    return user


def _partial(request: HtmxHttpRequest) -> bool:
    """An HTMX swap wants a fragment; a history restore wants the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


login = auth_views.LoginView.as_view(
    template_name="web/login.html", redirect_authenticated_user=True
)
logout = auth_views.LogoutView.as_view()


# The lead list ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeadRow:
    """One line of the lead list, with every label and link worked out in the view.

    A page has 50 of them; resolving translations, dates and URLs once per page here
    instead of once per cell in the template is what keeps the list fast at scale.
    """

    pk: int
    url: str
    received: str
    title: str
    company: str
    service: str
    source: str
    status: str
    status_label: str
    stage: str
    sdr: str
    manager: str
    sla: Countdown | None


def _lead_rows(leads: list[Lead], now: datetime) -> list[LeadRow]:
    no_name = _("(no name)")
    status_labels = {str(s.value): str(s.label) for s in Status}
    stage_labels = {stage: str(stage.label) for stage in Stage}
    # One reverse() for the page; the lead's id is the URL's only variable part.
    sentinel = 2_147_483_647
    url_pattern = reverse("leads:detail", args=[sentinel]).replace(str(sentinel), "{}")
    names: dict[object, str] = {}

    def name_of(obj: object) -> str:
        if obj is None:
            return "—"
        if obj not in names:
            names[obj] = str(obj)
        return names[obj]

    rows = []
    for lead in leads:
        stage = lead.stage
        rows.append(
            LeadRow(
                pk=lead.pk,
                url=url_pattern.format(lead.pk),
                received=when(lead.received_at),
                title=lead.name or lead.email or lead.phone or no_name,
                company=lead.company,
                service=name_of(lead.service),
                source=name_of(lead.source),
                status=lead.status,
                status_label=status_labels.get(lead.status, lead.status),
                stage=stage_labels[stage] if stage is not None else "—",
                sdr=name_of(lead.sdr),
                manager=name_of(lead.manager),
                sla=countdown(lead.sla_due_at, lead.sla_warn_at, now),
            )
        )
    return rows


def _page_query(params: QueryDict, cursor: int | None) -> str:
    params = params.copy()
    params.pop("cursor", None)
    if cursor is not None:
        params["cursor"] = str(cursor)
    return params.urlencode()


@login_required
@require_GET
def lead_list(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    form = LeadFilterForm(request.GET)
    valid = form.is_valid()
    leads: list[Lead] = []
    next_query = first_query = None
    if valid:
        size: int = settings.LEADRELAY_PAGE_SIZE
        page = form.filter(visible_leads(user)).select_related(
            "service", "source", "sdr", "manager"
        )
        # Keyset pagination: one extra row says whether there is a next page, so no
        # page ever needs OFFSET or a COUNT(*) over the whole table.
        leads = list(page.order_by("-id")[: size + 1])
        if len(leads) > size:
            leads = leads[:size]
            next_query = _page_query(request.GET, leads[-1].pk)
        if form.cleaned_data["cursor"] is not None:
            first_query = _page_query(request.GET, None)
    context = {
        "nav": "leads",
        "form": form,
        "rows": _lead_rows(leads, timezone.now()),
        "next_query": next_query,
        "first_query": first_query,
        "filtered": any(v for k, v in request.GET.items() if k != "cursor"),
    }
    template = "web/leads/_results.html" if _partial(request) else "web/leads/list.html"
    response = render(request, template, context, status=200 if valid else 400)
    patch_vary_headers(response, ("HX-Request",))
    return response


# One lead -------------------------------------------------------------------------------

# Who works the SDR side: they see the hand-off panel on a request still with the SDR.
SDR_TEAM = frozenset({Role.SDR, Role.HEAD_MARKETING, Role.ADMIN})
# The ends of the SDR's work, each offered in the hand-off panel with the inputs it needs
# (a reason code, a partner, a department), never as a bare button.
HANDOFF_TARGETS = (Status.AWAITING_ASSIGNMENT, Status.DISQUALIFIED, Status.REFERRED, Status.ROUTED)
# The parts of the lead page a form updates in place (by the id of their element); the
# other parts that may have changed come along as out-of-band swaps (_lead_update.html).
PARTIAL_PLACES = frozenset({"bant", "handoff-panel", "lead-touch", "lead-note"})
QUESTIONNAIRE_PLACE = "questionnaire-"
# Answer inputs are named "a-<key>", so a question's key never clashes with the form's own.
ANSWER_PREFIX = "a-"


@dataclass(frozen=True)
class MoveChoice:
    """A button on the lead page: one allowed move and the inputs it asks for."""

    target: Status
    backward: bool
    reason_required: bool
    needs_manager: bool
    needs_partner: bool
    needs_department: bool
    # The list a reason code comes from ("return", "lost") and whether the move needs one.
    code_kind: str = ""
    code_required: bool = False

    @property
    def label(self) -> str:
        if self.code_kind == ReasonCode.Kind.RETURN:
            return _("Return to the SDR")
        return str(self.target.label)

    @property
    def tone(self) -> str:
        """How the button looks: the path forward, a side exit, a dead end, or back."""
        if self.backward:
            return "back"
        if self.target in (Status.DISQUALIFIED, Status.LOST):
            return "danger"
        if self.target in (Status.REFERRED, Status.ROUTED):
            return "secondary"
        return "primary"

    @property
    def comment_required(self) -> bool:
        """A written reason is needed unless a reason code is (a code is a reason)."""
        return self.reason_required and not self.code_required

    @property
    def has_inputs(self) -> bool:
        return (
            self.reason_required
            or self.needs_manager
            or self.needs_partner
            or self.needs_department
            or bool(self.code_kind)
        )


# The path forward first, sending a lead back last.
_TONE_ORDER = {"primary": 0, "secondary": 1, "danger": 2, "back": 3}


def _move_choice(user: User, move: Transition) -> MoveChoice:
    returned = is_return(user, move)
    return MoveChoice(
        target=move.target,
        backward=move.backward,
        reason_required=move.reason_required,
        # A sales manager who takes a lead assigns it to themselves; others pick one.
        needs_manager=move.target == Status.ASSIGNED and user.role != Role.SALES,
        needs_partner=move.target == Status.REFERRED,
        needs_department=move.target == Status.ROUTED,
        code_kind=(
            ReasonCode.Kind.RETURN
            if returned
            else ReasonCode.Kind.DISQUALIFY
            if move.target == Status.DISQUALIFIED
            else ReasonCode.Kind.LOST
            if move.target == Status.LOST
            else ""
        ),
        code_required=returned or move.target == Status.DISQUALIFIED,
    )


@dataclass
class Posted:
    """What the user sent in a qualification form that was refused, shown again as typed
    next to its errors (and, for a questionnaire, against the version they posted to)."""

    bant: dict[str, Any] | None = None
    bant_errors: dict[str, str] = dc_field(default_factory=dict)
    version: QuestionnaireVersion | None = None
    answers: dict[str, Any] = dc_field(default_factory=dict)
    answer_errors: dict[str, str] = dc_field(default_factory=dict)


class _ReasonCodes:
    """The configurable reason codes, read once per page and only if something needs them."""

    def __init__(self) -> None:
        self._rows: list[ReasonCode] | None = None

    def _all(self) -> list[ReasonCode]:
        if self._rows is None:
            self._rows = list(ReasonCode.objects.all())
        return self._rows

    def active(self, kind: str) -> list[ReasonCode]:
        """What ``qualify.handoff.reason_codes(kind)`` gives, from the one query."""
        return [c for c in self._all() if c.kind == kind and c.active]

    def label(self, kind: str, code: str) -> str:
        for c in self._all():
            if c.kind == kind and c.code == code:
                return str(c)
        return code


# The lead page's qualification part -----------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class AnswerInput:
    """One question of a questionnaire form, with its value as shown and its error."""

    key: str
    type: str
    name: str
    id: str
    label: str
    help: str
    required: bool
    value: str = ""
    amount: str = ""
    currency: str = ""
    options: tuple[Option, ...] = ()
    error: str = ""

    @property
    def as_radios(self) -> bool:
        """A short single choice reads best as radio buttons, a long one as a list."""
        return len(self.options) <= 4


@dataclass(frozen=True)
class QuestionnaireForm:
    questionnaire_id: int
    slug: str
    title: str
    version_id: int
    version_number: int
    # The newest published version, when this lead keeps an older one.
    newer: int | None
    inputs: list[AnswerInput]
    saved_at: datetime | None
    errors: list[str]

    @property
    def element_id(self) -> str:
        return QUESTIONNAIRE_PLACE + self.slug


@dataclass(frozen=True)
class CheckItem:
    """One thing the hand-off needs, done or not, and where on the page it is filled."""

    field: str
    label: str
    done: bool
    anchor: str


def _bant_of(lead: Lead) -> Bant | None:
    try:
        return lead.bant
    except Bant.DoesNotExist:
        return None


def _plain_amount(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _bant_values(bant: Bant | None) -> dict[str, str]:
    if bant is None:
        return {k: "" for k in BANT_FIELDS} | {"currency": "RUB"}
    return {
        "budget_amount": _plain_amount(bant.budget_amount),
        "budget_band": bant.budget_band,
        "currency": bant.currency,
        "authority_role": bant.authority_role,
        "decision_maker": {True: "yes", False: "no", None: ""}[bant.decision_maker],
        "need": bant.need.code if bant.need is not None else "",
        "need_text": bant.need_text,
        "timeframe_date": bant.timeframe_date.isoformat() if bant.timeframe_date else "",
        "timeframe_band": bant.timeframe_band,
    }


def _options(choices: Any, chosen: str, blank: str | None = None) -> list[Option]:
    options = [Option("", blank, chosen == "")] if blank is not None else []
    options.extend(Option(str(v), str(label), str(v) == chosen) for v, label in choices)
    return options


def _bant_form(bant: Bant | None, posted: Posted) -> dict[str, Any]:
    """The BANT form's values (as typed after a refusal), errors and choices."""
    values = _bant_values(bant)
    if posted.bant is not None:
        values = {k: str(posted.bant.get(k) or "") for k in BANT_FIELDS}
    needs = [(n.code, str(n)) for n in NeedCategory.objects.filter(active=True)]
    if bant is not None and bant.need is not None and not bant.need.active:
        needs.append((bant.need.code, str(bant.need)))
    not_chosen = _("Not chosen")
    return {
        "values": values,
        "errors": posted.bant_errors,
        "other_errors": [m for k, m in posted.bant_errors.items() if k not in BANT_FIELDS],
        "budget_bands": _options(BudgetBand.choices, values["budget_band"], not_chosen),
        "currencies": _options(((c, c) for c in qf.CURRENCIES), values["currency"] or "RUB"),
        "needs": _options(needs, values["need"], not_chosen),
        "timeframe_bands": _options(TimeframeBand.choices, values["timeframe_band"], not_chosen),
        "decision": _options(
            (("yes", _("Yes")), ("no", _("No")), ("", _("Not known"))), values["decision_maker"]
        ),
        "saved_at": bant.updated_at if bant is not None else None,
    }


def _shown(field: qf.Field, value: Any) -> tuple[str, list[str], dict[str, str]]:
    """An answer (stored, or as posted) as a form shows it: text, the chosen values, money."""
    if value is None:
        value = ""
    if field.type == qf.FieldType.MULTI_CHOICE:
        items = value if isinstance(value, list) else [value]
        return "", [str(v) for v in items], {}
    if field.type == qf.FieldType.MONEY:
        money = value if isinstance(value, dict) else {}
        return "", [], {k: str(money.get(k) or "") for k in ("amount", "currency")}
    if field.type == qf.FieldType.YES_NO and isinstance(value, bool):
        return ("yes" if value else "no"), [], {}
    return str(value), [], {}


def _answer_input(field: qf.Field, slug: str, value: Any, error: str) -> AnswerInput:
    text, chosen, money = _shown(field, value)
    options: tuple[Option, ...] = ()
    if field.type == qf.FieldType.CHOICE:
        options = tuple(Option(v, label, v == text) for v, label in field.choice_options)
    elif field.type == qf.FieldType.MULTI_CHOICE:
        options = tuple(Option(v, label, v in chosen) for v, label in field.choice_options)
    elif field.type == qf.FieldType.YES_NO:
        options = (
            Option("yes", _("Yes"), text == "yes"),
            Option("no", _("No"), text == "no"),
            Option("", _("Not known"), text not in ("yes", "no")),
        )
    elif field.type == qf.FieldType.MONEY:
        currency = money.get("currency") or "RUB"
        options = tuple(Option(c, c, c == currency) for c in qf.CURRENCIES)
    return AnswerInput(
        key=field.key,
        type=field.type,
        name=ANSWER_PREFIX + field.key,
        id=f"{slug}-{field.key}",
        label=field.label,
        help=field.help,
        required=field.required,
        value=text,
        amount=money.get("amount", ""),
        currency=money.get("currency", ""),
        options=options,
        error=error,
    )


def questionnaire_slug(questionnaire: Questionnaire) -> str:
    """A questionnaire's stable name on the page: "common" or its service's code."""
    if questionnaire.common or questionnaire.service is None:
        return "common"
    return questionnaire.service.code


def _latest_versions(ids: list[int]) -> dict[int, QuestionnaireVersion]:
    """The newest version of each questionnaire, in one query."""
    if not ids:
        return {}
    newest = (
        QuestionnaireVersion.objects.filter(questionnaire=OuterRef("questionnaire"))
        .order_by("-number")
        .values("number")[:1]
    )
    return {
        v.questionnaire_id: v
        for v in QuestionnaireVersion.objects.filter(questionnaire__in=ids, number=Subquery(newest))
    }


def _qualification(
    lead: Lead, bant: Bant | None, posted: Posted, *, editable: bool
) -> tuple[list[QuestionnaireForm], list[CheckItem], bool]:
    """The questionnaire forms, the hand-off checklist, and whether anything is recorded.

    Three queries whatever the number of questionnaires and questions: the lead's
    questionnaires, its answers with their versions, and the newest versions.
    """
    questionnaires = questionnaires_for(lead)
    for q in questionnaires:
        if q.service_id is not None and q.service_id == lead.service_id:
            q.service = lead.service  # already joined to the lead: no query for the title
    given = {
        a.questionnaire_id: a for a in Answers.objects.filter(lead=lead).select_related("version")
    }
    latest = _latest_versions([q.pk for q in questionnaires])
    forms: list[QuestionnaireForm] = []
    # What the gate checks (answers.handoff_missing), from the rows already read.
    checklist = [
        CheckItem(
            "service",
            _("The service the client asks for"),
            lead.service_id is not None,
            "lead-request",
        )
    ]
    missing_bant = dict(bant_missing(bant))
    for key, label in bant_missing(None):
        anchor = {
            "bant.budget": "bant-budget_amount",
            "bant.authority": "bant-authority_role",
            "bant.need": "bant-need",
            "bant.timeframe": "bant-timeframe_date",
        }[key]
        checklist.append(CheckItem(key, label, key not in missing_bant, anchor))
    for q in questionnaires:
        slug = questionnaire_slug(q)
        answers = given.get(q.pk)
        saved_version = answers.version if answers is not None else latest.get(q.pk)
        if saved_version is None:
            continue
        saved = answers.values if answers is not None else {}
        for f in qf.fields_of(saved_version.fields):
            if f.required:
                done = saved.get(f.key) not in (None, "", [])
                checklist.append(CheckItem(f"answers.{f.key}", f.label, done, f"{slug}-{f.key}"))
        if not editable:
            continue
        version, values, errors = saved_version, saved, {}
        if posted.version is not None and posted.version.questionnaire_id == q.pk:
            # Shown again as the SDR posted it: their version, their values, the errors.
            version, values, errors = posted.version, posted.answers, posted.answer_errors
        elif answers is not None and answers.version_id != version.pk:
            values = {}
        fields = qf.fields_of(version.fields)
        newest = latest.get(q.pk)
        forms.append(
            QuestionnaireForm(
                questionnaire_id=q.pk,
                slug=slug,
                title=str(q),
                version_id=version.pk,
                version_number=version.number,
                newer=newest.number if newest and newest.number > version.number else None,
                inputs=[
                    _answer_input(f, slug, values.get(f.key), errors.get(f.key, "")) for f in fields
                ],
                saved_at=answers.updated_at if answers is not None else None,
                errors=[m for k, m in errors.items() if k not in {f.key for f in fields}],
            )
        )
    return forms, checklist, bool(given) or bant is not None


# The lead page's history ----------------------------------------------------------------


@dataclass(frozen=True)
class HistoryItem:
    """One event as the history reads it, every label resolved in the current language."""

    at: datetime
    actor: str
    kind: str
    title: str = ""
    from_status: str = ""
    from_label: str = ""
    to_status: str = ""
    to_label: str = ""
    details: tuple[str, ...] = ()
    note: str = ""


def call_length(seconds: int) -> str:
    """A call's duration as people say it: 4:05, or 1:02:03 from an hour on."""
    hours, rest = divmod(max(seconds, 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _Names:
    """Names of the people, partners, departments and questionnaire versions the history
    mentions: those already on the page for free, the rest in one query per kind."""

    def __init__(self, lead: Lead, events: list[LeadEvent]) -> None:
        self.people: dict[int, str] = {}
        for event in events:
            if event.actor is not None:
                self.people[event.actor.pk] = str(event.actor)
        for person in (lead.sdr, lead.manager):
            if person is not None:
                self.people[person.pk] = str(person)
        wanted: dict[str, set[int]] = {"people": set(), "partner": set(), "routed_to": set()}
        pairs: set[tuple[int, int]] = set()
        for event in events:
            data = event.data or {}
            for key in ("sdr", "sdr_before", "manager", "previous"):
                if isinstance(data.get(key), int) and data[key] not in self.people:
                    wanted["people"].add(data[key])
            for key in ("partner", "routed_to"):
                if isinstance(data.get(key), int):
                    wanted[key].add(data[key])
            if event.kind == LeadEvent.Kind.QUALIFICATION:
                q, n = data.get("questionnaire"), data.get("version")
                if isinstance(q, int) and isinstance(n, int):
                    pairs.add((q, n))
        if wanted["people"]:
            self.people.update((u.pk, str(u)) for u in User.objects.filter(pk__in=wanted["people"]))
        self.partners = self._named(Partner, wanted["partner"], lead.partner)
        self.departments = self._named(Department, wanted["routed_to"], lead.routed_to)
        self.versions: dict[tuple[int, int], QuestionnaireVersion] = {}
        if pairs:
            match = Q()
            for q, n in pairs:
                match |= Q(questionnaire_id=q, number=n)
            self.versions = {
                (v.questionnaire_id, v.number): v
                for v in QuestionnaireVersion.objects.filter(match).select_related(
                    "questionnaire__service"
                )
            }

    @staticmethod
    def _named(model: Any, ids: set[int], known: Any) -> dict[int, str]:
        names = {known.pk: str(known)} if known is not None else {}
        if ids - set(names):
            names.update((o.pk, str(o)) for o in model.objects.filter(pk__in=ids - set(names)))
        return names

    def person(self, pk: Any) -> str:
        return self.people.get(pk, "—") if pk is not None else "—"


_BANT_LABELS = {f: getattr(Bant._meta.get_field(f), "verbose_name", f) for f in BANT_FIELDS}


def _status_details(event: LeadEvent, names: _Names, codes: _ReasonCodes) -> list[str]:
    data = event.data or {}
    details = []
    code = data.get("reason_code")
    if code:
        kind = {
            Status.DISQUALIFIED: ReasonCode.Kind.DISQUALIFY,
            Status.LOST: ReasonCode.Kind.LOST,
        }.get(Status(event.to_status), ReasonCode.Kind.RETURN)
        details.append(_("Reason: %(reason)s") % {"reason": codes.label(kind, str(code))})
    if "sdr" in data:
        if data["sdr"] is None:
            details.append(_("SDR: none, back in the queue"))
        else:
            details.append(_("SDR: %(name)s") % {"name": names.person(data["sdr"])})
    if data.get("manager") is not None:
        details.append(_("Sales manager: %(name)s") % {"name": names.person(data["manager"])})
    if data.get("partner") is not None:
        details.append(_("Partner: %(name)s") % {"name": names.partners.get(data["partner"], "—")})
    if data.get("routed_to") is not None:
        details.append(
            _("Routed to: %(name)s") % {"name": names.departments.get(data["routed_to"], "—")}
        )
    return details


def _history_item(event: LeadEvent, names: _Names, codes: _ReasonCodes) -> HistoryItem:
    data = event.data or {}
    kind = event.kind
    item = HistoryItem(
        at=event.at,
        actor=str(event.actor) if event.actor is not None else _("system"),
        kind=kind,
        note=event.reason,
    )
    if kind in (LeadEvent.Kind.CREATED, LeadEvent.Kind.STATUS):
        returned = (
            kind == LeadEvent.Kind.STATUS
            and event.to_status == Status.SDR_PROCESSING
            and event.from_status in SALES_HELD
            and bool(data.get("reason_code"))
        )
        return replace(
            item,
            title=_("Returned to the SDR") if returned else "",
            from_status=event.from_status,
            from_label=event.get_from_status_display() if event.from_status else "",
            to_status=event.to_status,
            to_label=event.get_to_status_display(),
            details=tuple(_status_details(event, names, codes)),
        )
    if kind == LeadEvent.Kind.TOUCH:
        title = touch_label(data)
        if isinstance(data.get("duration"), int):
            title += ", " + call_length(data["duration"])
        details: tuple[str, ...] = ()
        if data.get("sdr") is not None:
            details = (_("Now owned by %(name)s") % {"name": names.person(data["sdr"])},)
        return replace(item, title=_("Contact: %(what)s") % {"what": title}, details=details)
    if kind == LeadEvent.Kind.NOTE:
        return replace(item, title=_("Note"))
    if kind == LeadEvent.Kind.OWNER:
        who, before = names.person(data.get("sdr")), names.person(data.get("sdr_before"))
        title = {
            "claimed": _("Claimed by %(name)s"),
            "reassigned": _("Reassigned from %(before)s to %(name)s"),
            "round_robin": _("Given to %(name)s in turn (round-robin)"),
        }.get(str(data.get("why")), _("Owner: %(name)s"))
        return replace(item, title=title % {"name": who, "before": before})
    if kind == LeadEvent.Kind.QUALIFICATION and "service" in data:
        service = Service.objects.filter(code=str(data["service"])).first()
        return replace(
            item,
            title=_("Service named: %(service)s") % {"service": service or data["service"]},
        )
    if kind == LeadEvent.Kind.QUALIFICATION:
        changed = [str(k) for k in data.get("changed") or []]
        if data.get("bant"):
            title = _("BANT saved")
            labels = [str(_BANT_LABELS.get(k, k)) for k in changed]
        else:
            q, n = data.get("questionnaire"), data.get("version")
            version = (
                names.versions.get((q, n)) if isinstance(q, int) and isinstance(n, int) else None
            )
            by_key = {f.key: f.label for f in qf.fields_of(version.fields)} if version else {}
            title = _("Questionnaire “%(title)s”, version %(number)s, saved") % {
                "title": str(version.questionnaire) if version else "?",
                "number": n,
            }
            labels = [by_key.get(k, k) for k in changed]
        changes: tuple[str, ...] = ()
        if labels:
            changes = (_("Changed: %(fields)s") % {"fields": ", ".join(labels)},)
        return replace(item, title=title, details=changes)
    if kind == LeadEvent.Kind.RETURN:
        state = str(data.get("state", ""))
        label = Return.State(state).label if state in Return.State.values else state
        return replace(item, title=_("Return: %(state)s") % {"state": label})
    title = _sales_title(event, data, names)
    return replace(item, title=title or event.get_kind_display())


def _money_label(data: dict[str, Any], key: str = "amount") -> str:
    try:
        amount = Decimal(str(data.get(key)))
    except (InvalidOperation, ValueError):
        return ""
    number = formats.number_format(amount, 2, use_l10n=True, force_grouping=True)
    return f"{number} {data.get('currency', '')}".strip()


def _sales_title(event: LeadEvent, data: dict[str, Any], names: _Names) -> str:
    """The history line of a sales record: assignment, brief, demo, proposal, contract,
    payment (their data is written by the sales, presale and deals apps)."""
    kind, action = event.kind, str(data.get("action", ""))
    if kind == LeadEvent.Kind.ASSIGNMENT:
        who = names.person(data.get("manager"))
        how = str(data.get("how", ""))
        if how == "reassign":
            return _("Reassigned from %(before)s to %(name)s") % {
                "before": names.person(data.get("previous")),
                "name": who,
            }
        if how == "auto":
            return _("Assigned to %(name)s by the rules") % {"name": who}
        if how == "self":
            return _("Taken by %(name)s") % {"name": who}
        return _("Assigned to %(name)s") % {"name": who}
    if kind == LeadEvent.Kind.BRIEF:
        if action == "sent":
            return _("Brief sent to %(to)s") % {"to": data.get("to") or "—"}
        if action == "filled":
            return (
                _("Brief filled in by the client")
                if data.get("via") == "client"
                else (_("Brief filled in from a call"))
            )
        if action == "revoked":
            return _("Brief link withdrawn")
    if kind == LeadEvent.Kind.DEMO:
        labels = {
            "scheduled": _("Demo scheduled"),
            "rescheduled": _("Demo rescheduled"),
            "held": _("Demo held"),
            "cancelled": _("Demo cancelled"),
            "no_show": _("The client missed the demo"),
        }
        return str(labels.get(action, ""))
    if kind == LeadEvent.Kind.PROPOSAL:
        labels = {
            "created": _("Proposal version %(version)s: %(amount)s"),
            "sent": _("Proposal version %(version)s sent"),
            "accepted": _("Proposal version %(version)s accepted"),
            "rejected": _("Proposal version %(version)s rejected"),
        }
        label = labels.get(action)
        return (
            label % {"version": data.get("version"), "amount": _money_label(data)} if label else ""
        )
    if kind == LeadEvent.Kind.CONTRACT:
        return _("Contract saved: %(value)s") % {"value": _money_label(data, "value")}
    if kind == LeadEvent.Kind.PAYMENT:
        return _("Payment of %(amount)s") % {"amount": _money_label(data)}
    return ""


# The lead page's returns ----------------------------------------------------------------


@dataclass(frozen=True)
class ReturnRow:
    ret: Return
    reason_label: str
    state_label: str
    may_decide: bool
    may_judge: bool


def _returns(user: User, lead: Lead, codes: _ReasonCodes) -> list[ReturnRow]:
    rows = []
    judges = user.is_superuser or user.role in JUDGES
    for ret in Return.objects.filter(lead=lead).select_related("returned_by", "sdr", "judge"):
        owner = user.pk in (ret.sdr_id, lead.sdr_id)
        rows.append(
            ReturnRow(
                ret=ret,
                reason_label=codes.label(ReasonCode.Kind.RETURN, ret.reason_code),
                state_label=str(ret.get_state_display()),
                may_decide=ret.state == Return.State.OPEN
                and (owner or user.is_superuser or user.role in (Role.HEAD_MARKETING, Role.ADMIN)),
                may_judge=ret.state == Return.State.DISPUTED and judges,
            )
        )
    rows.sort(key=lambda r: (r.ret.returned_at, r.ret.pk), reverse=True)
    return rows


# The lead page -----------------------------------------------------------------------------


def _lead_context(user: User, lead_id: int, posted: Posted | None = None) -> dict[str, Any]:
    posted = posted or Posted()
    lead = (
        visible_leads(user)
        .select_related("service", "source", "sdr", "manager", "partner", "routed_to", "bant__need")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise LeadNotFound(_("This lead does not exist or is not visible to you."))
    bant = _bant_of(lead)
    allowed = allowed_moves(user, lead)
    sdr_side = lead.status in SDR_INCOMING
    offer_claim = may_claim(user, lead) or (
        lead.status == Status.NEW
        and lead.sdr_id == user.pk
        and any(m.target == Status.SDR_PROCESSING for m in allowed)
    )
    release = any(m.source == Status.SDR_PROCESSING and m.target == Status.NEW for m in allowed)
    handoff_panel = sdr_side and (user.is_superuser or user.role in SDR_TEAM)
    handoff_moves = [
        _move_choice(user, m) for m in allowed if handoff_panel and m.target in HANDOFF_TARGETS
    ]

    def elsewhere(m: Transition) -> bool:
        """Moves the page offers in their own place rather than among the buttons."""
        if handoff_panel and m.target in HANDOFF_TARGETS:
            return True
        if m.source == Status.SDR_PROCESSING and m.target == Status.NEW:
            return True  # "Release to the queue", by the owner's name
        if lead.status == Status.ASSIGNED and lead.manager_id == user.pk:
            # The assignment panel's "Accept (SQL)" and "Return to the SDR" (with its code).
            return m.target in (Status.DISCUSSION, Status.SDR_PROCESSING)
        return offer_claim and m.target == Status.SDR_PROCESSING

    moves = sorted(
        (_move_choice(user, m) for m in allowed if not elsewhere(m)),
        key=lambda m: _TONE_ORDER[m.tone],
    )
    events = list(LeadEvent.objects.filter(lead=lead).select_related("actor").order_by("at", "id"))
    codes = _ReasonCodes()
    names = _Names(lead, events)
    editable = may_qualify(user, lead)
    forms: list[QuestionnaireForm] = []
    checklist: list[CheckItem] = []
    recorded = True
    if handoff_panel:
        forms, checklist, recorded = _qualification(lead, bant, posted, editable=editable)
    returned = any(
        e.kind == LeadEvent.Kind.RETURN
        or (e.to_status == Status.SDR_PROCESSING and e.from_status in SALES_HELD)
        for e in events
    )
    context: dict[str, Any] = {
        "nav": "leads",
        "lead": lead,
        "history": [_history_item(e, names, codes) for e in events],
        "countdown": countdown(lead.sla_due_at, lead.sla_warn_at, timezone.now()),
        "offer_claim": offer_claim,
        "release": release,
        # The same rule log_touch applies, so the form is offered only to who may use it.
        "may_touch": lead.is_open and may_touch(user, lead),
        "touch_channels": TouchChannel.choices,
        "call_outcomes": CallOutcome.choices,
        "moves": moves,
        "handoff_panel": handoff_panel,
        "handoff_moves": handoff_moves,
        "handoff_targets": [m.target.value for m in handoff_moves],
        "checklist": checklist,
        "missing_count": sum(1 for c in checklist if not c.done),
        "checklist_done": sum(1 for c in checklist if c.done),
        "editable": editable,
        # A request without a service can't show its questionnaire: the SDR names it.
        "services": list(Service.objects.filter(active=True)) if editable else [],
        "bant_form": _bant_form(bant, posted) if editable else None,
        "questionnaire_forms": forms,
        "regions": [ru if (get_language() or "").startswith("ru") else en for ru, en in qf.REGIONS],
        # What sales reads: the SDR's record, once there is one.
        "summary": summary(lead) if recorded else [],
        "returns": _returns(user, lead, codes) if returned else [],
        "attribution": sorted((lead.attribution or {}).items()),
        "managers": [],
        "partners": [],
        "departments": [],
        "failed_move": "",
        # Assignment, brief and demos, proposal to payment: the sales side's parts.
        "panels": panels.for_lead(user, lead),
    }
    offered = [*moves, *handoff_moves]
    # The choices are fetched only when a move on offer asks for them.
    if any(m.needs_manager for m in offered):
        context["managers"] = list(active_people(Role.SALES))
    if any(m.needs_partner for m in offered):
        context["partners"] = list(Partner.objects.filter(active=True))
    if any(m.needs_department for m in offered):
        context["departments"] = list(routing_departments())
    if lead.end_reason_code:
        kind = ReasonCode.Kind.LOST if lead.status == Status.LOST else ReasonCode.Kind.DISQUALIFY
        context["end_reason_label"] = codes.label(kind, lead.end_reason_code)
    context["reason_codes"] = {
        kind: codes.active(kind) for kind in {m.code_kind for m in offered if m.code_kind}
    }
    return context


def _render_lead(
    request: HtmxHttpRequest,
    user: User,
    lead_id: int,
    *,
    status: int = 200,
    place: str = "",
    whole: bool = False,
    posted: Posted | None = None,
    **extra: Any,
) -> HttpResponse:
    """The lead page, its ``#lead-main`` (HTMX), or only the part a form updates.

    ``place`` is the id of the part the posted form belongs to: its messages are shown
    there. Under HTMX, when the form asked for that part alone (``HX-Target``) and
    nothing else on the page needs redrawing (``whole``), only that part is sent, with
    the parts it affects swapped out of band, so unsaved typing in the other forms stays.
    """
    context = _lead_context(user, lead_id, posted)
    context.update(extra)
    context["place"] = place
    error = extra.get("error")
    if isinstance(error, LeadError) and error.details.get("missing"):
        # The gate's refusal, item by item, each linked to where it is filled in.
        anchors = {c.field: c.anchor for c in context["checklist"]}
        context["refused"] = [
            {"field": m["field"], "label": m["label"], "anchor": anchors.get(m["field"], "")}
            for m in error.details["missing"]
        ]
    partial = _partial(request)
    target = request.htmx.target if partial else None
    in_place = (
        partial
        and not whole
        and target == place
        and (place in PARTIAL_PLACES or place.startswith(QUESTIONNAIRE_PLACE))
    )
    context["flash_top"] = not in_place
    # The hand-off panel and the returns show their own refusals, next to their forms.
    context["error_in_panel"] = (place == "handoff-panel" and context["handoff_panel"]) or (
        place == "return-panel" and bool(context["returns"])
    )
    if in_place:
        return render(request, "web/leads/_lead_update.html", context, status=status)
    if partial:
        response = render(request, "web/leads/_lead_main.html", context, status=status)
        if target != "lead-main":
            # A form meant for one part changed the whole lead (a hand-off, a stale page):
            # all of it is drawn again, from the top, where the message is.
            response["HX-Retarget"] = "#lead-main"
            response["HX-Reswap"] = "outerHTML show:window:top"
        return response
    # After a failed POST the page is rendered at the form's URL; links that return
    # "here" (the language switch) must point at the lead page instead.
    context["here"] = reverse("leads:detail", args=[lead_id])
    return render(request, "web/leads/detail.html", context, status=status)


def _not_found(request: HtmxHttpRequest, message: str = "", status: int = 404) -> HttpResponse:
    # One answer for "no such lead" and "not yours": a 404 tells nothing about others' leads.
    context = {"message": message or _("This lead does not exist or is not visible to you.")}
    if _partial(request):
        response = render(request, "web/leads/_gone.html", context, status=status)
        # Whichever part the form meant to update, the whole lead is gone from view.
        response["HX-Retarget"] = "#lead-main"
        response["HX-Reswap"] = "outerHTML"
        return response
    return render(
        request, "404.html" if status == 404 else "web/leads/gone.html", context, status=status
    )


def _done(request: HtmxHttpRequest, lead_id: int, message: str, anchor: str = "") -> HttpResponse:
    """After a plain (no-JS) POST: the message, and back to the lead page (post/redirect/get)."""
    messages.success(request, message)
    url = reverse("leads:detail", args=[lead_id])
    return redirect(url + (f"#{anchor}" if anchor else ""))


@login_required
@require_GET
def lead_detail(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    try:
        response = _render_lead(request, _user(request), lead_id)
    except LeadNotFound:
        response = _not_found(request)
    patch_vary_headers(response, ("HX-Request",))
    return response


# The whole page is drawn again after these refusals: the lead is not as the page shows it.
_STALE = ("version_conflict", "not_found", "transition_not_allowed")


@login_required
@require_POST
def lead_move(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    form = MoveForm(request.POST)
    to = request.POST.get("to", "")
    # Where the form was: its messages are shown there.
    place = (
        (request.htmx.target or "")
        if _partial(request)
        else "handoff-panel"
        if to in HANDOFF_TARGETS
        else "lead-head"
        if to == Status.NEW
        else "lead-actions"
    )
    attempted: dict[str, Any] = {
        "failed_move": request.POST.get("to", ""),
        "reason": request.POST.get("reason"),
        "failed_code": request.POST.get("reason_code", ""),
    }
    try:
        if not form.is_valid():
            return _render_lead(
                request, user, lead_id, status=422, place=place, move_form=form, **attempted
            )
        try:
            move_lead(
                user,
                lead_id,
                form.cleaned_data["to"],
                version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
                options=form.options(),
            )
        except LeadNotFound:
            raise
        except LeadError as exc:
            # Conflict 409, not allowed / missing field 422, forbidden 403: the page again,
            # as it is now, with the message and what the user typed.
            return _render_lead(
                request,
                user,
                lead_id,
                status=exc.http_status,
                place=place,
                whole=exc.code in _STALE,
                error=exc,
                **attempted,
            )
        done = _("Moved to “%(status)s”.") % {"status": Status(form.cleaned_data["to"]).label}
        if _partial(request):
            return _render_lead(request, user, lead_id, whole=True, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done)


@login_required
@require_POST
def lead_touch(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Log a call (with its outcome and duration), an e-mail or a meeting: the human
    touch that stops the SLA clock."""
    user = _user(request)
    form = TouchForm(request.POST)
    place = "lead-touch"
    try:
        if not form.is_valid():
            return _render_lead(request, user, lead_id, status=422, place=place, touch_form=form)
        in_place = _partial(request) and request.htmx.target == place
        # Only asked when the answer could be the contact card alone (see below).
        owner_before = (
            visible_leads(user).filter(pk=lead_id).values_list("sdr_id", flat=True).first()
            if in_place
            else None
        )
        try:
            lead = log_touch(
                user,
                lead_id,
                form.cleaned_data["channel"],
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                duration_seconds=form.cleaned_data["duration"],
            )
        except LeadNotFound:
            raise
        except LeadError as exc:
            return _render_lead(
                request,
                user,
                lead_id,
                status=exc.http_status,
                place=place,
                whole=exc.code in _STALE,
                error=exc,
                touch_form=form,
            )
        done = _("Contact logged: %(channel)s.") % {
            "channel": TouchChannel(form.cleaned_data["channel"]).label
        }
        if _partial(request):
            # Taking an unowned request with the first touch changes what the page offers.
            return _render_lead(
                request,
                user,
                lead_id,
                place=place,
                whole=not in_place or lead.sdr_id != owner_before,
                success=done,
            )
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done)
