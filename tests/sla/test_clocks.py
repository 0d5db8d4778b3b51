"""SLA clocks start and stop with the lead's life (leadrelay.sla.clocks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from leadrelay.accounts.models import Department, Team, User
from leadrelay.catalog.models import Service
from leadrelay.leads.errors import LeadNotFound, MissingField, TransitionNotAllowed
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import NewLead, create_lead, log_touch
from leadrelay.sla.models import Breach, Calendar, Clock, ClockKind, Policy
from tests.factories import walk

MSK = ZoneInfo("Europe/Moscow")
# Monday 2 March 2026, 12:00 in Moscow: inside the default 09-18 working hours.
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def new_lead(at: datetime = T0, **fields: Any) -> Lead:
    fields.setdefault("name", "Ирина")
    fields.setdefault("email", "irina@example.ru")
    return create_lead(NewLead(received_at=at, **fields), now=at)


def clock(lead: Lead, kind: str) -> Clock:
    return Clock.objects.get(lead=lead, kind=kind)


def test_a_new_request_starts_the_30_minute_clock() -> None:
    lead = new_lead()
    c = clock(lead, ClockKind.FIRST_CONTACT)
    assert c.outcome == Clock.Outcome.RUNNING
    assert c.started_at == T0
    assert c.due_at == T0 + timedelta(minutes=30)
    assert c.next_check_at == T0 + timedelta(minutes=15)  # the 50 % step
    lead.refresh_from_db()
    assert lead.sla_due_at == T0 + timedelta(minutes=30)
    assert lead.sla_warn_at == T0 + timedelta(minutes=15)


def test_the_clock_counts_working_time_only() -> None:
    """Friday 17:50 in Moscow: 10 minutes that day, the other 20 on Monday morning."""
    friday = datetime(2026, 2, 27, 17, 50, tzinfo=MSK)
    lead = new_lead(friday)
    due = clock(lead, ClockKind.FIRST_CONTACT).due_at
    assert due == datetime(2026, 3, 2, 9, 20, tzinfo=MSK)


def test_a_touch_in_time_meets_the_deadline(cast: dict[str, User]) -> None:
    lead = new_lead()
    at = T0 + timedelta(minutes=12)
    lead = log_touch(cast["sdr"], lead.pk, "call", outcome="reached", note="договорились", now=at)
    c = clock(lead, ClockKind.FIRST_CONTACT)
    assert (c.outcome, c.stopped_at, c.stopped_by, c.owner) == (
        Clock.Outcome.MET,
        at,
        cast["sdr"],
        cast["sdr"],
    )
    assert (c.working_seconds, c.calendar_seconds, c.next_check_at) == (720, 720, None)
    assert lead.first_touch_at == at
    assert lead.sdr == cast["sdr"]  # the first SDR to act owns the request
    assert lead.sla_due_at is None and lead.sla_warn_at is None
    event = LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.TOUCH).get()
    assert event.data["channel"] == "call" and event.data["outcome"] == "reached"
    assert event.reason == "договорились"


def test_a_late_touch_is_a_breach_in_working_and_calendar_time(cast: dict[str, User]) -> None:
    """The issue's case: Friday 17:50 -> Monday 09:15 is 25 working minutes (met) but
    63 h 25 min of calendar time."""
    friday = datetime(2026, 2, 27, 17, 50, tzinfo=MSK)
    lead = new_lead(friday)
    log_touch(cast["sdr"], lead.pk, "email", now=datetime(2026, 3, 2, 9, 15, tzinfo=MSK))
    c = clock(lead, ClockKind.FIRST_CONTACT)
    assert c.outcome == Clock.Outcome.MET
    assert c.working_seconds == 25 * 60
    assert c.calendar_seconds == (63 * 60 + 25) * 60

    late = new_lead(T0, email="late@example.ru")
    log_touch(cast["sdr"], late.pk, "meeting", now=T0 + timedelta(minutes=31))
    c = clock(late, ClockKind.FIRST_CONTACT)
    assert c.outcome == Clock.Outcome.BREACHED
    # Before the worker saw it: the touch puts the miss in the ledger itself, as it was
    # when missed (nobody had claimed the request; the touch made the SDR its owner).
    breach = Breach.objects.get(clock=c)
    assert (breach.cause, breach.detected_at, breach.responsible) == (
        Breach.Cause.UNCLAIMED,
        T0 + timedelta(minutes=31),
        None,
    )
    assert c.breached_at == T0 + timedelta(minutes=31)


def test_moving_the_lead_does_not_stop_the_first_contact_clock(cast: dict[str, User]) -> None:
    lead = new_lead()
    walk(lead, cast["sdr"], "sdr_processing")
    assert clock(lead, ClockKind.FIRST_CONTACT).outcome == Clock.Outcome.RUNNING


def test_closing_before_any_contact_cancels_the_clock(cast: dict[str, User]) -> None:
    lead = new_lead()
    lead = walk(lead, cast["sdr"], "disqualified", reason="spam")
    c = clock(lead, ClockKind.FIRST_CONTACT)
    assert c.outcome == Clock.Outcome.CANCELLED and c.next_check_at is None
    lead.refresh_from_db()
    assert lead.sla_due_at is None


def test_hand_off_clocks_follow_the_status(cast: dict[str, User]) -> None:
    lead = new_lead()
    lead = log_touch(cast["sdr"], lead.pk, "call", outcome="reached", now=T0)
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    assign = clock(lead, ClockKind.ASSIGNMENT)
    assert assign.outcome == Clock.Outcome.RUNNING
    assert assign.policy.minutes == 120
    lead.refresh_from_db()
    assert lead.sla_due_at == assign.due_at

    lead = walk(lead, cast["head_sales"], "assigned", manager=cast["sales"])
    assert clock(lead, ClockKind.ASSIGNMENT).outcome == Clock.Outcome.MET
    action = clock(lead, ClockKind.MANAGER_ACTION)
    assert action.outcome == Clock.Outcome.RUNNING and action.policy.minutes == 540

    log_touch(cast["sales"], lead.pk, "call", outcome="no_answer", now=T0 + timedelta(hours=1))
    assert clock(lead, ClockKind.MANAGER_ACTION).outcome == Clock.Outcome.MET


def test_sending_an_mql_back_cancels_the_assignment_clock(cast: dict[str, User]) -> None:
    lead = new_lead()
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    walk(lead, cast["head_sales"], "sdr_processing", reason="not enough budget info")
    assert clock(lead, ClockKind.ASSIGNMENT).outcome == Clock.Outcome.CANCELLED


def test_the_most_specific_policy_wins() -> None:
    seo = Service.objects.get_or_create(
        code="seo_test", defaults={"name_ru": "SEO", "name_en": "SEO"}
    )[0]
    Policy.objects.create(
        name="SEO: 10 minutes", kind=ClockKind.FIRST_CONTACT, minutes=10, service=seo
    )
    fast = new_lead(service=seo)
    other = new_lead(email="other@example.ru")
    assert clock(fast, ClockKind.FIRST_CONTACT).due_at == T0 + timedelta(minutes=10)
    assert clock(other, ClockKind.FIRST_CONTACT).due_at == T0 + timedelta(minutes=30)


def test_without_an_active_policy_no_clock_starts() -> None:
    Policy.objects.filter(kind=ClockKind.FIRST_CONTACT).update(active=False)
    lead = new_lead()
    assert not Clock.objects.filter(lead=lead).exists()
    lead.refresh_from_db()
    assert lead.sla_due_at is None


def test_the_owners_team_calendar_is_used(cast: dict[str, User]) -> None:
    """A team working 10-19 in Yekaterinburg: the assignment clock of its SDR's lead
    runs on that calendar."""
    team = Team.objects.create(name="Урал", department=Department.objects.get(name="Marketing"))
    cast["sdr"].team = team
    cast["sdr"].save()
    ural = Calendar.objects.create(
        name="Екатеринбург",
        timezone="Asia/Yekaterinburg",
        country="",
        hours={d: [["10:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    ural.teams.add(team)
    # 18:50 in Yekaterinburg on Monday: 10 minutes left that day.
    at = datetime(2026, 3, 2, 18, 50, tzinfo=ZoneInfo("Asia/Yekaterinburg"))
    lead = new_lead(at)
    lead = log_touch(cast["sdr"], lead.pk, "call", outcome="reached", now=at)
    from leadrelay.leads.transitions import move_lead
    from tests.factories import qualify

    lead = move_lead(cast["sdr"], lead.pk, "sdr_processing", version=lead.version, now=at)
    qualify(lead)
    lead = move_lead(cast["sdr"], lead.pk, "awaiting_assignment", version=lead.version, now=at)
    assign = clock(lead, ClockKind.ASSIGNMENT)
    assert assign.calendar == ural
    assert assign.due_at == datetime(2026, 3, 3, 11, 50, tzinfo=ZoneInfo("Asia/Yekaterinburg"))


@pytest.mark.parametrize(
    ("who", "channel", "outcome", "error"),
    [
        ("sdr", "call", "", MissingField),
        ("sdr", "fax", "", MissingField),
        ("sdr2", "email", "", LeadNotFound),  # another SDR's lead is out of view
    ],
)
def test_a_touch_that_cannot_be_logged_changes_nothing(
    cast: dict[str, User], who: str, channel: str, outcome: str, error: type[Exception]
) -> None:
    lead = new_lead()
    lead = log_touch(cast["sdr"], lead.pk, "email", now=T0) if who == "sdr2" else lead
    before = LeadEvent.objects.count(), Lead.objects.get(pk=lead.pk).version
    with pytest.raises(error):
        log_touch(cast[who], lead.pk, channel, outcome=outcome, now=T0)
    assert (LeadEvent.objects.count(), Lead.objects.get(pk=lead.pk).version) == before


def test_a_closed_lead_takes_no_touch(cast: dict[str, User]) -> None:
    lead = walk(new_lead(), cast["sdr"], "disqualified", reason="spam")
    with pytest.raises(TransitionNotAllowed):
        log_touch(cast["sdr"], lead.pk, "email", now=T0)
