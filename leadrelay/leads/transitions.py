"""The only way a lead comes to be or changes status.

Each function is one transaction: the lead row is locked (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's IMMEDIATE transactions hold the database write lock from BEGIN),
the guard runs, and the new status and its event are written together. The UPDATE is
also conditional on the version read, so no interleaving can apply a move twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import HEADS, Role
from leadrelay.catalog.models import Partner, Service, Source
from leadrelay.leads import bulk, hooks, queries
from leadrelay.leads.errors import (
    Forbidden,
    LeadNotFound,
    MissingField,
    TransitionNotAllowed,
    VersionConflict,
)
from leadrelay.leads.history import reach
from leadrelay.leads.models import CallOutcome, Lead, LeadEvent, TouchChannel
from leadrelay.leads.statuses import STAGE_ORDER, Stage, Status, Transition, allowed_from, find

# Statuses in which a lead belongs to the SDR side / has no sales manager.
_BEFORE_SALES = frozenset(
    {Status.NEW, Status.SDR_PROCESSING, Status.AWAITING_ASSIGNMENT, Status.DISQUALIFIED}
)


@dataclass(frozen=True)
class NewLead:
    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    website: str = ""
    message: str = ""
    attribution: dict[str, str] | None = None
    service: Service | None = None
    source: Source | None = None
    received_at: datetime | None = None
    consent: dict[str, str] | None = None
    extra: dict[str, str] | None = None
    review: list[str] | None = None
    duplicate_of: Lead | None = None


def create_lead(data: NewLead, actor: User | None = None, now: datetime | None = None) -> Lead:
    """Store a new request as a ``new`` lead with its first event."""
    now = now or timezone.now()
    received = data.received_at or now
    with transaction.atomic():
        lead = Lead.objects.create(
            status=Status.NEW,
            name=data.name,
            email=data.email,
            phone=data.phone,
            company=data.company,
            website=data.website,
            message=data.message,
            attribution=dict(data.attribution or {}),
            service=data.service,
            source=data.source,
            received_at=received,
            status_changed_at=received,
            consent=dict(data.consent or {}),
            extra=dict(data.extra or {}),
            review=list(data.review or []),
            duplicate_of=data.duplicate_of,
        )
        event = LeadEvent.objects.create(
            lead=lead, at=received, actor=actor, kind=LeadEvent.Kind.CREATED, to_status=Status.NEW
        )
        hooks.fire(hooks.Change(lead=lead, event=event, actor=actor, now=now))
    return lead


def create_leads_bulk(
    items: list[NewLead], actor: User | None = None, now: datetime | None = None
) -> list[Lead]:
    """Store many new leads at once (imports): the same rows and events as
    ``create_lead``, written by the bulk writer inside the caller's transaction.

    Returns the leads, with their ids, in the order of ``items``; they are built from the
    written values (foreign keys as ids: ``lead.source`` would be a query).

    No hooks fire: bulk creation brings history in (another CRM's export, demo data), so
    no SLA clock starts and no webhook is sent for these leads.
    """
    if not items:
        return []
    now = now or timezone.now()
    leads = bulk.Table(Lead)
    events = bulk.Table(LeadEvent)
    actor_id = bulk.related_id(actor, "actor")
    no_data: dict[str, Any] = {}  # every event's data: one object, adapted once
    with transaction.atomic():
        lead_rows = []
        event_rows = []
        for lead_id, event_id, d in zip(
            leads.new_ids(len(items)), events.new_ids(len(items)), items, strict=True
        ):
            received = d.received_at or now
            lead_rows.append(
                leads.row(
                    {
                        "id": lead_id,
                        "status": Status.NEW,
                        "version": 1,
                        "name": d.name,
                        "email": d.email,
                        "phone": d.phone,
                        "company": d.company,
                        "website": d.website,
                        "message": d.message,
                        "attribution": dict(d.attribution or {}),
                        "service_id": bulk.related_id(d.service, "service"),
                        "source_id": bulk.related_id(d.source, "source"),
                        "received_at": received,
                        "status_changed_at": received,
                        "consent": dict(d.consent or {}),
                        "extra": dict(d.extra or {}),
                        "review": list(d.review or []),
                        "duplicate_of_id": bulk.related_id(d.duplicate_of, "duplicate_of"),
                    }
                )
            )
            event_rows.append(
                events.row(
                    {
                        "id": event_id,
                        "lead_id": lead_id,
                        "at": received,
                        "actor_id": actor_id,
                        "kind": LeadEvent.Kind.CREATED,
                        "to_status": Status.NEW,
                        "data": no_data,
                    }
                )
            )
        bulk.insert((leads, lead_rows), (events, event_rows))
    return leads.instances(lead_rows)


def _may_move(user: User, lead: Lead, move: Transition) -> bool:
    """Object-level permission: the role may make this move, and on this lead."""
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    if user.role not in move.roles:
        return False
    if user.role in HEADS:
        return True
    if user.role == Role.SDR:
        return lead.sdr_id in (None, user.pk)
    if user.role == Role.SALES:
        if lead.status == Status.AWAITING_ASSIGNMENT and lead.manager_id is None:
            return move.target in (Status.ASSIGNED, Status.SDR_PROCESSING)
        return lead.manager_id == user.pk
    return user.role == Role.PARTNER_MANAGER


def allowed_moves(user: User, lead: Lead) -> list[Transition]:
    """The moves this user can offer on this lead right now (for buttons and errors)."""
    return [t for t in allowed_from(lead.status) if _may_move(user, lead, t)]


@dataclass(frozen=True)
class MoveOptions:
    manager: User | None = None
    partner: Partner | None = None
    department: Department | None = None


def move_lead(
    actor: User,
    lead_id: int,
    to: str,
    *,
    version: int,
    reason: str = "",
    options: MoveOptions | None = None,
    now: datetime | None = None,
) -> Lead:
    """Move a lead to ``to``: the one verb the web, the API and the CLI share.

    Raises ``LeadNotFound`` (not visible to the actor), ``VersionConflict`` (stale
    ``version`` or someone got there first), ``TransitionNotAllowed`` (not in the table
    from the current status), ``Forbidden`` (the actor's role or ownership), and
    ``MissingField`` (a reason or a target the move needs).
    """
    options = options or MoveOptions()
    reason = (reason or "").strip()
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        visible = lead is not None and queries.visible_leads(actor).filter(pk=lead_id).exists()
        if lead is None or (not visible and lead.version == version):
            raise LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})
        if lead.version != version:
            # Someone got there first. That may have taken the lead out of this actor's
            # view (a colleague claimed it), and they still learn "changed", not "gone";
            # ids are sequential, so saying the lead exists reveals nothing, and its
            # current state is told only to those who may see it.
            details = {"current_version": lead.version, "status": lead.status} if visible else {}
            raise VersionConflict(_("The lead was changed by someone else; reload it."), **details)
        move = find(lead.status, to)
        if move is None:
            allowed = [t.target.value for t in allowed_moves(actor, lead)]
            raise TransitionNotAllowed(
                _("Cannot move from “%(from)s” to “%(to)s”.") % {"from": lead.status, "to": to},
                allowed=allowed,
            )
        if not _may_move(actor, lead, move):
            raise Forbidden(_("Your role may not make this move on this lead."))
        if move.reason_required and not reason:
            raise MissingField(_("A reason is required for this move."), field="reason")
        changes = _apply(actor, lead, move, options, reason, now)
        updated = Lead.objects.filter(pk=lead.pk, version=version, status=move.source).update(
            **changes
        )
        if updated != 1:  # pragma: no cover - the lock above makes this unreachable
            raise VersionConflict(_("The lead was changed by someone else; reload it."))
        event = LeadEvent.objects.create(
            lead=lead,
            at=now,
            actor=actor,
            kind=LeadEvent.Kind.STATUS,
            from_status=move.source,
            to_status=move.target,
            reason=reason,
            data=_event_data(lead, changes),
        )
        _changed(lead, event, actor, now, from_status=move.source)
    return lead


def log_touch(
    actor: User,
    lead_id: int,
    channel: str,
    *,
    outcome: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Lead:
    """Record a human touch (a call with its outcome, an e-mail sent, a meeting).

    It is what stops the first-contact clock; automatic replies never come through here.
    The first SDR to touch an unowned request owns it, as with a move.
    """
    now = now or timezone.now()
    note = (note or "").strip()
    if channel not in TouchChannel.values:
        raise MissingField(_("Choose how you contacted the lead."), field="channel")
    if channel == TouchChannel.CALL and outcome not in CallOutcome.values:
        raise MissingField(_("Choose the outcome of the call."), field="outcome")
    if channel != TouchChannel.CALL:
        outcome = ""
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None or not queries.visible_leads(actor).filter(pk=lead_id).exists():
            raise LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})
        if not lead.is_open:
            raise TransitionNotAllowed(_("The lead is closed; reopen it first."))
        if not may_touch(actor, lead):
            raise Forbidden(_("Only the lead's owner can log a contact with it."))
        changes: dict[str, Any] = {"version": lead.version + 1}
        if lead.first_touch_at is None:
            changes["first_touch_at"] = now
        if lead.sdr_id is None and actor.role == Role.SDR:
            changes["sdr"] = actor
        Lead.objects.filter(pk=lead.pk).update(**changes)
        data: dict[str, Any] = {"channel": channel, "version": changes["version"]}
        if outcome:
            data["outcome"] = outcome
        if "sdr" in changes:
            data["sdr"] = actor.pk
        event = LeadEvent.objects.create(
            lead=lead, at=now, actor=actor, kind=LeadEvent.Kind.TOUCH, reason=note, data=data
        )
        _changed(lead, event, actor, now, from_status=lead.status)
    return lead


def _changed(lead: Lead, event: LeadEvent, actor: User, now: datetime, from_status: str) -> None:
    """Reload the lead as written and tell the hooks, still inside the transaction."""
    sdr_before, manager_before = lead.sdr_id, lead.manager_id
    lead.refresh_from_db()
    hooks.fire(
        hooks.Change(
            lead=lead,
            event=event,
            actor=actor,
            now=now,
            from_status=from_status,
            sdr_before=sdr_before,
            manager_before=manager_before,
        )
    )


def may_touch(user: User, lead: Lead) -> bool:
    """Whether this user may log a contact with this lead (for forms and the API)."""
    if user.is_superuser or user.role in HEADS or user.role == Role.ADMIN:
        return True
    if user.role == Role.SDR:
        return lead.sdr_id in (None, user.pk)
    if user.role == Role.SALES:
        return lead.manager_id == user.pk
    return user.role == Role.PARTNER_MANAGER


def _apply(
    actor: User,
    lead: Lead,
    move: Transition,
    options: MoveOptions,
    reason: str,
    now: datetime,
) -> dict[str, Any]:
    """Compute the row's new values for this move (owners, ends, stage timestamps)."""
    target = move.target
    changes: dict[str, Any] = {
        "status": target,
        "version": lead.version + 1,
        "status_changed_at": now,
        "end_reason": reason if target in (Status.DISQUALIFIED, Status.LOST) else "",
    }
    if lead.sdr_id is None and actor.role == Role.SDR:
        # Whichever SDR first acts on an unowned request owns it from then on.
        changes["sdr"] = actor
    if target == Status.ASSIGNED:
        manager: User | None
        if actor.role == Role.SALES:
            # A manager takes a lead for themselves; handing work to a colleague is the
            # head's call.
            if options.manager is not None and options.manager.pk != actor.pk:
                raise Forbidden(_("Only a head of sales may assign a lead to someone else."))
            manager = actor
        else:
            manager = options.manager
        if manager is None:
            raise MissingField(_("Choose the sales manager to assign."), field="manager")
        if manager.role != Role.SALES or not manager.is_active:
            raise MissingField(_("The assignee must be an active sales manager."), field="manager")
        changes["manager"] = manager
    if target in _BEFORE_SALES and lead.manager_id is not None:
        changes["manager"] = None
    if target == Status.REFERRED:
        changes["partner"] = options.partner
    elif lead.partner_id is not None:
        changes["partner"] = None  # a reopened referral is no longer the partner's
    if target == Status.ROUTED:
        changes["routed_to"] = options.department
    elif lead.routed_to_id is not None:
        changes["routed_to"] = None
    reached = {s: lead.reached_at(s) for s in STAGE_ORDER if lead.reached_at(s) is not None}
    before = set(reached)
    reach(reached, target, now)
    for stage in set(reached) - before:
        changes[f"reached_{Stage(stage).value}_at"] = reached[stage]
    return changes


def _event_data(lead: Lead, changes: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"version": changes["version"]}
    for field in ("sdr", "manager", "partner", "routed_to"):
        if field in changes:
            new = changes[field]
            data[field] = new.pk if new is not None else None
    return data
