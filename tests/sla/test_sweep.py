"""The worker's SLA sweep: each escalation step once, breaches recorded with their cause."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections, connection

from leadrelay.accounts.models import Department, Team, User
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import NewLead, create_lead, log_touch
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint
from leadrelay.sla.models import Breach, Clock, ClockKind
from leadrelay.sla.tasks import sweep
from tests.factories import walk

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday, 12:00 in Moscow
MIN = timedelta(minutes=1)


def new_lead(at: datetime = T0, email: str = "irina@example.ru") -> Lead:
    return create_lead(NewLead(name="Ирина", email=email, received_at=at), now=at)


def told(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


@pytest.fixture
def team_lead(cast: dict[str, User]) -> User:
    """sdr and sdr2 are in a team led by a lead SDR."""
    lead_sdr = User.objects.create_user("lead_sdr", "lead@agency.test", "pw-lead-123!", role="sdr")
    team = Team.objects.create(
        name="SDR", department=Department.objects.get(name="Marketing"), lead=lead_sdr
    )
    User.objects.filter(username__in=["sdr", "sdr2", "lead_sdr"]).update(team=team)
    return lead_sdr


@pytest.mark.django_db
def test_the_ladder_fires_each_step_once(cast: dict[str, User], team_lead: User) -> None:
    lead = new_lead()
    assert sweep(now=T0 + 14 * MIN) == 0  # nothing due before the 50 % step

    sweep(now=T0 + 15 * MIN)
    # Nobody has claimed the request: every SDR hears that its deadline is near.
    assert told("sla_warning") == {"sdr", "sdr2", "lead_sdr"}
    assert not Breach.objects.exists()

    sweep(now=T0 + 30 * MIN)
    breach = Breach.objects.get()
    assert (breach.lead_id, breach.kind, breach.cause) == (
        lead.pk,
        ClockKind.FIRST_CONTACT,
        Breach.Cause.UNCLAIMED,
    )
    assert breach.due_at == T0 + 30 * MIN and breach.detected_at == T0 + 30 * MIN
    assert not breach.off_hours
    assert told("sla_breach") == {"sdr", "sdr2", "lead_sdr"}

    sweep(now=T0 + 45 * MIN)
    assert told("sla_escalation") == {"sdr", "sdr2", "lead_sdr", "head_marketing"}

    counts = Notification.objects.count(), Breach.objects.count()
    for later in (45, 60, 600):
        sweep(now=T0 + later * MIN)
    assert (Notification.objects.count(), Breach.objects.count()) == counts
    c = Clock.objects.get(lead=lead, kind=ClockKind.FIRST_CONTACT)
    assert c.next_check_at is None and c.breached_at == T0 + 30 * MIN
    assert c.outcome == Clock.Outcome.RUNNING  # still not contacted: the clock runs on


@pytest.mark.django_db
def test_a_claimed_lead_escalates_to_its_sdr_and_their_team_lead(
    cast: dict[str, User], team_lead: User
) -> None:
    lead = new_lead()
    walk(lead, cast["sdr"], "sdr_processing")  # claimed, not contacted
    sweep(now=T0 + 31 * MIN)
    # The worker was late: only the latest step is told, and the breach is recorded.
    assert told("sla_breach") == {"sdr", "lead_sdr"}
    assert not told("sla_warning")
    assert Breach.objects.get().cause == Breach.Cause.NOT_CONTACTED
    assert Breach.objects.get().responsible == cast["sdr"]


@pytest.mark.django_db
def test_a_stopped_clock_never_fires(cast: dict[str, User]) -> None:
    lead = new_lead()
    log_touch(cast["sdr"], lead.pk, "call", outcome="reached", now=T0 + 5 * MIN)
    assert sweep(now=T0 + 60 * MIN) == 0
    assert not Notification.objects.exists() and not Breach.objects.exists()


@pytest.mark.django_db
def test_a_request_received_at_night_is_marked_off_hours(cast: dict[str, User]) -> None:
    night = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 02:00 in Moscow
    new_lead(night)
    morning_due = datetime(2026, 3, 3, 6, 30, tzinfo=UTC)  # 09:30 in Moscow
    assert Clock.objects.get().due_at == morning_due
    sweep(now=morning_due)
    assert Breach.objects.get().off_hours


@pytest.mark.django_db
def test_a_breach_is_sent_to_subscribed_webhooks(cast: dict[str, User]) -> None:
    WebhookEndpoint.objects.create(
        url="https://hooks.example.com/x",
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        events=["lead.sla_breached"],
    )
    lead = new_lead()
    sweep(now=T0 + 30 * MIN)
    row = Outbox.objects.get(channel=Outbox.Channel.WEBHOOK)
    assert (row.event, row.lead_id, row.status) == ("lead.sla_breached", lead.pk, "pending")
    assert row.payload["data"]["sla"]["cause"] == "unclaimed"
    assert row.payload["data"]["lead"]["id"] == lead.pk


@pytest.mark.django_db
def test_a_sweep_reads_only_due_clocks(
    cast: dict[str, User], django_assert_max_num_queries: object
) -> None:
    """Closed leads' clocks are out of the index the sweep reads: an idle sweep is one
    SELECT (in a savepoint here, inside the test's transaction)."""
    for i in range(20):
        lead = new_lead(email=f"c{i}@example.ru")
        walk(lead, cast["sdr"], "disqualified", reason="spam")
    with django_assert_max_num_queries(3):  # type: ignore[operator]
        assert sweep(now=T0 + 600 * MIN) == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_sweeping_at_once_fire_each_step_once(cast: dict[str, User]) -> None:
    leads = [new_lead(email=f"w{i}@example.ru") for i in range(30)]
    errors: list[BaseException] = []
    for minutes in (15, 30, 45):
        barrier = threading.Barrier(2)

        def work(at: datetime = T0 + minutes * MIN, barrier: threading.Barrier = barrier) -> None:
            try:
                barrier.wait(timeout=30)
                while sweep(now=at, limit=7):
                    pass
            except BaseException as exc:
                errors.append(exc)
                barrier.abort()
            finally:
                close_old_connections()
                connection.close()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    sdrs = User.objects.filter(role="sdr", is_active=True).count()
    assert Breach.objects.count() == len(leads)
    assert Notification.objects.filter(kind="sla_warning").count() == len(leads) * sdrs
    assert Notification.objects.filter(kind="sla_breach").count() == len(leads) * sdrs
    assert Notification.objects.filter(kind="sla_escalation").count() == len(leads) * (sdrs + 1)


@pytest.mark.django_db
def test_a_breach_already_recorded_by_the_worker_is_not_recorded_again(
    cast: dict[str, User],
) -> None:
    lead = new_lead()
    sweep(now=T0 + 30 * MIN)
    log_touch(cast["sdr"], lead.pk, "call", outcome="reached", now=T0 + 40 * MIN)
    c = Clock.objects.get(lead=lead, kind=ClockKind.FIRST_CONTACT)
    assert (c.outcome, c.breached_at) == (Clock.Outcome.BREACHED, T0 + 30 * MIN)
    assert Breach.objects.count() == 1
