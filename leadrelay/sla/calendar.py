"""Working time over a business calendar: SLA due times and elapsed working time.

Pure: no Django, no database. A :class:`BusinessCalendar` is a time zone, weekly working
hours, a country's public holidays and the company's own days off and extra working days.
All arithmetic is done on aware UTC datetimes; results are in UTC.

Time zones and DST. Each local day's wall-clock intervals are turned into UTC instants
with ``zoneinfo``, so a day containing a DST change has its real length (09:00-18:00 over
a spring-forward night is still 9 h, 00:00-23:59 is an hour shorter). A wall time that
does not exist (skipped by a spring-forward) is taken as the instant the clocks jumped,
so the interval covers exactly the instants whose wall clock reads inside it. An
ambiguous wall time (repeated by a fall-back) is taken at its first occurrence
(``fold=0``). An interval ending at ``time.max`` ends at midnight, so
``(time(0), time.max)`` is the whole day.

Public holidays come from the ``holidays`` package (checked with 0.109). For ``RU`` it has:

* the statutory days off: 1-6 and 8 January (New Year holidays), 7 January (Christmas),
  23 February, 8 March, 1 May, 9 May, 12 June, 4 November;
* each year's government transfers, hard-coded per year up to 2027: a holiday falling on
  a weekend moved to a weekday, and weekend days off moved elsewhere (e.g. 2026-12-31, a
  Thursday, is a day off moved from Sunday 2026-01-04). Later years have only the
  statutory days until the package learns that year's decree;
* the weekend days the government made working days ("transferred working Saturdays",
  e.g. 2024-04-27, 2024-11-02, 2024-12-28, 2025-11-01, 2027-02-20; none in 2026), as the
  holiday object's ``weekend_workdays`` set. They are used here: such a day gets the
  hours of a Monday.

The package's ``WORKDAY`` category is something else (named days that stay working
days, e.g. in Belarus) and Russia only supports ``PUBLIC``. The package does not know the
pre-holiday day shortened by one hour (Labour Code art. 95); neither does this module.

Precedence for a date: the company's ``days_off``, then its ``working_days``, then public
holidays, then the package's transferred working days, then the weekly hours.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

Interval = tuple[time, time]
"""Local wall-clock start and end of a working interval; end > start, within one day."""

UtcSpan = tuple[datetime, datetime]

_NINE_TO_SIX: tuple[Interval, ...] = ((time(9), time(18)),)

DEFAULT_WEEK: Mapping[int, tuple[Interval, ...]] = MappingProxyType(
    {
        0: _NINE_TO_SIX,
        1: _NINE_TO_SIX,
        2: _NINE_TO_SIX,
        3: _NINE_TO_SIX,
        4: _NINE_TO_SIX,
        5: (),
        6: (),
    }
)
"""Monday (0) to Friday (4) 09:00-18:00; Saturday and Sunday off. Read-only."""

SEARCH_LIMIT_DAYS = 3 * 366
"""Consecutive days without working time after which the calendar is declared empty."""

_ZERO = timedelta(0)


class CalendarError(ValueError):
    """The calendar is misconfigured, or has no working time to offer."""


@functools.lru_cache(maxsize=512)
def _package_year(
    country: str, subdivision: str | None, year: int
) -> tuple[frozenset[date], frozenset[date]]:
    """What the holidays package lists for ``year``: days off, weekend working days."""
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(found), frozenset(found.weekend_workdays)


@functools.lru_cache(maxsize=512)
def _public_year(
    country: str, subdivision: str | None, year: int
) -> tuple[frozenset[date], frozenset[date]]:
    """Public days off and transferred working days falling in ``year``."""
    days_off: set[date] = set()
    workdays: set[date] = set()
    # A year's transfers may name dates of the neighbouring years: look at those too.
    for listed_year in (year - 1, year, year + 1):
        off, work = _package_year(country, subdivision, listed_year)
        days_off.update(d for d in off if d.year == year)
        workdays.update(d for d in work if d.year == year)
    return frozenset(days_off), frozenset(workdays - days_off)


def _aware_utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with tzinfo), got naive {moment!r}")
    return moment.astimezone(UTC)


def _intervals(value: object, where: str) -> tuple[Interval, ...]:
    """Validated intervals, sorted; CalendarError if not sane."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise CalendarError(f"{where}: working hours must be a sequence of (start, end) pairs")
    spans: list[Interval] = []
    for pair in value:
        if not (isinstance(pair, Sequence) and len(pair) == 2):
            raise CalendarError(f"{where}: not a (start, end) pair: {pair!r}")
        start, end = pair
        if not (isinstance(start, time) and isinstance(end, time)):
            raise CalendarError(f"{where}: start and end must be datetime.time: {pair!r}")
        if start.tzinfo is not None or end.tzinfo is not None:
            raise CalendarError(f"{where}: times are local wall-clock times, without tzinfo")
        if end <= start:
            raise CalendarError(f"{where}: interval must end after it starts: {start}-{end}")
        spans.append((start, end))
    spans.sort()
    for (_, end), (start, _) in itertools.pairwise(spans):
        if start < end:
            raise CalendarError(f"{where}: intervals overlap at {start}")
    return tuple(spans)


def _plain_date(value: object, where: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise CalendarError(f"{where}: expected a date, got {value!r}")
    return value


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours in a time zone, minus holidays and days off, plus extra working days."""

    timezone: str = "Europe/Moscow"
    week: Mapping[int, Sequence[Interval]] = field(default_factory=lambda: DEFAULT_WEEK, hash=False)
    country: str | None = "RU"
    subdivision: str | None = None
    days_off: frozenset[date] = frozenset()
    working_days: Mapping[date, Sequence[Interval]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )

    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    _spans: dict[date, tuple[UtcSpan, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        """Validate and normalise the configuration; CalendarError when it is not sane."""
        set_ = functools.partial(object.__setattr__, self)  # frozen: normalise in place
        try:
            set_("_zone", ZoneInfo(self.timezone))
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise CalendarError(f"unknown time zone: {self.timezone!r}") from exc
        set_("_spans", {})

        if not isinstance(self.week, Mapping):
            raise CalendarError("week must map weekday numbers 0-6 to working hours")
        week: dict[int, tuple[Interval, ...]] = {day: () for day in range(7)}
        for day, spans in self.week.items():
            if not (isinstance(day, int) and 0 <= day <= 6):
                raise CalendarError(f"week: weekday must be 0 (Monday) to 6 (Sunday): {day!r}")
            week[day] = _intervals(spans, f"weekday {day}")
        set_("week", MappingProxyType(week))

        set_("days_off", frozenset(_plain_date(d, "days_off") for d in self.days_off))
        if not isinstance(self.working_days, Mapping):
            raise CalendarError("working_days must map dates to working hours")
        working = {
            _plain_date(d, "working_days"): _intervals(spans, f"working day {d}")
            for d, spans in self.working_days.items()
        }
        if clash := sorted(self.days_off & working.keys()):
            raise CalendarError(f"both a day off and a working day: {clash[0]}")
        set_("working_days", MappingProxyType(working))

        if self.country is None:
            if self.subdivision is not None:
                raise CalendarError("a subdivision needs a country")
        else:
            try:
                holidays.country_holidays(self.country, subdiv=self.subdivision)
            except NotImplementedError as exc:
                raise CalendarError(str(exc)) from exc

    def __reduce__(self) -> tuple[type[BusinessCalendar], tuple[object, ...]]:
        """Pickle (and copy) through the constructor: the read-only mappings cannot be."""
        return type(self), (
            self.timezone,
            dict(self.week),
            self.country,
            self.subdivision,
            self.days_off,
            dict(self.working_days),
        )

    def hours_on(self, day: date) -> tuple[Interval, ...]:
        """The local working intervals of ``day``, holidays and exception days applied."""
        if day in self.days_off:
            return ()
        if (extra := self.working_days.get(day)) is not None:
            return tuple(extra) or tuple(self.week[0])
        if self.country is not None:
            days_off, workdays = _public_year(self.country, self.subdivision, day.year)
            if day in days_off:
                return ()
            if day in workdays:
                return tuple(self.week[0])
        return tuple(self.week[day.weekday()])

    def is_working_time(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) falls inside a working interval."""
        at = _aware_utc(moment, "moment")
        return any(start <= at < end for start, end in self._utc_spans(self._local_date(at)))

    def next_working_moment(self, moment: datetime) -> datetime:
        """``moment`` itself if it is working time, else the start of the next interval (UTC)."""
        return self.add(moment, _ZERO)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The UTC moment when ``duration`` of working time has passed since ``start``.

        Counting begins at the next working moment. A zero duration gives that moment;
        a duration that ends exactly at the end of an interval gives that end.
        """
        at = _aware_utc(start, "start")
        if duration < _ZERO:
            raise ValueError(f"duration must not be negative: {duration}")
        remaining = duration
        day = self._local_date(at)
        idle_days = 0
        while True:
            spans = self._utc_spans(day)
            for span_start, span_end in spans:
                if span_end <= at:
                    continue
                begin = max(span_start, at)
                if remaining == _ZERO:
                    return begin
                available = span_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            idle_days = 0 if any(end > at for _, end in spans) else idle_days + 1
            if idle_days > SEARCH_LIMIT_DAYS:
                raise CalendarError(f"no working time in the {SEARCH_LIMIT_DAYS} days from {start}")
            day += timedelta(days=1)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time in ``[start, end)``; zero if ``end <= start``."""
        lo = _aware_utc(start, "start")
        hi = _aware_utc(end, "end")
        total = _ZERO
        if hi <= lo:
            return total
        day = self._local_date(lo)
        last = self._local_date(hi)
        while day <= last:
            for span_start, span_end in self._utc_spans(day):
                overlap = min(span_end, hi) - max(span_start, lo)
                if overlap > _ZERO:
                    total += overlap
            day += timedelta(days=1)
        return total

    def _local_date(self, at: datetime) -> date:
        return at.astimezone(self._zone).date()

    def _utc_spans(self, day: date) -> tuple[UtcSpan, ...]:
        """The working intervals of ``day`` as UTC instants, empty ones dropped (cached)."""
        cached = self._spans.get(day)
        if cached is not None:
            return cached
        spans = []
        for start, end in self.hours_on(day):
            utc_start = self._wall_to_utc(day, start)
            if end == time.max:
                utc_end = self._wall_to_utc(day + timedelta(days=1), time(0))
            else:
                utc_end = self._wall_to_utc(day, end)
            if utc_end > utc_start:
                spans.append((utc_start, utc_end))
        result = tuple(spans)
        self._spans[day] = result
        return result

    def _wall_to_utc(self, day: date, wall: time) -> datetime:
        """The UTC instant of a local wall time: first occurrence, or the jump over a gap."""
        local = datetime.combine(day, wall, tzinfo=self._zone)
        utc = local.astimezone(UTC)
        if utc.astimezone(self._zone).replace(tzinfo=None) == local.replace(tzinfo=None):
            return utc
        # Skipped by a spring-forward: fold=0 lands after the jump, fold=1 before it.
        # Find the jump itself (transitions fall on whole seconds).
        before = local.replace(fold=1).astimezone(UTC)
        offset = before.astimezone(self._zone).utcoffset()
        lo = math.floor(before.timestamp())
        hi = math.floor(utc.timestamp()) + 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, self._zone).utcoffset() == offset:
                lo = mid
            else:
                hi = mid
        return datetime.fromtimestamp(hi, UTC)
