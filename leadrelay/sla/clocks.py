"""Starting and stopping SLA clocks as a lead moves; the rules in one place.

- ``first_contact`` starts when a request arrives (at ``received_at``) and stops only
  at the first human touch (a logged call, an e-mail sent, a meeting). Moving the lead
  does not stop it; closing the lead (disqualified, referred, routed, lost) cancels it.
- ``assignment`` starts on entering ``awaiting_assignment`` and stops when a manager
  is assigned; going back to the SDR or closing cancels it.
- ``manager_action`` starts on entering ``assigned`` and stops at the manager's first
  touch or move forward; a move back or a close cancels it.

A stopped clock is met when it stopped by its due time, else breached. A clock the
worker already recorded as breached stays breached whatever happens next. Everything
here runs inside the transaction of the change that caused it (``leads.hooks``).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from django.conf import settings

from leadrelay.leads.hooks import Change
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import OPEN, PATH, Status
from leadrelay.sla.calendar import BusinessCalendar
from leadrelay.sla.models import START_STATUS, Breach, Calendar, Clock, ClockKind, Policy


def builtin_calendar() -> BusinessCalendar:
    """Without any calendar configured: 09-18 Mon-Fri in the site's zone, Russian holidays."""
    return _builtin(settings.TIME_ZONE)


@lru_cache(maxsize=4)
def _builtin(zone: str) -> BusinessCalendar:
    return BusinessCalendar(timezone=zone)


def _default_calendar() -> tuple[Calendar | None, BusinessCalendar]:
    row = Calendar.objects.filter(is_default=True).prefetch_related("days").first()
    return (row, row.business_calendar()) if row is not None else (None, builtin_calendar())


def calendar_for(lead: Lead) -> tuple[Calendar | None, BusinessCalendar]:
    """The calendar of the lead's owner's team (SDR, else manager), else the default.

    Read on every clock start, not cached: a calendar or policy changed or deleted in the
    admin applies to the next lead in every process at once.
    """
    for owner_id in (lead.sdr_id, lead.manager_id):
        if owner_id is None:
            continue
        row = (
            Calendar.objects.filter(teams__members__pk=owner_id)
            .prefetch_related("days")
            .order_by("pk")
            .first()
        )
        if row is not None:
            return row, row.business_calendar()
    return _default_calendar()


def calendar_of(clock: Clock) -> BusinessCalendar:
    if clock.calendar_id is not None:
        row = Calendar.objects.filter(pk=clock.calendar_id).prefetch_related("days").first()
        if row is not None:
            return row.business_calendar()
    return _default_calendar()[1]


def policy_for(kind: str, lead: Lead) -> Policy | None:
    """The most specific active policy: service and source > service > source > any."""
    best: tuple[int, int] | None = None
    chosen = None
    for policy in Policy.objects.filter(active=True, kind=kind):
        if policy.service_id is not None and policy.service_id != lead.service_id:
            continue
        if policy.source_id is not None and policy.source_id != lead.source_id:
            continue
        score = (2 if policy.service_id else 0) + (1 if policy.source_id else 0)
        if best is None or (score, -policy.pk) > best:
            best, chosen = (score, -policy.pk), policy
    return chosen


def warn_at(clock: Clock, policy: Policy, cal: BusinessCalendar) -> datetime:
    """When the countdown turns amber: the first escalation step before the deadline."""
    fractions = [f for f in policy.steps() if f < 1.0]
    if not fractions:
        return clock.due_at
    return cal.add(clock.started_at, policy.duration * fractions[0])


def start(
    lead: Lead, kind: str, started_at: datetime
) -> tuple[Clock, Policy, BusinessCalendar] | None:
    policy = policy_for(kind, lead)
    if policy is None:
        return None
    row, cal = calendar_for(lead)
    steps = policy.steps()
    clock = Clock.objects.create(
        lead=lead,
        policy=policy,
        kind=kind,
        calendar=row,
        started_at=started_at,
        due_at=cal.add(started_at, policy.duration),
        next_step=0,
        next_check_at=cal.add(started_at, policy.duration * steps[0]),
    )
    return clock, policy, cal


def cause_of(clock: Clock, sdr_id: int | None) -> str:
    """Why a deadline was missed, as the ledger records it (``sdr_id``: the lead's SDR
    when it was missed)."""
    if clock.kind == ClockKind.FIRST_CONTACT:
        return Breach.Cause.UNCLAIMED if sdr_id is None else Breach.Cause.NOT_CONTACTED
    if clock.kind == ClockKind.ASSIGNMENT:
        return Breach.Cause.NOT_ASSIGNED
    return Breach.Cause.NO_MANAGER_ACTION


def record_breach(
    clock: Clock, lead: Lead, cal: BusinessCalendar, now: datetime, sdr_id: int | None
) -> Breach:
    return Breach.objects.create(
        clock=clock,
        lead=lead,
        kind=clock.kind,
        due_at=clock.due_at,
        detected_at=now,
        cause=cause_of(clock, sdr_id),
        responsible_id=lead.manager_id if clock.kind == ClockKind.MANAGER_ACTION else sdr_id,
        off_hours=not cal.is_working_time(clock.started_at),
    )


def stop(
    lead: Lead,
    kinds: set[str],
    now: datetime,
    actor_id: int | None,
    cancel: bool,
    sdr_before: int | None = None,
) -> None:
    """Stop the lead's running clocks of these kinds: met or breached, or cancelled.

    A deadline missed before the worker noticed goes into the breach ledger here; the
    UPDATE is conditional on no breach being recorded yet, so a worker recording the
    same breach at the same moment makes one ledger row, not two.
    """
    for clock in Clock.objects.filter(lead=lead, kind__in=kinds, outcome=Clock.Outcome.RUNNING):
        cal = calendar_of(clock)
        if clock.breached_at is not None or (not cancel and now > clock.due_at):
            outcome = Clock.Outcome.BREACHED
        elif cancel:
            outcome = Clock.Outcome.CANCELLED
        else:
            outcome = Clock.Outcome.MET
        owner = lead.manager_id if clock.kind == ClockKind.MANAGER_ACTION else lead.sdr_id
        changes = {
            "outcome": outcome,
            "stopped_at": now,
            "stopped_by_id": actor_id,
            "owner_id": owner,
            "working_seconds": int(cal.elapsed(clock.started_at, now).total_seconds())
            if now > clock.started_at
            else 0,
            "calendar_seconds": max(0, int((now - clock.started_at).total_seconds())),
            "next_check_at": None,
        }
        running = Clock.objects.filter(pk=clock.pk, outcome=Clock.Outcome.RUNNING)
        unrecorded = outcome == Clock.Outcome.BREACHED and clock.breached_at is None
        if unrecorded and running.filter(breached_at__isnull=True).update(
            **changes, breached_at=now
        ):
            # Missed before this change: the SDR it had then answers for it.
            record_breach(clock, lead, cal, now, sdr_before)
            continue
        running.update(**changes)


def refresh_deadline(lead: Lead) -> None:
    """Keep the lead's countdown fields on its earliest running deadline."""
    running = (
        Clock.objects.filter(lead=lead, outcome=Clock.Outcome.RUNNING)
        .order_by("due_at")
        .select_related("policy")
        .first()
    )
    due = warn = None
    if running is not None:
        due = running.due_at
        warn = warn_at(running, running.policy, calendar_of(running))
    set_deadline(lead, due, warn)


def set_deadline(lead: Lead, due: datetime | None, warn: datetime | None) -> None:
    if (lead.sla_due_at, lead.sla_warn_at) != (due, warn):
        Lead.objects.filter(pk=lead.pk).update(sla_due_at=due, sla_warn_at=warn)
        lead.sla_due_at, lead.sla_warn_at = due, warn


# The clocks a status change starts and stops (first contact is the request's own).
HANDOFF_CLOCKS = (ClockKind.ASSIGNMENT, ClockKind.MANAGER_ACTION)


def _forward(source: str, target: str) -> bool:
    return source in PATH and target in PATH and PATH.index(target) > PATH.index(source)


def on_change(change: Change) -> None:
    lead, event, now = change.lead, change.event, change.now
    actor_id = change.actor.pk if change.actor is not None else None
    if event.kind == LeadEvent.Kind.CREATED:
        # A new lead has just this clock: its deadline is known without reading it back.
        started = start(lead, ClockKind.FIRST_CONTACT, lead.received_at)
        if started is not None:
            clock, policy, cal = started
            set_deadline(lead, clock.due_at, warn_at(clock, policy, cal))
        return
    elif event.kind == LeadEvent.Kind.TOUCH:
        kinds = {str(ClockKind.FIRST_CONTACT)}
        if lead.status == Status.ASSIGNED:
            kinds.add(ClockKind.MANAGER_ACTION)
        stop(lead, kinds, now, actor_id, cancel=False, sdr_before=change.sdr_before)
    elif event.kind == LeadEvent.Kind.STATUS:
        source, target = change.from_status, lead.status
        if target not in OPEN:
            stop(
                lead,
                {k.value for k in ClockKind},
                now,
                actor_id,
                cancel=True,
                sdr_before=change.sdr_before,
            )
        for kind in HANDOFF_CLOCKS:
            if source == START_STATUS[kind] and target in OPEN:
                stop(
                    lead,
                    {kind.value},
                    now,
                    actor_id,
                    cancel=not _forward(source, target),
                    sdr_before=change.sdr_before,
                )
        for kind in HANDOFF_CLOCKS:
            if target == START_STATUS[kind]:
                start(lead, kind, now)
    else:
        return
    refresh_deadline(lead)
