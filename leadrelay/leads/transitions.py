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
from leadrelay.leads import bulk, gates, hooks, queries
from leadrelay.leads.errors import (
    AlreadyTaken,
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
    # Who owns the request on the SDR side after the move (a claim by a head).
    sdr: User | None = None
    # A code from the configurable lists (disqualification, return, loss): what reports
    # group by; ``reason`` stays the user's own words.
    reason_code: str = ""
    # Who won a lost deal (a move to ``lost``), if the manager knows.
    competitor: str = ""


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
        move_locked(actor, lead, to, reason=reason, options=options, now=now)
    return lead


def move_locked(
    actor: User | None,
    lead: Lead,
    to: str,
    *,
    reason: str,
    options: MoveOptions,
    now: datetime,
    role_checked: bool = False,
) -> Lead:
    """The move itself, for a caller that holds the lead's row lock and has checked
    that the actor may act on it (``move_lead``; a head settling a dispute, who passes
    ``role_checked`` because the decision, not the table, gives them the move).

    ``actor`` is None for a move nobody in the team made: the assignment engine giving
    an MQL to a manager, a client filling in the brief. The caller has decided the move
    is due, so it must pass ``role_checked``; the gates still run.
    """
    if actor is None and not role_checked:
        raise Forbidden(_("Your role may not make this move on this lead."))
    move = find(lead.status, to)
    if move is None:
        allowed = [t.target.value for t in allowed_moves(actor, lead)] if actor else []
        raise TransitionNotAllowed(
            _("Cannot move from “%(from)s” to “%(to)s”.") % {"from": lead.status, "to": to},
            allowed=allowed,
        )
    if not role_checked and actor is not None and not _may_move(actor, lead, move):
        raise Forbidden(_("Your role may not make this move on this lead."))
    if move.reason_required and not reason and not options.reason_code:
        raise MissingField(_("A reason is required for this move."), field="reason")
    lacking = gates.missing(actor, lead, move, options)
    if lacking:
        raise MissingField(
            _("Not yet: %(items)s.") % {"items": "; ".join(m.label for m in lacking)},
            field=lacking[0].field,
            missing=[m.as_dict() for m in lacking],
        )
    changes = _apply(actor, lead, move, options, reason, now)
    updated = Lead.objects.filter(pk=lead.pk, version=lead.version, status=move.source).update(
        **changes
    )
    if updated != 1:  # pragma: no cover - the caller's lock makes this unreachable
        raise VersionConflict(_("The lead was changed by someone else; reload it."))
    event = LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=actor,
        kind=LeadEvent.Kind.STATUS,
        from_status=move.source,
        to_status=move.target,
        reason=reason,
        data=_event_data(lead, changes, options),
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
    duration_seconds: int | None = None,
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
        duration_seconds = None
    if duration_seconds is not None and not 0 <= duration_seconds <= 24 * 3600:
        raise MissingField(_("A call lasts from 0 seconds to 24 hours."), field="duration")
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
        if duration_seconds is not None:
            data["duration"] = duration_seconds
        if "sdr" in changes:
            data["sdr"] = actor.pk
        event = LeadEvent.objects.create(
            lead=lead, at=now, actor=actor, kind=LeadEvent.Kind.TOUCH, reason=note, data=data
        )
        _changed(lead, event, actor, now, from_status=lead.status)
    return lead


def add_note(actor: User, lead_id: int, text: str, *, now: datetime | None = None) -> LeadEvent:
    """A note in the lead's history: anyone who may see the lead may write one."""
    now = now or timezone.now()
    text = (text or "").strip()
    if not text:
        raise MissingField(_("Write the note first."), field="note")
    if len(text) > 4000:
        raise MissingField(_("A note is at most 4,000 characters."), field="note")
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None or not queries.visible_leads(actor).filter(pk=lead_id).exists():
            raise LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})
        return LeadEvent.objects.create(
            lead=lead, at=now, actor=actor, kind=LeadEvent.Kind.NOTE, reason=text
        )


def may_claim(user: User, lead: Lead) -> bool:
    """An incoming request nobody owns yet, and a user who works the SDR queue."""
    return (
        lead.status in queries.SDR_INCOMING
        and lead.sdr_id is None
        and (user.role in (Role.SDR, Role.HEAD_MARKETING, Role.ADMIN) or user.is_superuser)
    )


def leads_sdr_team(user: User) -> bool:
    """A lead SDR (a marketing team's lead), the head of marketing or an admin."""
    if user.is_superuser or user.role in (Role.ADMIN, Role.HEAD_MARKETING):
        return True
    return user.role == Role.SDR and user.led_teams.exists()


def claim(actor: User, lead_id: int, *, now: datetime | None = None) -> Lead:
    """Take an incoming request: the actor owns it and it is in ``sdr_processing``.

    One winner: the row is locked, and whoever comes second is told who has it
    (``AlreadyTaken``, 409). Claiming one's own request again changes nothing.
    """
    now = now or timezone.now()
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        # Whoever lost the race no longer sees the request, yet learns who has it: an
        # incoming request's owner is no secret inside the SDR team.
        taken = (
            lead is not None
            and lead.status in queries.SDR_INCOMING
            and lead.sdr_id not in (None, actor.pk)
            and actor.role in (Role.SDR, Role.HEAD_MARKETING)
        )
        if lead is None or not (taken or queries.visible_leads(actor).filter(pk=lead_id).exists()):
            raise LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})
        if lead.status not in queries.SDR_INCOMING:
            raise TransitionNotAllowed(
                _("Only a new request can be claimed; this one is “%(status)s”.")
                % {"status": Status(lead.status).label}
            )
        if lead.sdr_id is not None and lead.sdr_id != actor.pk:
            owner = User.objects.get(pk=lead.sdr_id)
            raise AlreadyTaken(
                _("Already taken by %(name)s.") % {"name": owner.display_name},
                owner={"id": owner.pk, "name": owner.display_name},
            )
        if lead.sdr_id == actor.pk and lead.status == Status.SDR_PROCESSING:
            return lead
        if actor.role not in (Role.SDR, Role.HEAD_MARKETING, Role.ADMIN) and not (
            actor.is_superuser
        ):
            raise Forbidden(_("Only the SDR team claims incoming requests."))
        if lead.status == Status.NEW:
            return move_lead(
                actor,
                lead.pk,
                Status.SDR_PROCESSING,
                version=lead.version,
                options=MoveOptions(sdr=actor),
                now=now,
            )
        return _set_sdr(actor, lead, actor, now, why="claimed")


def reassign(
    actor: User,
    lead_id: int,
    sdr: User,
    *,
    version: int,
    now: datetime | None = None,
) -> Lead:
    """Give an SDR-side request to another SDR: the lead SDR's or the head's call."""
    now = now or timezone.now()
    if not leads_sdr_team(actor):
        raise Forbidden(_("Only the lead SDR or the head of marketing reassigns requests."))
    if sdr.role != Role.SDR or not sdr.is_active:
        raise MissingField(_("The new owner must be an active SDR."), field="sdr")
    with transaction.atomic():
        lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if lead is None or not queries.visible_leads(actor).filter(pk=lead_id).exists():
            raise LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})
        if lead.version != version:
            raise VersionConflict(
                _("The lead was changed by someone else; reload it."),
                current_version=lead.version,
                status=lead.status,
            )
        if lead.status not in queries.SDR_INCOMING:
            raise TransitionNotAllowed(
                _("Only a request still with the SDR team can be reassigned.")
            )
        if lead.sdr_id == sdr.pk:
            return lead
        return _set_sdr(actor, lead, sdr, now, why="reassigned")


def _set_sdr(actor: User | None, lead: Lead, sdr: User, now: datetime, why: str) -> Lead:
    """Write a new SDR owner and its event; the caller holds the row lock."""
    version = lead.version + 1
    Lead.objects.filter(pk=lead.pk).update(sdr=sdr, version=version)
    event = LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=actor,
        kind=LeadEvent.Kind.OWNER,
        data={"version": version, "sdr": sdr.pk, "sdr_before": lead.sdr_id, "why": why},
    )
    _changed(lead, event, actor, now, from_status=lead.status)
    return lead


def _changed(
    lead: Lead, event: LeadEvent, actor: User | None, now: datetime, from_status: str
) -> None:
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
    actor: User | None,
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
        "end_reason_code": (
            options.reason_code if target in (Status.DISQUALIFIED, Status.LOST) else ""
        ),
    }
    competitor = options.competitor.strip()[:200] if target == Status.LOST else ""
    if competitor or lead.lost_to:
        changes["lost_to"] = competitor
    if target == Status.NEW:
        # Back to the queue: released by its SDR, anyone may claim it again.
        if lead.sdr_id is not None:
            changes["sdr"] = None
    elif options.sdr is not None:
        changes["sdr"] = options.sdr
    elif lead.sdr_id is None and actor is not None and actor.role == Role.SDR:
        # Whichever SDR first acts on an unowned request owns it from then on.
        changes["sdr"] = actor
    if target == Status.ASSIGNED:
        manager: User | None
        if actor is not None and actor.role == Role.SALES:
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


def _event_data(lead: Lead, changes: dict[str, Any], options: MoveOptions) -> dict[str, Any]:
    data: dict[str, Any] = {"version": changes["version"]}
    if options.reason_code:
        data["reason_code"] = options.reason_code
    if changes.get("lost_to"):
        data["competitor"] = changes["lost_to"]
    for field in ("sdr", "manager", "partner", "routed_to"):
        if field in changes:
            new = changes[field]
            data[field] = new.pk if new is not None else None
    return data
