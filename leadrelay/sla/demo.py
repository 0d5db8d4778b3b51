"""SLA demo data: calendars, the clocks of a generated history, breaches, notifications.

``leadrelay.demo`` generates a year of lead histories in plain Python and writes them in
bulk; this module gives those histories what the live system would have left next to
them. ``ensure_sla`` sets up the calendars and the SDR team's lead with the ORM and
returns an :class:`SlaSetup`: the policies, the calendars as :class:`WorkTime` tables and
who hears about what. ``SlaSetup.clocks`` then turns one lead's history into its clock,
breach and notification rows by the rules of ``sla.clocks`` (start, stop, cancel) and
``sla.tasks`` (the worker's escalation steps, fired a few seconds after they fall due).
``load_webhook_demo`` adds a webhook endpoint with a history of deliveries.

Times are integer UTC seconds, as in the generator: a million leads make a few million
clocks, and ``BusinessCalendar.add`` on datetimes costs microseconds a call.
:class:`WorkTime` answers the same questions (the tests hold it to the calendar) from the
calendar's own working intervals with two bisections.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction

from leadrelay.accounts.models import Team, User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.serialize import lead_dict
from leadrelay.leads.statuses import OPEN, PATH
from leadrelay.notify.channels import WEBHOOK_RETRY_SCHEDULE, new_webhook_secret
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint
from leadrelay.notify.outbox import admins, plain
from leadrelay.sla.calendar import BusinessCalendar
from leadrelay.sla.clocks import builtin_calendar
from leadrelay.sla.models import START_STATUS, Breach, Calendar, CalendarDay, ClockKind, Policy

__all__ = [
    "CREATED",
    "STATUS",
    "TOUCH",
    "SlaSetup",
    "WorkTime",
    "ensure_sla",
    "load_webhook_demo",
]

# --------------------------------------------------------------------------------------
# Working time on integer seconds.


class WorkTime:
    """A business calendar's working intervals over a range of days, on UTC seconds.

    ``add``, ``elapsed`` and ``working`` give what ``BusinessCalendar.add``, ``elapsed``
    and ``is_working_time`` give for whole-second times inside the range, from the
    cumulative working time before each interval.
    """

    __slots__ = ("before", "ends", "starts", "through")

    def __init__(self, calendar: BusinessCalendar, first: date, last: date) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        day = first
        while day <= last:
            # The calendar's own UTC intervals of each local day (DST and holidays
            # applied there), cached by the calendar: one BusinessCalendar per row.
            for span_start, span_end in calendar._utc_spans(day):
                self.starts.append(int(span_start.timestamp()))
                self.ends.append(int(span_end.timestamp()))
            day += timedelta(days=1)
        if not self.starts:
            raise ValueError("demo: the calendar has no working time in the demo's year")
        self.before: list[int] = []  # working seconds before each interval
        self.through: list[int] = []  # … and up to its end
        total = 0
        for start, end in zip(self.starts, self.ends, strict=True):
            self.before.append(total)
            total += end - start
            self.through.append(total)

    def _worked(self, t: int) -> int:
        """Working seconds from the start of the range to ``t``."""
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        return self.before[i] + min(t, self.ends[i]) - self.starts[i]

    def add(self, t: int, seconds: int) -> int:
        """When ``seconds`` of working time have passed since ``t``."""
        if seconds <= 0:
            i = bisect.bisect_right(self.ends, t)
            return max(t, self.starts[i])
        target = self._worked(t) + seconds
        i = bisect.bisect_left(self.through, target)
        if i >= len(self.starts):
            raise ValueError("demo: a deadline falls after the end of the demo's calendar")
        return self.starts[i] + target - self.before[i]

    def back(self, t: int, seconds: int) -> int:
        """The latest moment with ``seconds`` of working time between it and ``t``."""
        target = self._worked(t) - seconds
        if target < 0:
            raise ValueError("demo: a moment before the start of the demo's calendar")
        i = bisect.bisect_right(self.before, target) - 1
        return self.starts[i] + target - self.before[i]

    def elapsed(self, start: int, end: int) -> int:
        """Working seconds in ``[start, end)``."""
        return self._worked(end) - self._worked(start) if end > start else 0

    def working(self, t: int) -> bool:
        i = bisect.bisect_right(self.starts, t) - 1
        return i >= 0 and t < self.ends[i]


# --------------------------------------------------------------------------------------
# What the generator tells about a lead's history: (at, code, from, to, actor, sdr,
# manager, at as the writer stores it), oldest first; sdr and manager as the lead has
# them after the event, and for a touch from/to are the status the lead is in.
CREATED, STATUS, TOUCH = 0, 1, 2
History = list[tuple[int, int, str, str, int | None, int | None, int | None, str]]
Row = tuple[Any, ...]
Out = tuple[list[Row], list[Row], list[Row]]  # clock, breach and notification rows

_FIRST_CONTACT = ClockKind.FIRST_CONTACT.value
_ASSIGNMENT = ClockKind.ASSIGNMENT.value
_MANAGER_ACTION = ClockKind.MANAGER_ACTION.value
_OPEN = frozenset(s.value for s in OPEN)
_PATH = tuple(s.value for s in PATH)
# The statuses the hand-off clocks start in (the manager's also stops at a touch there).
_AWAITING = START_STATUS[ClockKind.ASSIGNMENT].value
_ASSIGNED = START_STATUS[ClockKind.MANAGER_ACTION].value
_RUNNING, _MET, _BREACHED, _CANCELLED = "running", "met", "breached", "cancelled"
_WARNING = Notification.Kind.SLA_WARNING.value
_BREACH = Notification.Kind.SLA_BREACH.value
_ESCALATION = Notification.Kind.SLA_ESCALATION.value


def _forward(source: str, target: str) -> bool:
    return source in _PATH and target in _PATH and _PATH.index(target) > _PATH.index(source)


@dataclass(frozen=True)
class _Policy:
    pk: int
    kind: str
    seconds: int
    steps: tuple[float, ...]  # Policy.steps(): ascending, with 1.0
    step_seconds: tuple[int, ...]
    due_step: int  # the index of 1.0
    warn_seconds: int  # refresh_deadline's warning: the first step below 1.0, else the due


# A running clock as the loop carries it (most stop before any step, and need no more):
# policy, calendar id, its working time, started (and as stored), the calendar's working
# seconds up to the start, due, how long after a step falls due the worker takes it.
_Running = tuple[_Policy, int | None, WorkTime, int, str, int, int, int]


class _Clock:
    """A clock that had steps taken or still runs: its policy and calendar, when it
    started and is due."""

    __slots__ = (
        "calendar", "delay", "due", "kind", "policy", "started", "started_s", "work", "worked",
    )  # fmt: skip

    def __init__(self, running: _Running) -> None:
        policy, calendar, work, started, started_s, worked, due, delay = running
        self.kind = policy.kind
        self.policy = policy
        self.calendar = calendar
        self.work = work
        self.started = started
        self.started_s = started_s  # as the writer stores it
        self.worked = worked  # the calendar's working seconds up to the start
        self.due = due
        self.delay = delay  # how long after a step falls due the worker takes it

    def time(self, seconds: int) -> int:
        """``work.add(started, seconds)`` for seconds > 0, from the start's position."""
        work = self.work
        target = self.worked + seconds
        i = bisect.bisect_left(work.through, target)
        return work.starts[i] + target - work.before[i]


_NOT_STOPPED = (None, None, None, None, None)


@dataclass
class SlaSetup:
    """The policies, calendars and people the clocks of the demo need, read once."""

    policies: dict[str, list[tuple[int | None, int | None, _Policy]]]
    default: tuple[int | None, WorkTime]
    by_owner: dict[int, tuple[int | None, WorkTime]]  # users whose team has a calendar
    active: frozenset[int]
    role_members: dict[str, tuple[int, ...]]  # active users per role, for the ladder
    team_lead: dict[int, int]  # user -> their team's lead
    zone: str
    notify_since: int  # the worker's notifications are kept from here on
    now: int
    rng: random.Random
    fmt: Callable[[int], str] = str  # the writer's timestamp text, set by the generator
    # The next ids, after the tables' largest: set by the generator.
    next_clock: int = 1
    next_breach: int = 1
    next_notification: int = 1
    _chosen: dict[tuple[str, int | None, int | None], _Policy | None] = field(default_factory=dict)
    _by_lead: dict[
        tuple[int | None, int | None], tuple[_Policy | None, _Policy | None, _Policy | None]
    ] = field(default_factory=dict)

    # ---- what sla.clocks would look up ----------------------------------------------
    def policy(self, kind: str, service: int | None, source: int | None) -> _Policy | None:
        """``clocks.policy_for``: service and source > service > source > any; lowest id."""
        key = (kind, service, source)
        if key in self._chosen:
            return self._chosen[key]
        best: tuple[int, int] | None = None
        chosen = None
        for service_id, source_id, policy in self.policies.get(kind, []):
            if service_id is not None and service_id != service:
                continue
            if source_id is not None and source_id != source:
                continue
            score = (2 if service_id else 0) + (1 if source_id else 0)
            if best is None or (score, -policy.pk) > best:
                best, chosen = (score, -policy.pk), policy
        self._chosen[key] = chosen
        return chosen

    def calendar(self, sdr: int | None, manager: int | None) -> tuple[int | None, WorkTime]:
        """``clocks.calendar_for``: the SDR's team's calendar, else the manager's, else
        the default one."""
        for owner in (sdr, manager):
            if owner is not None and (found := self.by_owner.get(owner)) is not None:
                return found
        return self.default

    def _ladder(self, kind: str, sdr: int | None, manager: int | None) -> list[list[int]]:
        """``tasks.ladder``: the owners, their team leads, the head."""
        if kind == _FIRST_CONTACT:
            owners = [sdr] if sdr is not None else list(self.role_members[Role.SDR])
            head = Role.HEAD_MARKETING
        elif kind == _ASSIGNMENT:
            owners = list(self.role_members[Role.HEAD_SALES])
            head = Role.HEAD_SALES
        else:
            owners = [manager] if manager is not None else list(self.role_members[Role.HEAD_SALES])
            head = Role.HEAD_SALES
        leads = sorted({self.team_lead[u] for u in owners if u in self.team_lead})
        return [owners, leads, list(self.role_members[head])]

    # ---- one lead -------------------------------------------------------------------
    def clocks(
        self,
        lead: int,
        service: int | None,
        source: int | None,
        history: History,
        out: Out,
        named_at: int | None = None,
    ) -> tuple[int | None, int | None]:
        """Append the lead's clock, breach and notification rows to ``out``; return its
        ``sla_due_at`` and ``sla_warn_at`` (of the running clock due first).

        ``clocks.on_change`` for each event in turn (a million leads pass through here,
        hence the plain loop): a close cancels every running clock, leaving the start
        status of a hand-off clock stops it (met or breached if forward), entering it
        starts one; a touch stops the first-contact clock, and the manager's while the
        lead is assigned. ``named_at``: when the SDR named the service of a request that
        came without one; a clock started before it has the policy of no service.
        """
        running: dict[str, _Running] = {}
        stop = self._stop
        start = self._start
        key = (service, source)
        policies = self._by_lead.get(key) or self._lead_policies(key)
        unnamed = policies
        if named_at is not None:
            unnamed = self._by_lead.get((None, source)) or self._lead_policies((None, source))
        for at, code, source_status, target, actor, sdr, manager, at_s in history:
            if named_at is not None:
                policies = unnamed if at < named_at else self._by_lead[key]
            if code == TOUCH:
                if _FIRST_CONTACT in running:
                    clock = running.pop(_FIRST_CONTACT)
                    stop(clock, lead, at, at_s, actor, sdr, False, history, out)
                if target == _ASSIGNED and _MANAGER_ACTION in running:
                    clock = running.pop(_MANAGER_ACTION)
                    stop(clock, lead, at, at_s, actor, manager, False, history, out)
            elif code == STATUS:
                if running:
                    if target not in _OPEN:
                        for kind, clock in running.items():
                            owner = manager if kind == _MANAGER_ACTION else sdr
                            stop(clock, lead, at, at_s, actor, owner, True, history, out)
                        running.clear()
                    elif source_status == _AWAITING and _ASSIGNMENT in running:
                        clock = running.pop(_ASSIGNMENT)
                        cancel = not _forward(source_status, target)
                        stop(clock, lead, at, at_s, actor, sdr, cancel, history, out)
                    elif source_status == _ASSIGNED and _MANAGER_ACTION in running:
                        clock = running.pop(_MANAGER_ACTION)
                        cancel = not _forward(source_status, target)
                        stop(clock, lead, at, at_s, actor, manager, cancel, history, out)
                if target == _AWAITING and policies[1] is not None:
                    running[_ASSIGNMENT] = start(policies[1], at, at_s, sdr, manager)
                elif target == _ASSIGNED and policies[2] is not None:
                    running[_MANAGER_ACTION] = start(policies[2], at, at_s, sdr, manager)
            elif policies[0] is not None:
                running[_FIRST_CONTACT] = start(policies[0], at, at_s, sdr, manager)
        if not running:
            return None, None
        first: _Clock | None = None
        for values in running.values():
            live = _Clock(values)
            if first is None or live.due < first.due:
                first = live
            fired, next_at = self._fired(live, self.now, True)
            next_check = self.fmt(next_at) if next_at is not None else None
            self._write(live, lead, _RUNNING, None, fired, next_check, history, out)
        assert first is not None
        return first.due, first.time(first.policy.warn_seconds)

    def _lead_policies(
        self, key: tuple[int | None, int | None]
    ) -> tuple[_Policy | None, _Policy | None, _Policy | None]:
        """The first-contact, assignment and manager-action policies of a service and
        source."""
        found = (
            self.policy(_FIRST_CONTACT, *key),
            self.policy(_ASSIGNMENT, *key),
            self.policy(_MANAGER_ACTION, *key),
        )
        self._by_lead[key] = found
        return found

    def _start(
        self, policy: _Policy, at: int, at_s: str, sdr: int | None, manager: int | None
    ) -> _Running:
        """``clocks.start``: the calendar the lead has now, the due time."""
        by_owner = self.by_owner
        if sdr is not None and sdr in by_owner:
            calendar, work = by_owner[sdr]
        elif manager is not None and manager in by_owner:
            calendar, work = by_owner[manager]
        else:
            calendar, work = self.default
        # WorkTime._worked and add, inlined: this runs for every clock.
        starts, before = work.starts, work.before
        i = bisect.bisect_right(starts, at) - 1
        worked = before[i] + min(at, work.ends[i]) - starts[i] if i >= 0 else 0
        target = worked + policy.seconds
        j = bisect.bisect_left(work.through, target)
        due = starts[j] + target - before[j]
        return (policy, calendar, work, at, at_s, worked, due, 2 + int(self.rng.random() * 14))

    def _fired(
        self, clock: _Clock, until: int, inclusive: bool
    ) -> tuple[list[tuple[int, int]], int | None]:
        """The steps the worker took before ``until`` (at ``until`` too if inclusive):
        (step, when) each, and when the next one falls due (None: no step left)."""
        fired: list[tuple[int, int]] = []
        policy = clock.policy
        due_step = policy.due_step
        delay = clock.delay
        for step, seconds in enumerate(policy.step_seconds):
            at = clock.due if step == due_step else clock.time(seconds)
            taken = at + delay
            if taken < until or (inclusive and taken == until):
                fired.append((step, taken))
            else:
                return fired, at
        return fired, None

    def _stop(
        self,
        running: _Running,
        lead: int,
        at: int,
        at_s: str,
        actor: int | None,
        owner: int | None,
        cancel: bool,
        history: History,
        out: Out,
    ) -> None:
        """``clocks.stop``: met or breached, or cancelled; the worker's steps before it."""
        policy, calendar, work, started, started_s, worked, due, _ = running
        if at > started:
            # WorkTime.elapsed from the start's position, inlined.
            i = bisect.bisect_right(work.starts, at) - 1
            working = work.before[i] + min(at, work.ends[i]) - work.starts[i] - worked
        else:
            working = 0
        if at - started <= policy.step_seconds[0]:
            # Most clocks stop before their first step (which is no earlier in calendar
            # time than in working time): nothing fired, the row alone.
            clock_id = self.next_clock
            self.next_clock = clock_id + 1
            out[0].append(
                (
                    clock_id,
                    lead,
                    policy.pk,
                    policy.kind,
                    calendar,
                    started_s,
                    self.fmt(due),
                    _CANCELLED if cancel else _MET,
                    at_s,
                    actor,
                    owner,
                    working,
                    max(0, at - started),
                    0,
                    None,
                    None,
                )
            )
            return
        clock = _Clock(running)
        if due < at <= due + clock.delay:
            # The worker takes a step at the earliest the second it falls due: a stop in
            # between finds the breach recorded, as a stop after a real sweep would.
            clock.delay = 0
        fired = self._fired(clock, at, False)[0]
        if (fired and fired[-1][0] >= policy.due_step) or (not cancel and at > due):
            outcome = _BREACHED
        elif cancel:
            outcome = _CANCELLED
        else:
            outcome = _MET
        stopped = (at_s, actor, owner, working, max(0, at - started))
        self._write(clock, lead, outcome, stopped, fired, None, history, out)

    def _write(
        self,
        clock: _Clock,
        lead: int,
        outcome: str,
        stopped: tuple[str, int | None, int | None, int, int] | None,
        fired: list[tuple[int, int]],
        next_check: str | None,
        history: History,
        out: Out,
    ) -> None:
        """The clock's row, its breach if the worker recorded one, and the notifications
        of the steps it took recently."""
        fmt = self.fmt
        clock_id = self.next_clock
        self.next_clock = clock_id + 1
        breached_at = None
        if fired and fired[-1][0] >= clock.policy.due_step:
            breached_at = fired[clock.policy.due_step][1]
        out[0].append(
            (
                clock_id,
                lead,
                clock.policy.pk,
                clock.kind,
                clock.calendar,
                clock.started_s,
                fmt(clock.due),
                outcome,
                *(stopped or _NOT_STOPPED),
                len(fired),
                next_check,
                fmt(breached_at) if breached_at is not None else None,
            )
        )
        if breached_at is not None:
            self._breach(clock, clock_id, lead, breached_at, history, out)
        if fired and fired[-1][1] >= self.notify_since:
            for step, taken in fired:
                if taken >= self.notify_since:
                    self._notify(clock, clock_id, lead, step, taken, history, out)

    def _state(self, history: History, at: int) -> tuple[int | None, int | None]:
        """The lead's SDR and manager at ``at``."""
        sdr = manager = None
        for entry in history:
            if entry[0] > at:
                break
            sdr, manager = entry[5], entry[6]
        return sdr, manager

    def _breach(
        self, clock: _Clock, clock_id: int, lead: int, detected: int, history: History, out: Out
    ) -> None:
        """``tasks.fire``'s ledger row: the cause and who was responsible then."""
        sdr, manager = self._state(history, detected)
        if clock.kind == _FIRST_CONTACT:
            cause = Breach.Cause.UNCLAIMED if sdr is None else Breach.Cause.NOT_CONTACTED
        elif clock.kind == _ASSIGNMENT:
            cause = Breach.Cause.NOT_ASSIGNED
        else:
            cause = Breach.Cause.NO_MANAGER_ACTION
        breach_id = self.next_breach
        self.next_breach = breach_id + 1
        fmt = self.fmt
        out[1].append(
            (
                breach_id,
                clock_id,
                lead,
                clock.kind,
                fmt(clock.due),
                fmt(detected),
                cause.value,
                manager if clock.kind == _MANAGER_ACTION else sdr,
                not clock.work.working(clock.started),
            )
        )

    def _notify(
        self,
        clock: _Clock,
        clock_id: int,
        lead: int,
        step: int,
        taken: int,
        history: History,
        out: Out,
    ) -> None:
        """``tasks.fire`` -> ``outbox.notify`` for one step: a notification per person,
        read by now by most of those told more than two hours ago."""
        sdr, manager = self._state(history, taken)
        level = min(step, 2)
        latest = clock.policy.steps[step]
        kind = _WARNING if latest < 1.0 else _BREACH if level <= 1 else _ESCALATION
        recipients: dict[int, None] = {}
        for people in self._ladder(clock.kind, sdr, manager)[: level + 1]:
            for user in people:
                if user in self.active:
                    recipients[user] = None
        due = datetime.fromtimestamp(clock.due, UTC)
        data = json.dumps(
            {
                "clock": clock.kind,
                "due": due.isoformat().replace("+00:00", "Z"),
                "due_local": due.astimezone(ZoneInfo(self.zone)).strftime("%Y-%m-%d %H:%M"),
                "step": latest,
            }
        )
        rand = self.rng.random
        heads = (*self.role_members[Role.HEAD_MARKETING], *self.role_members[Role.HEAD_SALES])
        for user in recipients:
            read = None
            if self.now - taken > 2 * 3600 and rand() < (0.3 if user in heads else 0.7):
                read = self.fmt(min(self.now, taken + 120 + int(rand() * 5400)))
            note_id = self.next_notification
            self.next_notification = note_id + 1
            out[2].append(
                (
                    note_id,
                    user,
                    lead,
                    kind,
                    data,
                    self.fmt(taken),
                    read,
                    f"sla:{clock_id}:{step}:{user}",
                )
            )


# --------------------------------------------------------------------------------------
# Setting up, with the ORM: a few rows.
DEFAULT_CALENDAR = "Moscow office"
# The SDRs stay an hour longer than the office to call back the evening's requests.
TEAM_CALENDAR = "SDR team: 09:00-19:00"
_SDR_TEAM_HOURS = {day: [["09:00", "19:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
NOTIFY_DAYS = 2  # the worker's notifications of the last days are kept


def _policy(row: Policy) -> _Policy:
    seconds = row.minutes * 60
    steps = tuple(row.steps())
    step_seconds = tuple(round(seconds * f) for f in steps)
    return _Policy(
        pk=row.pk,
        kind=row.kind,
        seconds=seconds,
        steps=steps,
        step_seconds=step_seconds,
        due_step=steps.index(1.0),
        warn_seconds=step_seconds[0] if steps[0] < 1.0 else seconds,
    )


def _friday_after(day: date) -> date:
    return day + timedelta(days=(4 - day.weekday()) % 7)


def ensure_sla(
    now: datetime, sdr_team: Team | None, team_lead: User | None, first: date, last: date
) -> SlaSetup:
    """The office calendar (the default one unless there is one), the SDR team's own
    calendar and team lead; then everything the clocks need, read as ``sla.clocks`` and
    ``sla.tasks`` would read it. ``first``..``last``: the local days clocks may touch."""
    has_default = Calendar.objects.filter(is_default=True).exists()
    office, created = Calendar.objects.get_or_create(
        name=DEFAULT_CALENDAR,
        defaults={"timezone": "Europe/Moscow", "country": "RU", "is_default": not has_default},
    )
    if created:
        # A company day off to come, so the calendar page shows one.
        outing = _friday_after(now.date() + timedelta(days=14))
        CalendarDay.objects.create(calendar=office, date=outing, note="Корпоративный выезд")
    if sdr_team is not None:
        if sdr_team.lead_id is None and team_lead is not None:
            Team.objects.filter(pk=sdr_team.pk).update(lead=team_lead)
        shift, _ = Calendar.objects.get_or_create(
            name=TEAM_CALENDAR,
            defaults={"timezone": "Europe/Moscow", "country": "RU", "hours": _SDR_TEAM_HOURS},
        )
        shift.teams.add(sdr_team)

    tables: dict[int | None, WorkTime] = {}

    def work(row: Calendar | None) -> tuple[int | None, WorkTime]:
        key = row.pk if row is not None else None
        if key not in tables:
            cal = row.business_calendar() if row is not None else builtin_calendar()
            tables[key] = WorkTime(cal, first, last)
        return key, tables[key]

    default = Calendar.objects.filter(is_default=True).prefetch_related("days").first()
    by_owner: dict[int, tuple[int | None, WorkTime]] = {}
    for user_id in User.objects.filter(role__in=[Role.SDR, Role.SALES]).values_list(
        "pk", flat=True
    ):
        row = (
            Calendar.objects.filter(teams__members__pk=user_id)
            .prefetch_related("days")
            .order_by("pk")
            .first()
        )
        if row is not None:
            by_owner[user_id] = work(row)
    policies: dict[str, list[tuple[int | None, int | None, _Policy]]] = {}
    for policy in Policy.objects.filter(active=True).order_by("pk"):
        policies.setdefault(policy.kind, []).append(
            (policy.service_id, policy.source_id, _policy(policy))
        )
    active = User.objects.filter(is_active=True).order_by("pk")
    roles = (Role.SDR, Role.HEAD_MARKETING, Role.HEAD_SALES)
    return SlaSetup(
        policies=policies,
        default=work(default),
        by_owner=by_owner,
        active=frozenset(active.values_list("pk", flat=True)),
        role_members={r: tuple(active.filter(role=r).values_list("pk", flat=True)) for r in roles},
        team_lead=dict(
            User.objects.filter(team__lead__isnull=False).values_list("pk", "team__lead")
        ),
        zone=settings.TIME_ZONE,
        notify_since=int(now.timestamp()) - NOTIFY_DAYS * 86400,
        now=int(now.timestamp()),
        rng=random.Random(0),
    )


# --------------------------------------------------------------------------------------
# The webhook endpoint and what it was sent.
WEBHOOK_URL = "https://hooks.example.com/leadrelay"
WEBHOOK_HISTORY = 60  # the newest messages, and a sixth as many a day older


@dataclass
class _Message:
    at: datetime
    event: str
    lead: Lead
    cause: str
    extra: dict[str, Any]


# The events that move the lead's version on (a qualification or a return event does not).
_VERSIONED = frozenset({LeadEvent.Kind.STATUS, LeadEvent.Kind.TOUCH, LeadEvent.Kind.OWNER})


def _lead_then(lead: Lead, events: Sequence[LeadEvent], users: dict[int, User]) -> Lead:
    """The lead as it was right after ``events`` (its own, oldest first), for a payload."""
    from copy import copy

    from leadrelay.leads.history import reach
    from leadrelay.leads.statuses import STAGE_ORDER

    then = copy(lead)
    reached: dict[Any, datetime] = {}
    sdr = manager = None
    for e in events:
        if e.kind in (LeadEvent.Kind.CREATED, LeadEvent.Kind.STATUS):
            then.status = e.to_status
            then.status_changed_at = e.at
            reach(reached, e.to_status, e.at)
        if e.kind == LeadEvent.Kind.CREATED:
            then.version = 1
        elif e.kind == LeadEvent.Kind.QUALIFICATION and "service" in e.data:
            then.version += 1  # qualify.answers.set_service: the service named
        elif e.kind in _VERSIONED and isinstance(e.data, dict):
            # (A qualification event's "version" is the questionnaire's.)
            then.version = int(e.data.get("version", then.version))
            sdr = e.data.get("sdr", sdr)
            manager = e.data.get("manager", manager)
    for stage in STAGE_ORDER:
        setattr(then, f"reached_{stage.value}_at", reached.get(stage))
    then.sdr = users.get(sdr) if sdr is not None else None
    then.manager = users.get(manager) if manager is not None else None
    return then


def _messages(since: datetime, until: datetime, count: int) -> list[_Message]:
    """The newest ``count`` webhook events in ``[since, until]`` of the newest leads, as
    ``notify.events`` would have queued them, each with the lead as it was then; oldest
    first. (Looked for among the newest leads: no index orders a million leads' events
    by time.)"""
    newest = Lead.objects.filter(received_at__lte=until).order_by("-received_at")
    recent = list(
        LeadEvent.objects.filter(
            lead_id__in=list(newest.values_list("pk", flat=True)[: 4 * count]),
            at__gte=since,
            at__lte=until,
        )
        .exclude(kind=LeadEvent.Kind.NOTE)
        .order_by("-at", "-id")
        .values_list("lead_id", flat=True)[: 2 * count]
    )
    breaches = list(
        Breach.objects.filter(detected_at__gte=since, detected_at__lte=until).order_by(
            "-detected_at"
        )[: max(1, count // 4)]
    )
    lead_ids = set(recent) | {b.lead_id for b in breaches}
    leads = Lead.objects.select_related("source", "service").in_bulk(lead_ids)
    users = User.objects.in_bulk()
    history: dict[int, list[LeadEvent]] = {}
    for e in LeadEvent.objects.filter(lead_id__in=lead_ids, at__lte=until).order_by("at", "id"):
        history.setdefault(e.lead_id, []).append(e)
    Event = WebhookEndpoint.Event
    out: list[_Message] = []
    for lead_id, events in history.items():
        lead = leads[lead_id]
        sdr = manager = None
        for i, e in enumerate(events):
            before = (sdr, manager)
            if isinstance(e.data, dict):
                sdr = e.data.get("sdr", sdr)
                manager = e.data.get("manager", manager)
            if e.at < since:
                continue
            then = _lead_then(lead, events[: i + 1], users)
            cause = f"event-{e.pk}"
            if e.kind == LeadEvent.Kind.CREATED:
                out.append(_Message(e.at, Event.LEAD_CREATED, then, cause, {}))
                continue
            extra: dict[str, Any]
            if e.kind == LeadEvent.Kind.STATUS:
                extra = {"from": e.from_status, "to": e.to_status, "reason": e.reason}
                out.append(_Message(e.at, Event.STATUS_CHANGED, then, cause, extra))
            if (sdr, manager) != before and e.kind in (
                LeadEvent.Kind.STATUS,
                LeadEvent.Kind.TOUCH,
            ):
                extra = {
                    "sdr": {"from": before[0], "to": sdr},
                    "manager": {"from": before[1], "to": manager},
                }
                out.append(_Message(e.at, Event.OWNER_CHANGED, then, cause, extra))
    for b in breaches:
        events = [e for e in history.get(b.lead_id, []) if e.at <= b.detected_at]
        then = _lead_then(leads[b.lead_id], events, users)
        extra = {"sla": {"clock": b.kind, "due_at": b.due_at, "cause": b.cause}}
        out.append(_Message(b.detected_at, Event.SLA_BREACHED, then, f"clock-{b.clock_id}", extra))
    out.sort(key=lambda m: m.at)
    return out[-count:]


def load_webhook_demo(now: datetime, rng: random.Random) -> int:
    """A webhook endpoint for every event, with the deliveries of the newest events:
    mostly at the first attempt, a couple after retries, one given up on. Nothing is
    left pending, so the worker sends nothing of it. Returns the messages written."""
    if WebhookEndpoint.objects.filter(url=WEBHOOK_URL).exists():
        return 0
    # Retries end ~17.6 h after the first attempt (+20% jitter): the one given up on is
    # older than that, so a few older messages come with the newest.
    give_up = sum(WEBHOOK_RETRY_SCHEDULE) * 1.2 + 600
    with transaction.atomic():
        since = now - timedelta(days=30)
        messages = _messages(since, now, WEBHOOK_HISTORY)
        newest = {(m.event, m.cause) for m in messages}
        older = _messages(since, now - timedelta(seconds=give_up), WEBHOOK_HISTORY // 6)
        messages = [m for m in older if (m.event, m.cause) not in newest] + messages
        created = min([m.at for m in messages] + [now]) - timedelta(hours=2)
        endpoint = WebhookEndpoint.objects.create(
            url=WEBHOOK_URL,
            description="Аналитика агентства (BI): все события",
            secret=new_webhook_secret(),
            events=[],
            active=True,
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(created_at=created)
        old = [i for i, m in enumerate(messages) if (now - m.at).total_seconds() > give_up]
        dead = old[len(old) // 3] if old else None
        settled = [
            i
            for i, m in enumerate(messages)
            if i != dead and (now - m.at).total_seconds() > 3 * 3600
        ]
        retried = set(rng.sample(settled, min(2, len(settled))))
        rows: list[Outbox] = []
        for i, m in enumerate(messages):
            key = f"webhook:{endpoint.pk}:{m.event}:{m.cause}"
            payload = {
                "type": m.event,
                "timestamp": m.at,
                "data": {"lead": lead_dict(m.lead), **m.extra},
            }
            row = Outbox(
                channel=Outbox.Channel.WEBHOOK,
                endpoint=endpoint,
                lead=m.lead,
                event=m.event,
                payload=plain(payload),
                message_id="msg_" + hashlib.sha256(key.encode()).hexdigest()[:32],
                dedup_key=key,
                created_at=m.at,
                next_attempt_at=None,
            )
            if i == dead:
                row.status = Outbox.Status.DEAD
                row.attempts = len(WEBHOOK_RETRY_SCHEDULE) + 1
                row.last_status = 503
                row.last_error = "HTTP 503"
            else:
                attempts = 1 + (1 + int(rng.random() * 2) if i in retried else 0)
                wait = sum(
                    s * rng.uniform(0.8, 1.2) for s in WEBHOOK_RETRY_SCHEDULE[: attempts - 1]
                )
                row.status = Outbox.Status.DELIVERED
                row.attempts = attempts
                row.delivered_at = m.at + timedelta(seconds=wait + 0.15 + rng.random() * 1.2)
                row.last_status = 200
            rows.append(row)
        Outbox.objects.bulk_create(rows)
        if dead is not None:
            row = Outbox.objects.get(dedup_key=rows[dead].dedup_key)
            told = row.created_at + timedelta(seconds=give_up - 600)
            for user in admins():
                Notification.objects.create(
                    user=user,
                    lead=row.lead,
                    kind=Notification.Kind.WEBHOOK_DEAD,
                    data={"url": WEBHOOK_URL, "error": row.last_error},
                    created_at=min(told, now),
                    dedup_key=f"dead:{row.pk}:{user.pk}",
                )
    return len(rows)
