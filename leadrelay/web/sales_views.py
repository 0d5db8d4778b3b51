"""The head of sales' assignment pages and the assignment part of the lead page.

``/assignment/`` is the queue of MQLs waiting for a manager, with what the engine would
do with each, a manual assign per row, the team's load and "assign all now".
``/assignment/settings/`` sets the mode and strategy, each manager's profile, absences
and rules. On the lead page a manager accepts or returns a lead just given to them, the
head (re)assigns it, and everyone who sees the lead reads who got it and why.

Every form works without JavaScript (post/redirect/get); under HTMX the part it belongs
to is drawn again in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Service
from leadrelay.leads.errors import LeadError, LeadNotFound
from leadrelay.leads.models import Lead
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import MoveOptions, move_lead
from leadrelay.qualify.models import Bant, BudgetBand, ReasonCode
from leadrelay.sales import engine
from leadrelay.sales.access import SALES_OPEN
from leadrelay.sales.models import (
    Absence,
    Assignment,
    AssignmentRule,
    AssignmentSettings,
    ManagerProfile,
    Strategy,
)
from leadrelay.web import panels
from leadrelay.web.forms import active_people
from leadrelay.web.views import (
    HtmxHttpRequest,
    _done,
    _not_found,
    _partial,
    _render_lead,
    _user,
)

# The most MQLs the queue page lists at once; the total is always given.
QUEUE_CAP = 100
PANEL = "assignment-panel"
LANGUAGES = (("ru", gettext_lazy("Russian")), ("en", gettext_lazy("English")))


def current_time() -> datetime:
    """The views' clock: one seam for tests to fake time with."""
    return timezone.now()


def _forbidden(request: HttpRequest) -> HttpResponse:
    message = _("Only the head of sales and administrators assign leads.")
    return render(request, "403.html", {"message": message}, status=403)


# Why, in words --------------------------------------------------------------------------

SKIP_REASONS = {
    "absent": gettext_lazy("away"),
    "off_shift": gettext_lazy("off shift"),
    "at_cap": gettext_lazy("at their cap"),
    "not_in_rule": gettext_lazy("not in the rule"),
    "manual_only": gettext_lazy("takes leads by hand only"),
    "language": gettext_lazy("does not sell in this language"),
}


def _strategy_label(value: str) -> str:
    return str(Strategy(value).label) if value in Strategy.values else value


def because(why: dict[str, Any]) -> str:
    """The engine's reason for its choice, in the reader's language."""
    chosen = why.get("chosen") or {}
    entry: dict[str, Any] = next(
        (c for c in why.get("considered", []) if c.get("id") == chosen.get("id")), {}
    )
    strategy = why.get("strategy", "")
    if strategy == Strategy.LEAST_LOADED:
        return _("fewest open leads (%(n)s)") % {"n": entry.get("open", 0)}
    if strategy == Strategy.WEIGHTED:
        return _("their turn by weight %(w)s") % {"w": entry.get("weight", 1)}
    return _("next in turn")


def skipped(why: dict[str, Any]) -> str:
    """Who the engine passed over and for what: "Anna — away; Boris — at their cap"."""
    return "; ".join(
        f"{s.get('name', '')} — {SKIP_REASONS.get(s.get('reason', ''), s.get('reason', ''))}"
        for s in why.get("skipped", [])
    )


@dataclass(frozen=True)
class Why:
    """A decision as the pages show it."""

    chosen: str
    because: str
    strategy: str
    rule: str
    skipped: str

    @classmethod
    def of(cls, why: dict[str, Any]) -> Why | None:
        if not why or "strategy" not in why:
            return None  # a manual assignment: the head's choice needs no explaining
        return cls(
            chosen=(why.get("chosen") or {}).get("name", ""),
            because=because(why) if why.get("chosen") else "",
            strategy=_strategy_label(why.get("strategy", "")),
            rule=(why.get("rule") or {}).get("name", ""),
            skipped=skipped(why),
        )


# The queue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    lead: Lead
    budget: str
    region: str
    language: str
    since: datetime
    why: Why | None


@dataclass(frozen=True)
class LoadRow:
    member: engine.Member
    open: int
    on_shift: bool


def _budget(bant: tuple[Any, str, str] | None) -> str:
    if bant is None:
        return ""
    amount, band, currency = bant
    if amount is not None:
        return f"{amount:,.0f} {currency}".replace(",", "\u00a0")
    return str(BudgetBand(band).label) if band in BudgetBand.values else ""


def queue_context(now: datetime) -> dict[str, Any]:
    """Everything the queue page shows, in a fixed number of queries."""
    settings = AssignmentSettings.get()
    waiting = Lead.objects.filter(status=Status.AWAITING_ASSIGNMENT).order_by(
        "status_changed_at", "id"
    )
    leads = list(waiting.select_related("service", "sdr").defer("consent", "review")[:QUEUE_CAP])
    total = len(leads) if len(leads) < QUEUE_CAP else waiting.count()
    pool = engine.Pool.load(settings, now)
    members = list(pool.members)
    loads = dict(pool.open)
    facts = engine.facts_of(leads)
    bants = {
        lead_id: (amount, band, currency)
        for lead_id, amount, band, currency in Bant.objects.filter(
            lead_id__in=[lead.pk for lead in leads]
        ).values_list("lead_id", "budget_amount", "budget_band", "currency")
    }
    rows = []
    for lead in leads:
        decision = engine.decide(pool, facts[lead.pk])
        if decision.manager is not None:
            pool.given(decision)
        rows.append(
            QueueRow(
                lead=lead,
                budget=_budget(bants.get(lead.pk)),
                region=facts[lead.pk].region,
                language=facts[lead.pk].language,
                since=lead.status_changed_at,
                why=Why.of(decision.why),
            )
        )
    return {
        "nav": "assignment",
        "now": now,
        "settings": settings,
        "auto": settings.mode == AssignmentSettings.Mode.AUTO,
        "strategy": _strategy_label(settings.strategy),
        "rows": rows,
        "total": total,
        "managers": [m.user for m in members],
        "team": [LoadRow(m, loads.get(m.id, 0), pool.on_shift(m)) for m in members],
    }


@login_required
@require_GET
def queue(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    if not engine.may_assign(user):
        return _forbidden(request)
    return render(request, "web/sales/queue.html", queue_context(current_time()))


def _queue_answer(
    request: HtmxHttpRequest, *, success: str = "", error: str = "", status: int = 200
) -> HttpResponse:
    """After an action on the queue: the queue drawn again (HTMX), or back to it."""
    if _partial(request):
        context = {**queue_context(current_time()), "success": success, "error": error}
        return render(request, "web/sales/_queue_body.html", context, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect("sales:queue")


def _manager(raw: str) -> User | None:
    """The user the form named, if the id is a number (the engine checks the rest)."""
    return User.objects.filter(pk=int(raw)).first() if raw.isdigit() else None


def _version(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


@login_required
@require_POST
def queue_assign(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Give one MQL from the queue to the manager chosen in its row."""
    user = _user(request)
    if not engine.may_assign(user):
        return _forbidden(request)
    manager = _manager(request.POST.get("manager", ""))
    try:
        lead = engine.assign(
            user,
            lead_id,
            manager,
            how=Assignment.How.MANUAL,
            version=_version(request.POST.get("version", "")),
        )
    except LeadError as exc:
        return _queue_answer(request, error=exc.message, status=exc.http_status)
    assert manager is not None
    done = _("Lead #%(id)s is %(name)s's now.") % {"id": lead.pk, "name": manager}
    return _queue_answer(request, success=done)


@login_required
@require_POST
def queue_run(request: HtmxHttpRequest) -> HttpResponse:
    """ "Assign all now": one run of the engine over the queue, whatever the mode."""
    user = _user(request)
    if not engine.may_assign(user):
        return _forbidden(request)
    count = engine.assign_next(now=current_time(), even_manual=True)
    left = Lead.objects.filter(status=Status.AWAITING_ASSIGNMENT).count()
    done = _("Assigned: %(n)s. Still waiting: %(left)s.") % {"n": count, "left": left}
    return _queue_answer(request, success=done)


# Settings ------------------------------------------------------------------------------


class SettingsForm(forms.ModelForm[AssignmentSettings]):
    default_cap = forms.IntegerField(
        label=gettext_lazy("Open leads per manager, at most"), min_value=1, max_value=100_000
    )

    class Meta:
        model = AssignmentSettings
        fields = ["mode", "strategy", "default_cap"]
        widgets = {"mode": forms.RadioSelect, "strategy": forms.RadioSelect}


class ProfileForm(forms.ModelForm[ManagerProfile]):
    weight = forms.IntegerField(label=gettext_lazy("Weight"), min_value=1, max_value=100)
    cap = forms.IntegerField(
        label=gettext_lazy("Open leads, at most"),
        min_value=0,
        max_value=100_000,
        required=False,
        help_text=gettext_lazy("Empty: the default cap."),
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages"),
        choices=LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("None ticked: any language."),
    )

    class Meta:
        model = ManagerProfile
        fields = ["auto", "weight", "cap", "languages", "calendar"]


class AbsenceForm(forms.ModelForm[Absence]):
    starts_at = forms.DateTimeField(
        label=gettext_lazy("From"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Until"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    class Meta:
        model = Absence
        fields = ["user", "kind", "starts_at", "ends_at", "note"]

    def __init__(self, *args: Any, managers: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = User.objects.filter(role=Role.SALES, is_active=True)
        field.choices = [("", _("Choose a manager")), *((str(m.pk), str(m)) for m in managers)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts is not None and ends is not None and ends <= starts:
            self.add_error("ends_at", _("An absence ends after it starts."))
        return data


class ManagerChoices(forms.ModelMultipleChoiceField[User]):
    """The rule's managers by id. An id past 64 bits is refused as not a choice: SQLite
    cannot bind it and the ``IN`` query would fail with an OverflowError (a 500)."""

    def clean(self, value: Any) -> Any:
        for pk in value if isinstance(value, list | tuple) else ():
            text = str(pk).strip().removeprefix("-")
            if text.isdecimal() and int(text) >= 2**63:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super().clean(value)


class RuleForm(forms.ModelForm[AssignmentRule]):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=[("", gettext_lazy("Any language")), *LANGUAGES],
        required=False,
    )
    order = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, max_value=32767)

    class Meta:
        model = AssignmentRule
        fields = [
            "name",
            "order",
            "active",
            "service",
            "region",
            "budget_band",
            "language",
            "managers",
            "strategy",
        ]
        widgets = {"managers": forms.CheckboxSelectMultiple}
        field_classes = {"managers": ManagerChoices}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        managers = self.fields["managers"]
        assert isinstance(managers, forms.ModelMultipleChoiceField)
        managers.queryset = User.objects.filter(role=Role.SALES, is_active=True).order_by(
            "first_name", "last_name", "username"
        )
        service = self.fields["service"]
        assert isinstance(service, forms.ModelChoiceField)
        service.queryset = Service.objects.filter(active=True)
        service.empty_label = _("Any service")
        blanks = {
            "budget_band": (_("Any budget"), BudgetBand.choices),
            "strategy": (_("The general strategy"), Strategy.choices),
        }
        for name, (blank, choices) in blanks.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", blank), *choices]


def settings_context(
    now: datetime,
    *,
    form: SettingsForm | None = None,
    absence_form: AbsenceForm | None = None,
    rule_form: RuleForm | None = None,
) -> dict[str, Any]:
    settings = AssignmentSettings.get()
    pool = engine.Pool.load(settings, now)
    managers = [m.user for m in pool.members]
    profiles = {p.user_id: p for p in ManagerProfile.objects.filter(user__in=managers)}
    absences = list(
        Absence.objects.filter(ends_at__gt=now, user__is_active=True)
        .select_related("user")
        .order_by("starts_at")[:QUEUE_CAP]
    )
    return {
        "nav": "assignment_settings",
        "now": now,
        "form": form or SettingsForm(instance=settings),
        "team": [LoadRow(m, pool.open.get(m.id, 0), pool.on_shift(m)) for m in pool.members],
        "profiles": profiles,
        "absences": absences,
        "absence_form": absence_form or AbsenceForm(managers=managers),
        "rules": list(
            AssignmentRule.objects.select_related("service").prefetch_related("managers")
        ),
        "rule_form": rule_form or RuleForm(initial={"order": 0, "active": True}),
    }


def _settings_page(request: HttpRequest, status: int = 200, **forms_: Any) -> HttpResponse:
    context = settings_context(current_time(), **forms_)
    return render(request, "web/sales/settings.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    if not engine.may_assign(_user(request)):
        return _forbidden(request)
    if request.method == "POST":
        row = AssignmentSettings.get()
        form = SettingsForm(request.POST, instance=row)
        if not form.is_valid():
            return _settings_page(request, 422, form=form)
        with transaction.atomic():
            saved = form.save(commit=False)
            saved.updated_at = current_time()
            saved.save()
        messages.success(request, _("The assignment settings are saved."))
        return redirect("sales:settings")
    return _settings_page(request)


@login_required
@require_POST
def absence_add(request: HttpRequest) -> HttpResponse:
    if not engine.may_assign(_user(request)):
        return _forbidden(request)
    managers = list(User.objects.filter(role=Role.SALES, is_active=True).order_by("pk"))
    form = AbsenceForm(request.POST, managers=managers)
    if not form.is_valid():
        return _settings_page(request, 422, absence_form=form)
    form.save()
    messages.success(request, _("The absence is saved."))
    return redirect(_settings_anchor("absences"))


@login_required
@require_POST
def absence_delete(request: HttpRequest, absence_id: int) -> HttpResponse:
    if not engine.may_assign(_user(request)):
        return _forbidden(request)
    deleted, _rows = Absence.objects.filter(pk=absence_id).delete()
    if deleted:
        messages.success(request, _("The absence is deleted."))
    return redirect(_settings_anchor("absences"))


def _settings_anchor(anchor: str) -> str:
    return reverse("sales:settings") + f"#{anchor}"


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    """Add a rule (no id) or edit one; the main settings page lists them."""
    if not engine.may_assign(_user(request)):
        return _forbidden(request)
    rule = AssignmentRule.objects.filter(pk=rule_id).first() if rule_id is not None else None
    if rule_id is not None and rule is None:
        return render(request, "404.html", {}, status=404)
    if request.method == "POST":
        form = RuleForm(request.POST, instance=rule)
        if form.is_valid():
            form.save()
            messages.success(request, _("The rule is saved."))
            return redirect(_settings_anchor("rules"))
        if rule is None:
            return _settings_page(request, 422, rule_form=form)
        return render(request, "web/sales/rule.html", _rule_context(form, rule), status=422)
    return render(request, "web/sales/rule.html", _rule_context(RuleForm(instance=rule), rule))


def _rule_context(form: RuleForm, rule: AssignmentRule | None) -> dict[str, Any]:
    return {"nav": "assignment_settings", "form": form, "rule": rule}


@login_required
@require_POST
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    if not engine.may_assign(_user(request)):
        return _forbidden(request)
    deleted, _rows = AssignmentRule.objects.filter(pk=rule_id).delete()
    if deleted:
        messages.success(request, _("The rule is deleted."))
    return redirect(_settings_anchor("rules"))


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    """A manager's profile: automatic or not, weight, cap, languages, shift."""
    if not engine.may_assign(_user(request)):
        return _forbidden(request)
    manager = User.objects.filter(pk=user_id, role=Role.SALES).first()
    if manager is None:
        return render(request, "404.html", {}, status=404)
    profile = ManagerProfile.objects.filter(user=manager).first() or ManagerProfile(user=manager)
    status = 200
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=profile)
        if form.is_valid():
            form.save()
            messages.success(request, _("%(name)s's profile is saved.") % {"name": manager})
            return redirect(_settings_anchor("team"))
        status = 422
    else:
        form = ProfileForm(instance=profile)
    context = {"nav": "assignment_settings", "form": form, "manager": manager}
    return render(request, "web/sales/profile.html", context, status=status)


# The lead page -------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    row: Assignment
    why: Why | None


def assignment_panel(user: User, lead: Lead) -> panels.Panel | None:
    """Accept / return for the manager, (re)assign for the head, and the history."""
    if lead.reached_mql_at is None:
        return None  # never handed to sales: nothing to assign, no history (no query)
    history = [
        HistoryRow(a, Why.of(a.why))
        for a in Assignment.objects.filter(lead=lead)
        .select_related("manager", "by", "previous", "rule")
        .order_by("-at", "-id")[:20]
    ]
    own = lead.status == Status.ASSIGNED and lead.manager_id == user.pk
    may_assign = engine.may_assign(user) and (
        lead.status == Status.AWAITING_ASSIGNMENT or lead.status in SALES_OPEN
    )
    if not (history or own or may_assign):
        return None
    context: dict[str, Any] = {"history": history, "own": own, "may_assign": may_assign}
    if own:
        context["return_codes"] = list(
            ReasonCode.objects.filter(kind=ReasonCode.Kind.RETURN, active=True)
        )
    if may_assign:
        context["managers"] = [m for m in active_people(Role.SALES) if m.pk != lead.manager_id]
    return panels.Panel("web/sales/_panel.html", context)


panels.register(assignment_panel)


def _lead_answer(
    request: HtmxHttpRequest,
    user: User,
    lead_id: int,
    action: Any,
    done: str,
    *,
    returning: bool = False,
) -> HttpResponse:
    """Run one domain call for the panel and answer as the lead page's forms do."""
    try:
        try:
            action()
        except LeadNotFound:
            raise
        except LeadError as exc:
            typed: dict[str, Any] = (
                {"failed_return": request.POST.get("reason_code", "") or "-"} if returning else {}
            )
            return _render_lead(
                request,
                user,
                lead_id,
                status=exc.http_status,
                place=PANEL,
                whole=True,
                error=exc,
                return_note=request.POST.get("note", ""),
                **typed,
            )
        if not visible_leads(user).filter(pk=lead_id).exists():
            return _gone_after(request, done)
        if _partial(request):
            return _render_lead(request, user, lead_id, whole=True, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=PANEL)


def _gone_after(request: HtmxHttpRequest, done: str) -> HttpResponse:
    """The action took the lead out of the user's sight (a manager's return to the SDR):
    the message, on the board they work from rather than on a page they may not see."""
    messages.success(request, done)
    url = reverse("board:board")
    if _partial(request):
        response = HttpResponse()
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@login_required
@require_POST
def lead_accept(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """The manager accepts the lead: it moves to ``discussion`` (SQL)."""
    user = _user(request)
    version = _version(request.POST.get("version", "")) or 0

    def accept() -> None:
        move_lead(user, lead_id, Status.DISCUSSION, version=version)

    return _lead_answer(request, user, lead_id, accept, _("Accepted: the lead is an SQL now."))


@login_required
@require_POST
def lead_return(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """The manager sends the lead back to its SDR, with a return reason code and a note."""
    user = _user(request)
    version = _version(request.POST.get("version", "")) or 0
    code = request.POST.get("reason_code", "").strip()
    note = request.POST.get("note", "").strip()[:4000]

    def send_back() -> None:
        options = MoveOptions(reason_code=code)
        move_lead(
            user, lead_id, Status.SDR_PROCESSING, version=version, reason=note, options=options
        )

    done = _("Returned to the SDR.")
    return _lead_answer(request, user, lead_id, send_back, done, returning=True)


@login_required
@require_POST
def lead_assign(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """The head gives the lead to a manager, or to another one."""
    user = _user(request)
    manager = _manager(request.POST.get("manager", ""))
    version = _version(request.POST.get("version", ""))

    def give() -> None:
        engine.assign(user, lead_id, manager, how=Assignment.How.MANUAL, version=version)

    done = _("Assigned to %(name)s.") % {"name": manager or "—"}
    return _lead_answer(request, user, lead_id, give, done)
