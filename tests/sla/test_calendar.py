"""The pure business calendar: due times and elapsed working time, holidays, DST."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrelay.sla.calendar import DEFAULT_WEEK, BusinessCalendar, CalendarError

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
SLA = timedelta(minutes=30)
EVERY_DAY = range(7)


def msk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MSK)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def daily(*spans: tuple[time, time]) -> dict[int, tuple[tuple[time, time], ...]]:
    return {day: spans for day in EVERY_DAY}


# -- the worked example ------------------------------------------------------------


def test_friday_evening_to_monday_morning_is_25_working_minutes() -> None:
    cal = BusinessCalendar(country=None)
    created = msk(2026, 11, 20, 17, 50)  # Friday
    contacted = msk(2026, 11, 23, 9, 15)  # Monday

    assert cal.elapsed(created, contacted) == timedelta(minutes=25)
    assert contacted - created == timedelta(hours=63, minutes=25)
    due = cal.add(created, SLA)
    assert due == msk(2026, 11, 23, 9, 20)
    assert due.tzinfo is UTC
    assert contacted < due  # met on working time, although 63 calendar hours passed


def test_defaults() -> None:
    cal = BusinessCalendar()
    assert (cal.timezone, cal.country, cal.subdivision) == ("Europe/Moscow", "RU", None)
    assert dict(cal.week) == dict(DEFAULT_WEEK)
    assert DEFAULT_WEEK[0] == ((time(9), time(18)),)
    assert DEFAULT_WEEK[5] == DEFAULT_WEEK[6] == ()
    assert cal == BusinessCalendar() and hash(cal) == hash(BusinessCalendar())


def test_copy_pickle_and_replace() -> None:
    cal = BusinessCalendar(
        "Europe/Berlin",
        daily((time(9), time(18))),
        country="DE",
        subdivision="BE",
        days_off=frozenset({date(2026, 12, 24)}),
        working_days={date(2026, 11, 28): ()},
    )
    assert pickle.loads(pickle.dumps(cal)) == cal
    assert copy.deepcopy(cal) == cal
    assert dataclasses.replace(cal, timezone="Europe/Moscow").hours_on(date(2026, 12, 24)) == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cal.timezone = "UTC"  # type: ignore[misc]


def test_interval_boundaries() -> None:
    cal = BusinessCalendar(country=None)
    assert cal.is_working_time(msk(2026, 11, 23, 9))
    assert not cal.is_working_time(msk(2026, 11, 23, 18))  # intervals are [start, end)
    assert cal.add(msk(2026, 11, 23, 17, 30), SLA) == msk(2026, 11, 23, 18)  # the end, not Tue
    assert cal.add(msk(2026, 11, 23, 18), timedelta(0)) == msk(2026, 11, 24, 9)
    assert cal.next_working_moment(msk(2026, 11, 23, 12)) == msk(2026, 11, 23, 12)
    assert cal.next_working_moment(msk(2026, 11, 21, 12)) == msk(2026, 11, 23, 9)
    assert cal.elapsed(msk(2026, 11, 23, 12), msk(2026, 11, 23, 11)) == timedelta(0)


def test_split_day_and_other_input_zones() -> None:
    cal = BusinessCalendar(country=None, week={0: ((time(13), time(18)), (time(9), time(12)))})
    assert cal.hours_on(date(2026, 11, 23)) == ((time(9), time(12)), (time(13), time(18)))
    start = datetime(2026, 11, 23, 8, 45, tzinfo=UTC)  # 11:45 in Moscow
    assert cal.add(start, SLA) == msk(2026, 11, 23, 13, 15)
    assert cal.elapsed(start, msk(2026, 11, 30, 9)) == 5 * HOUR + 15 * MINUTE


def test_long_duration_walks_days_not_minutes() -> None:
    cal = BusinessCalendar(country=None)
    start = msk(2026, 1, 5, 9)  # Monday
    due = cal.add(start, 52 * 5 * 9 * HOUR)  # 52 weeks of working time
    assert due == msk(2027, 1, 1, 18)  # the Friday of the 52nd week, at its end
    assert cal.elapsed(start, due) == 52 * 5 * 9 * HOUR


# -- Russian public holidays -----------------------------------------------------------------


def test_new_year_holidays_2027() -> None:
    listed = holidays.country_holidays("RU", years=[2026, 2027])
    # 31 December 2026 (a Thursday) is itself a day off, moved from Sunday 4 January 2026.
    new_year = [date(2026, 12, 31)] + [date(2027, 1, day) for day in range(1, 9)]
    assert all(day in listed for day in new_year)
    assert date(2026, 12, 30) not in listed and date(2027, 1, 11) not in listed
    cal = BusinessCalendar()
    assert all(cal.hours_on(day) == () for day in [*new_year, date(2027, 1, 9), date(2027, 1, 10)])
    assert cal.hours_on(date(2027, 1, 11)) == ((time(9), time(18)),)

    created = msk(2026, 12, 31, 17)
    assert not cal.is_working_time(created)
    due = cal.add(created, SLA)
    assert due == msk(2027, 1, 11, 9, 30)  # Monday after the holidays
    assert cal.elapsed(created, due) == SLA
    assert cal.elapsed(created, msk(2027, 1, 11, 9)) == timedelta(0)
    assert cal.next_working_moment(created) == msk(2027, 1, 11, 9)

    # The day before: 15 minutes on 30 December, the other 15 on 11 January.
    created = msk(2026, 12, 30, 17, 45)
    assert cal.add(created, SLA) == msk(2027, 1, 11, 9, 15)
    assert cal.elapsed(created, msk(2027, 1, 11, 12)) == timedelta(hours=3, minutes=15)


def test_company_days_override_public_holidays() -> None:
    cal = BusinessCalendar(
        days_off=frozenset({date(2026, 12, 30)}),
        working_days={date(2027, 1, 5): ((time(10), time(14)),)},
    )
    assert cal.hours_on(date(2026, 12, 30)) == ()
    assert cal.hours_on(date(2027, 1, 5)) == ((time(10), time(14)),)
    assert cal.add(msk(2026, 12, 29, 17, 45), SLA) == msk(2027, 1, 5, 10, 15)


# -- transferred working Saturdays ----------------------------------------------------------


def test_explicit_working_saturday_has_monday_hours() -> None:
    saturday = date(2026, 11, 28)
    cal = BusinessCalendar(country=None, working_days={saturday: ()})
    assert cal.hours_on(saturday) == ((time(9), time(18)),)
    assert cal.hours_on(date(2026, 11, 29)) == ()
    assert cal.add(msk(2026, 11, 27, 17, 50), SLA) == msk(2026, 11, 28, 9, 20)
    assert cal.elapsed(msk(2026, 11, 27, 17, 50), msk(2026, 11, 30, 9, 15)) == (
        10 * MINUTE + 9 * HOUR + 15 * MINUTE
    )
    short = BusinessCalendar(country=None, working_days={saturday: [(time(10), time(14))]})
    assert short.hours_on(saturday) == ((time(10), time(14)),)
    assert short.add(msk(2026, 11, 27, 17, 50), SLA) == msk(2026, 11, 28, 10, 20)


def test_russian_working_saturday_from_the_holidays_package() -> None:
    saturday = date(2027, 2, 20)  # worked instead of Monday 22 February 2027
    listed = holidays.country_holidays("RU", years=2027)
    assert saturday in listed.weekend_workdays
    assert date(2027, 2, 22) in listed and date(2027, 2, 23) in listed
    cal = BusinessCalendar()
    assert cal.hours_on(saturday) == cal.week[0] == ((time(9), time(18)),)
    assert cal.add(msk(2027, 2, 19, 17, 50), SLA) == msk(2027, 2, 20, 9, 20)
    # 15 minutes on the Saturday; Monday and Tuesday are days off; the rest on Wednesday.
    assert cal.add(msk(2027, 2, 20, 17, 45), SLA) == msk(2027, 2, 24, 9, 15)
    assert cal.elapsed(msk(2027, 2, 19, 18), msk(2027, 2, 24, 9)) == 9 * HOUR
    # The package's list also has the 2024 and 2025 ones; the company may still take it off.
    assert BusinessCalendar().hours_on(date(2025, 11, 1)) == ((time(9), time(18)),)
    off = BusinessCalendar(days_off=frozenset({saturday}))
    assert off.hours_on(saturday) == ()
    assert BusinessCalendar(country=None).hours_on(saturday) == ()


def test_working_saturday_named_by_the_next_years_decree() -> None:
    """Azerbaijan's 2013 decree moved the weekend of 29-30 December 2012 to 3-4 January 2013."""
    cal = BusinessCalendar("Asia/Baku", country="AZ")
    assert cal.hours_on(date(2012, 12, 29)) == ((time(9), time(18)),)
    assert cal.hours_on(date(2013, 1, 3)) == ()


# -- DST ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "length"),
    [(date(2026, 3, 28), 24), (date(2026, 3, 29), 23), (date(2026, 10, 25), 25)],
)
def test_whole_day_calendar_has_the_real_length_of_the_day(day: date, length: int) -> None:
    cal = BusinessCalendar("Europe/Berlin", daily((time(0), time.max)), country=None)
    midnight = datetime.combine(day, time(0), tzinfo=BERLIN)
    next_midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=BERLIN)
    assert cal.elapsed(midnight, next_midnight) == length * HOUR
    assert cal.add(midnight, length * HOUR) == next_midnight
    assert cal.add(midnight, length * HOUR - MINUTE) == next_midnight - MINUTE


def test_office_hours_keep_their_length_over_a_dst_change() -> None:
    cal = BusinessCalendar("Europe/Berlin", daily((time(9), time(18))), country=None)
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        start = datetime.combine(day, time(8), tzinfo=BERLIN)
        assert cal.elapsed(start, start + timedelta(hours=12)) == 9 * HOUR
        assert cal.add(start, SLA) == datetime.combine(day, time(9, 30), tzinfo=BERLIN)
    # Friday 17:50 in winter time to Monday 09:20 in summer time: still 30 working minutes.
    assert cal.add(berlin(2026, 3, 27, 17, 50), SLA) == berlin(2026, 3, 28, 9, 20)
    weekdays = BusinessCalendar("Europe/Berlin", country=None)
    due = weekdays.add(berlin(2026, 3, 27, 17, 50), SLA)
    assert due == berlin(2026, 3, 30, 9, 20)
    assert due - berlin(2026, 3, 27, 17, 50) == timedelta(hours=62, minutes=30)  # an hour lost


def test_night_window_over_the_dst_change() -> None:
    """01:00-05:00 holds 3 real hours on the spring night and 5 on the autumn night."""
    cal = BusinessCalendar("Europe/Berlin", daily((time(1), time(5))), country=None)
    spring, autumn = berlin(2026, 3, 29, 1), berlin(2026, 10, 25, 1)
    assert cal.elapsed(spring, spring + 6 * HOUR) == 3 * HOUR
    assert cal.elapsed(autumn, autumn + 6 * HOUR) == 5 * HOUR
    assert cal.add(spring, 3 * HOUR) == berlin(2026, 3, 29, 5)
    assert cal.add(autumn, 5 * HOUR) == berlin(2026, 10, 25, 5)
    for start, duration in [(spring, 150 * MINUTE), (autumn, 270 * MINUTE)]:
        assert cal.elapsed(start, cal.add(start, duration)) == duration


def test_wall_times_that_do_not_exist_or_repeat() -> None:
    """A skipped start is the jump itself; a repeated one is its first occurrence."""
    cal = BusinessCalendar("Europe/Berlin", daily((time(2, 30), time(5))), country=None)
    # 29 March: 02:00-03:00 does not exist; work starts when the clocks jump to 03:00.
    assert cal.next_working_moment(berlin(2026, 3, 29, 0)) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert cal.is_working_time(berlin(2026, 3, 29, 3, 10))
    assert cal.elapsed(berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 6)) == 2 * HOUR
    # 25 October: 02:30 happens twice (CEST, then CET); work starts at the first.
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert first.astimezone(BERLIN).time() == time(2, 30)
    assert cal.next_working_moment(berlin(2026, 10, 25, 0)) == first
    assert cal.elapsed(berlin(2026, 10, 25, 0), berlin(2026, 10, 25, 6)) == 3 * HOUR + SLA
    gap = BusinessCalendar("Europe/Berlin", daily((time(2, 10), time(2, 50))), country=None)
    assert gap.elapsed(berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 6)) == timedelta(0)


# -- properties ------------------------------------------------------------------------------

CALENDARS = [
    BusinessCalendar(),
    BusinessCalendar("Europe/Berlin", country="DE", subdivision="BE"),
    BusinessCalendar(
        "Europe/Berlin",
        {
            0: ((time(9), time(12)), (time(13), time(18))),
            2: ((time(1), time(4)),),
            6: ((time(1), time(4)),),
        },
        country="DE",
    ),
    BusinessCalendar("Europe/Berlin", daily((time(0), time.max)), country=None),
    BusinessCalendar(
        "Europe/Moscow",
        days_off=frozenset({date(2026, 11, 24), date(2027, 2, 24)}),
        working_days={date(2026, 11, 28): (), date(2026, 11, 29): ((time(10), time(11)),)},
    ),
    BusinessCalendar("America/New_York", {1: ((time(8), time(20)),)}, country="US"),
]

calendars = st.sampled_from(CALENDARS)
moments = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2028, 12, 31),
    timezones=st.sampled_from([UTC, MSK, BERLIN]),
    allow_imaginary=False,
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))
bounded = settings(max_examples=200, deadline=None)


@bounded
@given(calendars, moments, durations)
def test_elapsed_undoes_add(cal: BusinessCalendar, start: datetime, duration: timedelta) -> None:
    due = cal.add(start, duration)
    assert due.tzinfo is UTC
    assert due >= start
    assert cal.elapsed(start, due) == duration


@bounded
@given(calendars, moments, durations, durations)
def test_add_is_monotonic(
    cal: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    shorter, longer = sorted((first, second))
    if shorter == longer:
        assert cal.add(start, shorter) == cal.add(start, longer)
    else:
        assert cal.add(start, shorter) < cal.add(start, longer)


@bounded
@given(calendars, moments, moments, moments)
def test_elapsed_is_additive(
    cal: BusinessCalendar, first: datetime, second: datetime, third: datetime
) -> None:
    a, b, c = sorted((first, second, third))
    assert cal.elapsed(a, b) + cal.elapsed(b, c) == cal.elapsed(a, c)
    # In UTC: subtracting two datetimes of the same zone gives the wall-clock difference.
    assert timedelta(0) <= cal.elapsed(a, c) <= c.astimezone(UTC) - a.astimezone(UTC)


@bounded
@given(calendars, moments, durations)
def test_add_lands_on_working_time_or_an_interval_end(
    cal: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = cal.add(start, duration)
    tick = timedelta(microseconds=1)
    if duration:
        assert cal.is_working_time(due) or cal.is_working_time(due - tick)
    else:
        assert due == cal.next_working_moment(start)
        assert cal.is_working_time(due)
        assert cal.elapsed(start, due) == timedelta(0)


def _by_the_wall_clock(cal: BusinessCalendar, moment: datetime) -> bool:
    local = moment.astimezone(ZoneInfo(cal.timezone))
    return any(start <= local.time() < end for start, end in cal.hours_on(local.date()))


@settings(max_examples=60, deadline=None)
@given(calendars, moments, st.integers(0, 36 * 60))
def test_working_minutes_match_the_wall_clock(
    cal: BusinessCalendar, start: datetime, minutes: int
) -> None:
    """Away from skipped or repeated interval ends, working time is what the wall clock says."""
    start = start.replace(second=0, microsecond=0).astimezone(UTC)  # real, not wall, minutes
    ticks = [start + n * MINUTE for n in range(minutes)]
    for tick in ticks:
        assert cal.is_working_time(tick) == _by_the_wall_clock(cal, tick)
    assert cal.elapsed(start, start + minutes * MINUTE) == MINUTE * sum(
        cal.is_working_time(tick) for tick in ticks
    )


# -- errors ------------------------------------------------------------------------------------


def test_naive_datetimes_are_refused() -> None:
    cal = BusinessCalendar()
    naive = datetime(2026, 11, 23, 9)
    with pytest.raises(ValueError, match="aware"):
        cal.add(naive, SLA)
    with pytest.raises(ValueError, match="aware"):
        cal.elapsed(naive, msk(2026, 11, 24))
    with pytest.raises(ValueError, match="aware"):
        cal.elapsed(msk(2026, 11, 20), naive)
    with pytest.raises(ValueError, match="aware"):
        cal.is_working_time(naive)
    with pytest.raises(ValueError, match="aware"):
        cal.next_working_moment(naive)


def test_negative_duration_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        BusinessCalendar().add(msk(2026, 11, 23, 9), -MINUTE)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, "time zone"),
        ({"timezone": "../etc/passwd"}, "time zone"),
        ({"week": {0: ((time(18), time(9)),)}}, "end after"),
        ({"week": {0: ((time(9), time(9)),)}}, "end after"),
        ({"week": {0: ((time(9), time(13)), (time(12), time(18)))}}, "overlap"),
        ({"week": {7: ()}}, "weekday"),
        ({"week": {0: ("09:00", "18:00")}}, "pair"),
        ({"week": {0: ((time(9, tzinfo=UTC), time(18)),)}}, "tzinfo"),
        ({"working_days": {date(2026, 11, 28): ((time(14), time(10)),)}}, "end after"),
        ({"days_off": frozenset({datetime(2026, 11, 23, tzinfo=UTC)})}, "date"),
        (
            {"days_off": frozenset({date(2026, 11, 28)}), "working_days": {date(2026, 11, 28): ()}},
            "both",
        ),
        ({"country": "XX"}, "XX"),
        ({"subdivision": "MOW"}, "MOW"),
        ({"country": None, "subdivision": "BE"}, "country"),
    ],
)
def test_bad_configuration(config: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar(**config)  # type: ignore[arg-type]


def test_calendar_without_working_time() -> None:
    cal = BusinessCalendar(week={}, country=None)
    start = msk(2026, 11, 23, 9)
    with pytest.raises(CalendarError, match="no working time"):
        cal.add(start, SLA)
    with pytest.raises(CalendarError, match="no working time"):
        cal.next_working_moment(start)
    assert cal.elapsed(start, start + timedelta(days=30)) == timedelta(0)
    assert not cal.is_working_time(start)
    # Working days only in the past: the search gives up as well.
    stale = BusinessCalendar(week={}, country=None, working_days={date(2020, 1, 6): ()})
    with pytest.raises(CalendarError, match="no working time"):
        stale.add(start, SLA)
    # A long run of days off is not an empty calendar.
    year_off = frozenset(date(2027, 1, 1) + timedelta(days=n) for n in range(500))
    long_leave = BusinessCalendar(country=None, days_off=year_off)
    assert long_leave.add(msk(2026, 12, 31, 17, 50), SLA) == msk(2028, 5, 15, 9, 20)
