"""The server-rendered pages: log in, the lead list, a lead, its moves and contacts.

Views are thin adapters: leads are found only through ``leads.queries`` (scoped to the
user), changed only through ``leads.transitions.move_lead`` and ``log_touch``, and the
domain's errors are turned into messages on the page. Under HTMX the same templates
render a partial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Partner
from leadrelay.leads.errors import LeadError, LeadNotFound
from leadrelay.leads.models import CallOutcome, Lead, LeadEvent, TouchChannel
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.statuses import Stage, Status, Transition
from leadrelay.leads.transitions import allowed_moves, log_touch, may_touch, move_lead
from leadrelay.web.forms import LeadFilterForm, MoveForm, TouchForm, active_people
from leadrelay.web.templatetags.leadrelay_web import Countdown, countdown, when


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


@dataclass(frozen=True)
class MoveChoice:
    """A button on the lead page: one allowed move and the inputs it asks for."""

    target: Status
    backward: bool
    reason_required: bool
    needs_manager: bool
    needs_partner: bool
    needs_department: bool

    @property
    def label(self) -> str:
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
    def has_inputs(self) -> bool:
        return (
            self.reason_required
            or self.needs_manager
            or self.needs_partner
            or self.needs_department
        )


# The path forward first, sending a lead back last.
_TONE_ORDER = {"primary": 0, "secondary": 1, "danger": 2, "back": 3}


def _move_choice(user: User, move: Transition) -> MoveChoice:
    return MoveChoice(
        target=move.target,
        backward=move.backward,
        reason_required=move.reason_required,
        # A sales manager who takes a lead assigns it to themselves; others pick one.
        needs_manager=move.target == Status.ASSIGNED and user.role != Role.SALES,
        needs_partner=move.target == Status.REFERRED,
        needs_department=move.target == Status.ROUTED,
    )


def _lead_context(user: User, lead_id: int) -> dict[str, Any]:
    lead = (
        visible_leads(user)
        .select_related("service", "source", "sdr", "manager", "partner", "routed_to")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise LeadNotFound(_("This lead does not exist or is not visible to you."))
    moves = sorted(
        (_move_choice(user, m) for m in allowed_moves(user, lead)),
        key=lambda m: _TONE_ORDER[m.tone],
    )
    events = list(LeadEvent.objects.filter(lead=lead).select_related("actor").order_by("at", "id"))
    context: dict[str, Any] = {
        "nav": "leads",
        "lead": lead,
        "events": events,
        "countdown": countdown(lead.sla_due_at, lead.sla_warn_at, timezone.now()),
        # The same rule log_touch applies, so the form is offered only to who may use it.
        "may_touch": lead.is_open and may_touch(user, lead),
        "touch_channels": TouchChannel.choices,
        "call_outcomes": CallOutcome.choices,
        "moves": moves,
        "attribution": sorted((lead.attribution or {}).items()),
        "managers": [],
        "partners": [],
        "departments": [],
    }
    # The choices are fetched only when a move on offer asks for them.
    if any(m.needs_manager for m in moves):
        context["managers"] = list(active_people(Role.SALES))
    if any(m.needs_partner for m in moves):
        context["partners"] = list(Partner.objects.filter(active=True))
    if any(m.needs_department for m in moves):
        context["departments"] = list(Department.objects.all())
    return context


def _render_lead(
    request: HtmxHttpRequest,
    user: User,
    lead_id: int,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    context = _lead_context(user, lead_id)
    context.update(extra)
    if _partial(request):
        return render(request, "web/leads/_lead_main.html", context, status=status)
    # After a failed POST the page is rendered at the move URL; links that return
    # "here" (the language switch) must point at the lead page instead.
    context["here"] = reverse("leads:detail", args=[lead_id])
    return render(request, "web/leads/detail.html", context, status=status)


def _not_found(request: HtmxHttpRequest) -> HttpResponse:
    # One answer for "no such lead" and "not yours": a 404 tells nothing about others' leads.
    context = {"message": _("This lead does not exist or is not visible to you.")}
    if _partial(request):
        return render(request, "web/leads/_gone.html", context, status=404)
    return render(request, "404.html", context, status=404)


@login_required
@require_GET
def lead_detail(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    try:
        response = _render_lead(request, _user(request), lead_id)
    except LeadNotFound:
        response = _not_found(request)
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def lead_move(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    form = MoveForm(request.POST)
    attempted = {"failed_move": request.POST.get("to", ""), "reason": request.POST.get("reason")}
    try:
        if not form.is_valid():
            return _render_lead(request, user, lead_id, status=422, move_form=form, **attempted)
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
                request, user, lead_id, status=exc.http_status, error=exc, **attempted
            )
        done = _("Moved to “%(status)s”.") % {"status": Status(form.cleaned_data["to"]).label}
        if _partial(request):
            return _render_lead(request, user, lead_id, success=done)
    except LeadNotFound:
        return _not_found(request)
    messages.success(request, done)
    return redirect("leads:detail", lead_id=lead_id)


@login_required
@require_POST
def lead_touch(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Log a call, an e-mail or a meeting: the human touch that stops the SLA clock."""
    user = _user(request)
    form = TouchForm(request.POST)
    try:
        if not form.is_valid():
            return _render_lead(request, user, lead_id, status=422, touch_form=form)
        try:
            log_touch(
                user,
                lead_id,
                form.cleaned_data["channel"],
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
            )
        except LeadNotFound:
            raise
        except LeadError as exc:
            return _render_lead(
                request, user, lead_id, status=exc.http_status, error=exc, touch_form=form
            )
        done = _("Contact logged: %(channel)s.") % {
            "channel": TouchChannel(form.cleaned_data["channel"]).label
        }
        if _partial(request):
            return _render_lead(request, user, lead_id, success=done)
    except LeadNotFound:
        return _not_found(request)
    messages.success(request, done)
    return redirect("leads:detail", lead_id=lead_id)
