"""SLA attainment: how many deadlines of one kind were met in a period, and how fast.

The period is of the clocks' ``started_at`` (a request belongs to the day it came in).
Per clock kind the report counts the clocks, met, breached, still running and
cancelled; the **share met** is ``met / (met + breached + running past their due
time)`` — a deadline already missed counts as missed before anyone stops the clock —
and is None when no clock has had its chance yet.

Response times are those of the *stopped* clocks (met and breached): in working time
(``working_seconds``, the business calendar's hours only) and in calendar time
(``calendar_seconds``). The median and the 90th percentile use the **nearest-rank**
definition: the p-th percentile of n sorted values is the value at 1-based rank
``ceil(p / 100 * n)``. It is always an observed response time; for an even n the
median is the lower of the two middle values.

Every clock is counted for one person: the clock's owner (recorded when it stopped),
else the lead's current owner for that kind of clock — the sales manager for the
manager's first action, the SDR otherwise (the rule ``sla.clocks.stop`` records owners
by). A person's team is their team now.

Costs three queries whatever the period: the clocks of the period (only the columns
needed, via the ``(kind, started_at)`` index), their people with teams, and the newest
entries of the breach ledger (via the ``detected_at`` index). The clocks are aggregated
in Python; a period is at most a year (about 4 000 requests at the source's volume).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.sla.models import Breach, Clock, ClockKind

BREACH_LIMIT = 200


def nearest_rank(values: Sequence[int], p: float) -> int | None:
    """The p-th percentile (0 < p <= 100) of ``values`` by nearest rank; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class Stats:
    """The counts and response times of a set of clocks."""

    clocks: int = 0
    met: int = 0
    breached: int = 0
    running: int = 0
    overdue: int = 0  # of the running: past their due time, counted as missed
    cancelled: int = 0
    working: list[int] = field(default_factory=list, repr=False)
    calendar: list[int] = field(default_factory=list, repr=False)

    def add(
        self,
        outcome: str,
        due_at: datetime,
        working: int | None,
        calendar: int | None,
        now: datetime,
    ) -> None:
        self.clocks += 1
        if outcome == Clock.Outcome.MET:
            self.met += 1
        elif outcome == Clock.Outcome.BREACHED:
            self.breached += 1
        elif outcome == Clock.Outcome.RUNNING:
            self.running += 1
            if due_at <= now:
                self.overdue += 1
        else:
            self.cancelled += 1
        if outcome in (Clock.Outcome.MET, Clock.Outcome.BREACHED):
            if working is not None:
                self.working.append(working)
            if calendar is not None:
                self.calendar.append(calendar)

    def merge(self, other: Stats) -> None:
        self.clocks += other.clocks
        self.met += other.met
        self.breached += other.breached
        self.running += other.running
        self.overdue += other.overdue
        self.cancelled += other.cancelled
        self.working.extend(other.working)
        self.calendar.extend(other.calendar)

    @property
    def missed(self) -> int:
        """Breached, plus running past the deadline."""
        return self.breached + self.overdue

    @property
    def attainment(self) -> float | None:
        decided = self.met + self.missed
        return self.met / decided if decided else None

    @property
    def working_median(self) -> int | None:
        return nearest_rank(self.working, 50)

    @property
    def working_p90(self) -> int | None:
        return nearest_rank(self.working, 90)

    @property
    def calendar_median(self) -> int | None:
        return nearest_rank(self.calendar, 50)

    @property
    def calendar_p90(self) -> int | None:
        return nearest_rank(self.calendar, 90)


@dataclass
class Group:
    """One line of a breakdown: a person (with their team) or a team."""

    key: int | None
    name: str
    team: str = ""
    stats: Stats = field(default_factory=Stats)


@dataclass(frozen=True)
class BreachRow:
    """One entry of the breach ledger."""

    lead_id: int
    lead: str
    kind: str
    due_at: datetime
    detected_at: datetime
    cause: str
    responsible: str
    off_hours: bool


@dataclass
class Report:
    kind: str
    start: datetime  # inclusive
    end: datetime  # exclusive
    total: Stats
    people: list[Group]
    teams: list[Group]
    breaches: list[BreachRow]
    more_breaches: bool  # the ledger was cut at ``BREACH_LIMIT``


def period(first: date, last: date) -> tuple[datetime, datetime]:
    """The instants from ``first`` 00:00 to the end of ``last``, in the site's zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _name(first: str, last: str, username: str) -> str:
    return f"{first} {last}".strip() or username


def attainment(
    kind: str,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
    breach_limit: int = BREACH_LIMIT,
) -> Report:
    """The report for clocks of ``kind`` started in ``[start, end)``."""
    now = now or timezone.now()
    rows = (
        Clock.objects.filter(kind=kind, started_at__gte=start, started_at__lt=end)
        .order_by()
        .values_list(
            "outcome",
            "due_at",
            "working_seconds",
            "calendar_seconds",
            "owner_id",
            "lead__sdr_id",
            "lead__manager_id",
        )
    )
    total = Stats()
    by_person: dict[int | None, Stats] = {}
    for outcome, due_at, working, calendar, owner, sdr, manager in rows:
        if owner is None:
            owner = manager if kind == ClockKind.MANAGER_ACTION else sdr
        total.add(outcome, due_at, working, calendar, now)
        by_person.setdefault(owner, Stats()).add(outcome, due_at, working, calendar, now)

    nobody, no_team = _("Nobody (not claimed)"), _("No team")
    # A person's name, team id and team name ("Department / Team").
    people_info: dict[int | None, tuple[str, int | None, str]] = {
        pk: (
            _name(first, last, username),
            team_id,
            f"{department} / {team}" if team_id is not None else no_team,
        )
        for pk, first, last, username, team_id, team, department in User.objects.filter(
            pk__in=[k for k in by_person if k is not None]
        ).values_list(
            "pk",
            "first_name",
            "last_name",
            "username",
            "team_id",
            "team__name",
            "team__department__name",
        )
    }
    people: list[Group] = []
    teams: dict[int | None, Group] = {}
    for key, stats in by_person.items():
        name, team_id, team_name = people_info.get(key, (nobody, None, no_team))
        people.append(Group(key, name, team_name, stats))
        group = teams.setdefault(team_id, Group(team_id, team_name))
        group.stats.merge(stats)
    # Alphabetical, with "nobody" and "no team" last.
    people.sort(key=lambda g: (g.key is None, g.name.casefold()))
    team_list = sorted(teams.values(), key=lambda g: (g.key is None, g.name.casefold()))

    ledger = list(
        Breach.objects.filter(detected_at__gte=start, detected_at__lt=end)
        .order_by("-detected_at", "-id")
        .values_list(
            "lead_id",
            "lead__name",
            "lead__email",
            "lead__phone",
            "kind",
            "due_at",
            "detected_at",
            "cause",
            "responsible__first_name",
            "responsible__last_name",
            "responsible__username",
            "off_hours",
        )[: breach_limit + 1]
    )
    kinds = dict(ClockKind.choices)
    causes = dict(Breach.Cause.choices)
    breaches = [
        BreachRow(
            lead_id=lead_id,
            lead=lead_name or email or phone or _("(no name)"),
            kind=str(kinds.get(b_kind, b_kind)),
            due_at=due,
            detected_at=detected,
            cause=str(causes.get(cause, cause)),
            responsible=_name(first or "", last or "", username) if username else "—",
            off_hours=off_hours,
        )
        for (
            lead_id,
            lead_name,
            email,
            phone,
            b_kind,
            due,
            detected,
            cause,
            first,
            last,
            username,
            off_hours,
        ) in ledger[:breach_limit]
    ]
    return Report(
        kind=kind,
        start=start,
        end=end,
        total=total,
        people=people,
        teams=team_list,
        breaches=breaches,
        more_breaches=len(ledger) > breach_limit,
    )
