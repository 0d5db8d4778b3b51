"""The JSON API of assignment: the head of sales' queue, manual (re)assignment, the
settings, rules and absences the engine reads, and each manager's load.

Everything but a lead's assignment history is the head of sales' and admins' (403 for
anyone else); the history is for whoever may see the lead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.api.api import ERRORS, READ_ERRORS, _get, _out, _user
from leadrelay.api.schemas import Error, LeadOut, UserRef
from leadrelay.catalog.models import Service
from leadrelay.leads.errors import Forbidden, InvalidInput, LeadNotFound
from leadrelay.leads.models import Lead
from leadrelay.leads.serialize import user_ref
from leadrelay.leads.statuses import Status
from leadrelay.sales import engine
from leadrelay.sales.models import Absence, Assignment, AssignmentRule, AssignmentSettings

router: Router = Router(tags=["assignment"])

# The head's reads: a 403 besides the usual.
HEAD_READ = {**READ_ERRORS, 403: Error}
QUEUE_CAP = 100

StrategyName = Literal["round_robin", "weighted", "least_loaded"]


def _head(request: HttpRequest) -> User:
    user = _user(request)
    if not engine.may_assign(user):
        raise Forbidden(_("Only the head of sales and administrators assign leads."))
    return user


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, field=field, errors={field: message})


def _sales_manager(pk: int, field: str) -> User:
    user = User.objects.filter(pk=pk, role=Role.SALES, is_active=True).first()
    if user is None:
        raise _invalid(field, _("%(id)s is not an active sales manager.") % {"id": pk})
    return user


# Schemas -------------------------------------------------------------------------------


class Chosen(Schema):
    id: int
    name: str


class QueueItem(Schema):
    lead: int
    name: str
    company: str
    service: str | None
    waiting_since: datetime = Field(description="When the lead entered the queue.")
    version: int
    region: str
    budget_band: str
    language: str
    would_go_to: Chosen | None = Field(
        description="The engine's choice now, each earlier lead in the queue counted."
    )
    why: dict[str, Any] = Field(
        description=(
            'The decision: `{"strategy", "rule": {id, name}|null, "considered": '
            '[{id, name, open, cap, weight}], "skipped": [{id, name, reason}], "chosen", '
            '"because"}`; reasons: `absent`, `off_shift`, `at_cap`, `not_in_rule`, '
            "`manual_only`, `language`."
        )
    )


class QueueOut(Schema):
    mode: str
    strategy: str
    total: int
    items: list[QueueItem] = Field(description=f"The oldest {QUEUE_CAP} MQLs at most.")


class AssignIn(Schema):
    manager: int = Field(description="User id of an active sales manager.")
    version: int = Field(description="The lead's `version` you last read.")


class AssignmentOut(Schema):
    id: int
    at: datetime
    manager: UserRef
    previous: UserRef | None
    by: UserRef | None = Field(description="Who assigned; null: the engine.")
    how: str = Field(description="`auto`, `manual`, `self` or `reassign`.")
    strategy: str
    rule: int | None
    why: dict[str, Any]


class SettingsIO(Schema):
    mode: Literal["manual", "auto"]
    strategy: StrategyName
    default_cap: int = Field(ge=1, le=100_000, description="Open leads per manager, at most.")


class RuleIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    order: int = Field(0, ge=0, le=32767)
    active: bool = True
    service: int | None = Field(None, description="Service id; null: any.")
    region: str = Field("", max_length=100, description="The common block's region; '': any.")
    budget_band: Literal["", "lt_100k", "100k_300k", "300k_1m", "1m_3m", "gt_3m"] = ""
    language: Literal["", "ru", "en"] = ""
    managers: list[int] = Field(min_length=1, description="User ids of sales managers.")
    strategy: Literal["", "round_robin", "weighted", "least_loaded"] = Field(
        "", description="'': the general strategy."
    )


class RuleOut(RuleIn):
    id: int


class AbsenceIn(Schema):
    user: int = Field(description="User id of a sales manager.")
    kind: Literal["vacation", "sick", "other"] = "vacation"
    starts_at: datetime
    ends_at: datetime
    note: str = Field("", max_length=200)


class AbsenceOut(AbsenceIn):
    id: int


class ManagerLoad(Schema):
    user: UserRef
    open: int = Field(description="Leads in assigned … contract.")
    cap: int
    weight: int
    auto: bool
    languages: list[str]
    on_shift: bool
    away_until: datetime | None


class Deleted(Schema):
    deleted: int


# The queue and assigning ---------------------------------------------------------------


@router.get("/assignment/queue", response={200: QueueOut, **HEAD_READ})
def assignment_queue(request: HttpRequest) -> dict[str, Any]:
    """MQLs waiting for a sales manager, oldest first, each with what the engine would do
    with it now (in manual mode too). Head of sales and admins."""
    _head(request)
    settings = AssignmentSettings.get()
    waiting = Lead.objects.filter(status=Status.AWAITING_ASSIGNMENT).order_by(
        "status_changed_at", "id"
    )
    leads = list(waiting.select_related("service")[:QUEUE_CAP])
    facts = engine.facts_of(leads)
    decisions = engine.preview(leads, settings, timezone.now())
    return {
        "mode": settings.mode,
        "strategy": settings.strategy,
        "total": len(leads) if len(leads) < QUEUE_CAP else waiting.count(),
        "items": [
            {
                "lead": lead.pk,
                "name": lead.name,
                "company": lead.company,
                "service": lead.service.code if lead.service else None,
                "waiting_since": lead.status_changed_at,
                "version": lead.version,
                "region": facts[lead.pk].region,
                "budget_band": facts[lead.pk].budget_band,
                "language": facts[lead.pk].language,
                "would_go_to": decision.why["chosen"],
                "why": decision.why,
            }
            for lead, decision in zip(leads, decisions, strict=True)
        ],
    }


@router.post("/leads/{lead_id}/assign", response={200: LeadOut, **ERRORS})
def assign_lead(request: HttpRequest, lead_id: int, body: AssignIn) -> dict[str, Any]:
    """Give an MQL awaiting assignment to a manager (it moves to `assigned`), or reassign
    a lead in `assigned` … `contract` to another manager (its version goes up). The
    manager is notified. Head of sales and admins.

    - **403** `forbidden`: not the head of sales or an admin.
    - **409** `version_conflict`: stale `version`.
    - **422** `invalid` (`errors.manager`): not an active sales manager;
      `transition_not_allowed`: the lead is neither awaiting a manager nor in sales.
    """
    actor = _head(request)
    manager = User.objects.filter(pk=body.manager).first()
    lead = engine.assign(actor, lead_id, manager, how=Assignment.How.MANUAL, version=body.version)
    return _out(lead)


def _assignment_dict(a: Assignment) -> dict[str, Any]:
    return {
        "id": a.pk,
        "at": a.at,
        "manager": user_ref(a.manager),
        "previous": user_ref(a.previous),
        "by": user_ref(a.by),
        "how": a.how,
        "strategy": a.strategy,
        "rule": a.rule_id,
        "why": a.why,
    }


@router.get("/leads/{lead_id}/assignments", response={200: list[AssignmentOut], **READ_ERRORS})
def lead_assignments(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """Who the lead was given to, oldest first, by whom and why (the engine's decision
    for automatic ones). For whoever may see the lead."""
    lead = _get(request, lead_id)
    rows = Assignment.objects.filter(lead=lead).select_related("manager", "previous", "by")
    return [_assignment_dict(a) for a in rows.order_by("at", "id")]


# Settings --------------------------------------------------------------------------------


def _settings_dict(row: AssignmentSettings) -> dict[str, Any]:
    return {"mode": row.mode, "strategy": row.strategy, "default_cap": row.default_cap}


@router.get("/assignment/settings", response={200: SettingsIO, **HEAD_READ})
def get_settings(request: HttpRequest) -> dict[str, Any]:
    """The mode (`manual`: the head assigns; `auto`: the worker does), the strategy and
    the default cap of open leads per manager."""
    _head(request)
    return _settings_dict(AssignmentSettings.get())


@router.put("/assignment/settings", response={200: SettingsIO, **ERRORS})
def put_settings(request: HttpRequest, body: SettingsIO) -> dict[str, Any]:
    """Change the mode, the strategy and the default cap.

    - **403** `forbidden`; **422** `validation_error`: a value out of its range.
    """
    _head(request)
    with transaction.atomic():
        row = AssignmentSettings.get()
        row.mode, row.strategy, row.default_cap = body.mode, body.strategy, body.default_cap
        row.updated_at = timezone.now()
        row.save()
    return _settings_dict(row)


# Rules ---------------------------------------------------------------------------------


def _rule_dict(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "order": rule.order,
        "active": rule.active,
        "service": rule.service_id,
        "region": rule.region,
        "budget_band": rule.budget_band,
        "language": rule.language,
        "managers": sorted(m.pk for m in rule.managers.all()),
        "strategy": rule.strategy,
    }


def _save_rule(rule: AssignmentRule, body: RuleIn) -> AssignmentRule:
    """Check the references (service, managers), then write the rule and its managers."""
    if body.service is not None and not Service.objects.filter(pk=body.service).exists():
        raise _invalid("service", _("Unknown service %(id)s.") % {"id": body.service})
    managers = [_sales_manager(pk, "managers") for pk in dict.fromkeys(body.managers)]
    with transaction.atomic():
        for name in ("name", "order", "active", "region", "budget_band", "language", "strategy"):
            setattr(rule, name, getattr(body, name))
        rule.service_id = body.service
        rule.save()
        rule.managers.set(managers)
    return rule


def _rule(rule_id: int) -> AssignmentRule:
    rule = AssignmentRule.objects.prefetch_related("managers").filter(pk=rule_id).first()
    if rule is None:
        raise LeadNotFound(_("Rule %(id)s not found.") % {"id": rule_id})
    return rule


@router.get("/assignment/rules", response={200: list[RuleOut], **HEAD_READ})
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    """The rules in the order the engine tries them (the first active match wins: its
    managers are the only candidates, and its strategy, if any, replaces the general)."""
    _head(request)
    return [_rule_dict(r) for r in AssignmentRule.objects.prefetch_related("managers")]


@router.post("/assignment/rules", response={201: RuleOut, **ERRORS})
def create_rule(request: HttpRequest, body: RuleIn) -> tuple[int, dict[str, Any]]:
    """Add a rule. **422** `invalid`: an unknown service, or a manager who is not an
    active sales manager (`errors.service` / `errors.managers`)."""
    _head(request)
    return 201, _rule_dict(_save_rule(AssignmentRule(), body))


@router.put("/assignment/rules/{rule_id}", response={200: RuleOut, **ERRORS})
def update_rule(request: HttpRequest, rule_id: int, body: RuleIn) -> dict[str, Any]:
    """Replace a rule. **404**: no such rule; **422** as when adding one."""
    _head(request)
    return _rule_dict(_save_rule(_rule(rule_id), body))


@router.delete("/assignment/rules/{rule_id}", response={200: Deleted, **ERRORS})
def delete_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    """Delete a rule (past assignments keep their record of it by id). **404**: none."""
    _head(request)
    _rule(rule_id).delete()
    return {"deleted": rule_id}


# Absences ------------------------------------------------------------------------------


def _absence_dict(a: Absence) -> dict[str, Any]:
    return {
        "id": a.pk,
        "user": a.user_id,
        "kind": a.kind,
        "starts_at": a.starts_at,
        "ends_at": a.ends_at,
        "note": a.note,
    }


@router.get("/assignment/absences", response={200: list[AbsenceOut], **HEAD_READ})
def list_absences(request: HttpRequest) -> list[dict[str, Any]]:
    """Absences not yet over, the earliest first: while one covers the present, the
    manager gets no leads automatically."""
    _head(request)
    rows = Absence.objects.filter(ends_at__gt=timezone.now()).order_by("starts_at", "id")
    return [_absence_dict(a) for a in rows[:500]]


@router.post("/assignment/absences", response={201: AbsenceOut, **ERRORS})
def create_absence(request: HttpRequest, body: AbsenceIn) -> tuple[int, dict[str, Any]]:
    """Record a vacation, a sick leave or another absence.

    **422** `invalid`: `errors.user` (not an active sales manager), `errors.ends_at`
    (it must end after it starts).
    """
    _head(request)
    user = _sales_manager(body.user, "user")
    if body.ends_at <= body.starts_at:
        raise _invalid("ends_at", _("An absence ends after it starts."))
    absence = Absence.objects.create(
        user=user,
        kind=body.kind,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        note=body.note,
    )
    return 201, _absence_dict(absence)


@router.delete("/assignment/absences/{absence_id}", response={200: Deleted, **ERRORS})
def delete_absence(request: HttpRequest, absence_id: int) -> dict[str, Any]:
    """Delete an absence (a vacation cut short, one entered by mistake). **404**: none."""
    _head(request)
    deleted, _rows = Absence.objects.filter(pk=absence_id).delete()
    if not deleted:
        raise LeadNotFound(_("Absence %(id)s not found.") % {"id": absence_id})
    return {"deleted": absence_id}


# The team ------------------------------------------------------------------------------


@router.get("/assignment/managers", response={200: list[ManagerLoad], **HEAD_READ})
def managers_load(request: HttpRequest) -> list[dict[str, Any]]:
    """Each active sales manager's open leads, cap, weight, languages, whether they are
    on shift now and until when they are away."""
    _head(request)
    pool = engine.Pool.load(AssignmentSettings.get(), timezone.now())
    return [
        {
            "user": user_ref(m.user),
            "open": pool.open.get(m.id, 0),
            "cap": m.cap,
            "weight": m.weight,
            "auto": m.auto,
            "languages": m.languages,
            "on_shift": pool.on_shift(m),
            "away_until": m.absence.ends_at if m.absence else None,
        }
        for m in pool.members
    ]
