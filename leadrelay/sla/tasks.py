"""The worker's SLA job: fire escalation steps and record breaches as deadlines pass.

Running clocks carry the time of their next step (``next_check_at``, indexed only while
set), so a sweep reads just the clocks that are due, however many closed leads there
are. A batch is one transaction: rows are locked with ``SKIP LOCKED`` on PostgreSQL
(SQLite's write lock serialises workers anyway), and each step is taken with an UPDATE
conditional on the step it read, so with any number of workers every step fires once;
a worker killed mid-batch rolls back and the next one does the batch again.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from leadrelay.accounts.models import Team, User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead
from leadrelay.notify.events import publish
from leadrelay.notify.models import Notification, WebhookEndpoint
from leadrelay.notify.outbox import notify
from leadrelay.sla.calendar import BusinessCalendar
from leadrelay.sla.clocks import calendar_of, cause_of, record_breach
from leadrelay.sla.models import Clock, ClockKind

BATCH = 200


class Batch:
    """What one sweep reads once for all its clocks: calendars and people by role."""

    def __init__(self) -> None:
        self._calendars: dict[int | None, BusinessCalendar] = {}
        self._roles: dict[str, list[User]] = {}
        self._team_leads: dict[frozenset[int], list[User]] = {}

    def calendar(self, clock: Clock) -> BusinessCalendar:
        if clock.calendar_id not in self._calendars:
            self._calendars[clock.calendar_id] = calendar_of(clock)
        return self._calendars[clock.calendar_id]

    def active(self, role: str) -> list[User]:
        if role not in self._roles:
            self._roles[role] = list(User.objects.filter(is_active=True, role=role))
        return self._roles[role]

    def team_leads(self, owners: list[User]) -> list[User]:
        team_ids = frozenset(u.team_id for u in owners if u.team_id is not None)
        if team_ids not in self._team_leads:
            teams = Team.objects.filter(pk__in=team_ids, lead__isnull=False).select_related("lead")
            self._team_leads[team_ids] = [t.lead for t in teams if t.lead is not None]
        return self._team_leads[team_ids]


def ladder(clock: Clock, lead: Lead, batch: Batch) -> list[list[User]]:
    """Who hears about each escalation level: the owner, their team lead, the head."""
    if clock.kind == ClockKind.FIRST_CONTACT:
        owners = [lead.sdr] if lead.sdr is not None else batch.active(Role.SDR)
        head = Role.HEAD_MARKETING
    elif clock.kind == ClockKind.ASSIGNMENT:
        owners = batch.active(Role.HEAD_SALES)
        head = Role.HEAD_SALES
    else:
        owners = [lead.manager] if lead.manager is not None else batch.active(Role.HEAD_SALES)
        head = Role.HEAD_SALES
    return [owners, batch.team_leads(owners), batch.active(head)]


def fire(clock: Clock, now: datetime, batch: Batch | None = None) -> bool:
    """Take every step of this clock that is due by ``now``; False if another worker did."""
    batch = batch or Batch()
    cal = batch.calendar(clock)
    steps = clock.policy.steps()
    duration = clock.policy.duration
    step = clock.next_step
    fired: list[float] = []
    while step < len(steps) and cal.add(clock.started_at, duration * steps[step]) <= now:
        fired.append(steps[step])
        step += 1
    if not fired:
        # Not due after all (the calendar changed): just move the check.
        Clock.objects.filter(pk=clock.pk, next_step=clock.next_step).update(
            next_check_at=cal.add(clock.started_at, duration * steps[step])
        )
        return False
    next_at = cal.add(clock.started_at, duration * steps[step]) if step < len(steps) else None
    breach = clock.breached_at is None and any(f >= 1.0 for f in fired)
    changes: dict[str, object] = {"next_step": step, "next_check_at": next_at}
    if breach:
        changes["breached_at"] = now
    won = Clock.objects.filter(
        pk=clock.pk, next_step=clock.next_step, outcome=Clock.Outcome.RUNNING
    ).update(**changes)
    if not won:
        return False
    lead = Lead.objects.select_related("sdr", "manager", "source", "service").get(pk=clock.lead_id)
    level = min(step - 1, 2)
    latest = fired[-1]
    kind = (
        Notification.Kind.SLA_WARNING
        if latest < 1.0
        else Notification.Kind.SLA_BREACH
        if level <= 1
        else Notification.Kind.SLA_ESCALATION
    )
    levels = ladder(clock, lead, batch)
    recipients = [u for lvl in levels[: level + 1] for u in lvl]
    due_local = timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M")
    notify(
        recipients,
        kind,
        dedup_key=f"sla:{clock.pk}:{step - 1}",
        now=now,
        lead=lead,
        data={"clock": clock.kind, "due": clock.due_at, "due_local": due_local, "step": latest},
    )
    if breach:
        record_breach(clock, lead, cal, now, lead.sdr_id)
        publish(
            WebhookEndpoint.Event.SLA_BREACHED,
            lead,
            now,
            f"clock-{clock.pk}",
            {
                "sla": {
                    "clock": clock.kind,
                    "due_at": clock.due_at,
                    "cause": cause_of(clock, lead.sdr_id),
                }
            },
        )
    return True


def sweep(now: datetime | None = None, limit: int = BATCH) -> int:
    """One batch of due clocks. Returns how many were looked at."""
    now = now or timezone.now()
    with transaction.atomic():
        due = (
            Clock.objects.filter(next_check_at__lte=now)
            .select_related("policy")
            .order_by("next_check_at")
        )
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        clocks = list(due[:limit])
        batch = Batch()
        for clock in clocks:
            fire(clock, now, batch)
    return len(clocks)


SWEEP_ROUNDS = 10


def sweep_due(now: datetime | None = None) -> int:
    """The worker's job: sweep batch after batch while clocks are due (a burst of
    deadlines is cleared in one pass), up to SWEEP_ROUNDS batches."""
    handled = 0
    for _ in range(SWEEP_ROUNDS):
        done = sweep(now)
        handled += done
        if done < BATCH:
            break
    return handled


def next_check() -> datetime | None:
    """When the next escalation step falls due (read from the index of running clocks)."""
    return (
        Clock.objects.filter(next_check_at__isnull=False)
        .order_by("next_check_at")
        .values_list("next_check_at", flat=True)
        .first()
    )
