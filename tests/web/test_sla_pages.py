"""The SLA in the web app: the countdown, logging a contact, the attainment report, admin."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from leadrelay.accounts.models import Department, Team, User
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.sla.models import Breach, Calendar, Clock, ClockKind, Policy
from leadrelay.sla.report import attainment, nearest_rank, period
from leadrelay.web.templatetags.leadrelay_web import countdown
from tests.conftest import T0
from tests.factories import walk
from tests.web.helpers import state_of

HTMX = {"HX-Request": "true"}
# Bounded, not exact: the SLA hooks log_touch fires may add a row or two (a breach).
# + the SDR workspace on the page: questionnaires, answers, newest versions, needs, reason
# codes, and the qualification summary (two) once something is recorded.
TOUCH_QUERIES = 25


def countdowns(html: str) -> list[tuple[str, str, str, str]]:
    """(due, warn, state, text) of every countdown on a page."""
    return re.findall(
        r'data-sla-due="([^"]+)" data-sla-warn="([^"]+)" data-sla-state="(\w+)">'
        r'<span class="sla-dot" aria-hidden="true"></span><span class="sla-text">([^<]+)<',
        html,
    )


def set_deadline(lead: Lead, due: datetime | None, warn: datetime | None) -> None:
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=due, sla_warn_at=warn)


# The countdown ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "state", "text"),
    [
        (T0, "ok", "30:00 left"),
        (T0 + timedelta(minutes=14, seconds=59, microseconds=500_000), "ok", "15:00 left"),
        (T0 + timedelta(minutes=15), "warn", "15:00 left"),  # amber from the warning time
        (T0 + timedelta(minutes=29, seconds=59), "warn", "00:01 left"),
        (T0 + timedelta(minutes=30), "late", "overdue by 0:00"),  # red from the deadline
        (T0 + timedelta(hours=2, minutes=35, seconds=59), "late", "overdue by 2:05"),
        (T0 - timedelta(hours=1, minutes=2, seconds=3), "ok", "1:32:03 left"),
        # From a day on, whole days in front and no seconds (a weekend's deadline).
        (T0 - timedelta(days=2, hours=3, seconds=59), "ok", "2 d 3:30 left"),
        (T0 + timedelta(days=1, hours=2, minutes=35), "late", "overdue by 1 d 2:05"),
    ],
)
def test_countdown_state_and_text_at_each_moment(now: datetime, state: str, text: str) -> None:
    with translation.override("en"):
        value = countdown(T0 + timedelta(minutes=30), T0 + timedelta(minutes=15), now)
    assert value is not None
    assert (value.state, value.text, value.css) == (state, text, f"sla sla-{state}")
    assert (value.due, value.warn) == ("2026-03-02T09:30:00.000Z", "2026-03-02T09:15:00.000Z")


def test_no_deadline_no_countdown_and_no_warning_time_means_amber_only_at_the_end() -> None:
    assert countdown(None, None, T0) is None
    value = countdown(T0 + timedelta(minutes=1), None, T0)
    assert value is not None and value.state == "ok" and value.warn == value.due


def test_lead_list_has_a_countdown_column_rendered_by_the_server(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    now = timezone.now()
    fresh, amber, late, closed = (make_lead(name=f"Lead {i}") for i in range(4))
    set_deadline(fresh, now + timedelta(minutes=40), now + timedelta(minutes=25))
    set_deadline(amber, now + timedelta(minutes=10), now - timedelta(minutes=5))
    set_deadline(late, now - timedelta(hours=1, minutes=1), now - timedelta(hours=1, minutes=16))
    walk(closed, cast["sdr"], "disqualified", reason="spam")
    page = client_for(cast["admin"]).get("/leads/").text
    assert "<th>Deadline</th>" in page
    assert "countdown.js" in page
    assert (
        'data-sla-left="%(time)s left" data-sla-overdue="overdue by %(time)s"'
        ' data-sla-days="%(days)s d"'
    ) in page
    shown = countdowns(page)
    # Newest first: late, amber, fresh (the closed lead has none: "—").
    assert [state for _, _, state, _ in shown] == ["late", "warn", "ok"]
    assert re.fullmatch(r"overdue by 1:0[01]", shown[0][3])
    assert re.fullmatch(r"(09:5\d|10:00) left", shown[1][3])
    assert re.fullmatch(r"(39:5\d|40:00) left", shown[2][3])
    assert 'class="sla sla-late"' in page and 'class="sla sla-warn"' in page


def test_lead_page_shows_the_countdown_in_its_head(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    set_deadline(lead, timezone.now() + timedelta(minutes=20), timezone.now())
    page = client_for(cast["sdr"]).get(f"/leads/{lead.pk}/").text
    head = page[page.index('<div class="lead-state">') : page.index('<div class="lead-grid">')]
    [(_, _, state, text)] = countdowns(head)
    assert state == "warn" and text.endswith(" left")


# Logging a contact -----------------------------------------------------------------------


def test_sdr_logs_a_call_and_the_first_contact_clock_stops(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client = client_for(cast["sdr"])
    page = client.get(f"/leads/{lead.pk}/").text
    assert "Log a contact" in page and f'action="/leads/{lead.pk}/touch/"' in page
    response = client.post(
        f"/leads/{lead.pk}/touch/",
        {"channel": "call", "outcome": "reached", "note": "Договорились о встрече"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.text
    assert html.startswith('\n<div id="lead-main"') or 'id="lead-main"' in html[:200]
    assert "<html" not in html  # a fragment for the swap
    assert "Contact logged: Call." in html
    assert countdowns(html) == []  # the clock stopped: no countdown any more
    assert "Contact: Call — Talked" in html and "Договорились о встрече" in html
    assert "First contact:" in html
    lead.refresh_from_db()
    assert lead.first_touch_at is not None and lead.sla_due_at is None
    assert lead.sdr == cast["sdr"]
    clock = Clock.objects.get(lead=lead, kind=ClockKind.FIRST_CONTACT)
    assert clock.outcome != Clock.Outcome.RUNNING and clock.stopped_by == cast["sdr"]


def test_without_htmx_logging_a_contact_redirects_to_the_lead_with_a_message(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client = client_for(cast["head_marketing"])
    response = client.post(f"/leads/{lead.pk}/touch/", {"channel": "email", "outcome": "busy"})
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    page = client.get(response["Location"]).text
    assert "Contact logged: E-mail sent." in page
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.TOUCH)
    assert event.data["channel"] == "email" and "outcome" not in event.data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel": "call", "outcome": ""}, "Call outcome: Choose the outcome of the call."),
        ({"outcome": "reached"}, "Contact: Choose how you contacted the lead."),
        ({"channel": "fax"}, "Contact: Select a valid choice. fax is not one of"),
        ({"channel": "call", "outcome": "maybe"}, "Call outcome: Select a valid choice."),
        ({"channel": "meeting", "note": "x" * 4001}, "Note: Ensure this value has at most"),
    ],
)
def test_a_contact_with_bad_input_is_refused_with_a_clear_error_and_changes_nothing(
    data: dict[str, str],
    message: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead()
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(f"/leads/{lead.pk}/touch/", data, headers=HTMX)
    assert response.status_code == 422
    assert "The contact was not logged:" in response.text
    assert message in response.text.replace("&quot;", '"')
    assert state_of(lead) == before
    lead.refresh_from_db()
    assert lead.first_touch_at is None and lead.sla_due_at is not None
    # What was typed is kept.
    if data.get("channel") in ("call", "meeting"):
        assert f'value="{data["channel"]}" checked' in response.text


def test_a_closed_lead_offers_no_contact_form_and_refuses_one(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "disqualified", reason="spam")
    client = client_for(cast["sdr"])
    assert "Log a contact" not in client.get(f"/leads/{lead.pk}/").text
    before = state_of(lead)
    response = client.post(
        f"/leads/{lead.pk}/touch/", {"channel": "call", "outcome": "reached"}, headers=HTMX
    )
    assert response.status_code == 422
    assert "The lead is closed; reopen it first." in response.text
    assert state_of(lead) == before


def test_a_sales_manager_in_the_queue_is_not_offered_the_form_and_is_refused(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    client = client_for(cast["sales"])
    assert "Log a contact" not in client.get(f"/leads/{lead.pk}/").text
    before = state_of(lead)
    response = client.post(f"/leads/{lead.pk}/touch/", {"channel": "meeting"}, headers=HTMX)
    assert response.status_code == 403
    assert "Only the lead&#x27;s owner can log a contact with it." in response.text
    assert state_of(lead) == before


def test_another_sdrs_lead_is_a_404_and_anonymous_is_sent_to_log_in(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr2"], "sdr_processing")
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/touch/", {"channel": "call", "outcome": "busy"}
    )
    assert response.status_code == 404
    anonymous = Client().post(f"/leads/{lead.pk}/touch/", {"channel": "meeting"})
    assert anonymous.status_code == 302 and "/?next=" in anonymous["Location"]
    assert state_of(lead) == before
    assert client_for(cast["sdr"]).get(f"/leads/{lead.pk}/touch/").status_code == 405


def test_logging_a_contact_costs_a_bounded_number_of_queries(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    lead = make_lead()
    client = client_for(cast["sdr"])
    # Session, user; log_touch: savepoint, lock, scope, update, event, refresh; the hooks:
    # the running clocks, their calendar, the stop, the deadline refresh and its update,
    # the webhook subscribers; release; the lead page again: the lead and its events.
    with django_assert_max_num_queries(TOUCH_QUERIES):
        response = client.post(
            f"/leads/{lead.pk}/touch/", {"channel": "call", "outcome": "reached"}, headers=HTMX
        )
    assert response.status_code == 200
    # A later contact (no clock left to stop) costs no more, however long the history.
    for _ in range(3):
        with django_assert_max_num_queries(TOUCH_QUERIES):
            client.post(f"/leads/{lead.pk}/touch/", {"channel": "meeting"}, headers=HTMX)


# The SLA report --------------------------------------------------------------------------

MARCH = "?start=2026-03-01&end=2026-03-31"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("sdr", 403),
        ("sales", 403),
        ("partner", 403),
        ("head_marketing", 200),
        ("head_sales", 200),
        ("admin", 200),
    ],
)
def test_report_is_for_heads_and_administrators(
    who: str, status: int, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast[who]).get("/sla/report/")
    assert response.status_code == status
    nav_link = 'href="/sla/report/"'
    assert (nav_link in response.text) == (status == 200)


def test_report_for_a_superuser_and_not_for_anonymous(db: None) -> None:
    root = User.objects.create_superuser("root", "root@agency.test", "pw-root-123!", role="sdr")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.get("/sla/report/").status_code == 302
    client.force_login(root)
    assert client.get("/sla/report/").status_code == 200


def test_nearest_rank_percentiles() -> None:
    assert nearest_rank([], 50) is None
    assert nearest_rank([7], 50) == 7 and nearest_rank([7], 90) == 7
    values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]
    assert (nearest_rank(values, 50), nearest_rank(values, 90), nearest_rank(values, 100)) == (
        5,
        9,
        10,
    )
    assert nearest_rank([300, 600, 1200, 2400], 50) == 600  # the lower middle value
    assert nearest_rank([300, 600, 1200, 2400], 90) == 2400


@pytest.fixture
def march(cast: dict[str, User], make_lead: Callable[..., Lead]) -> dict[str, Any]:
    """Hand-built first-contact clocks started in March 2026, and some that do not count.

    sdr (team Marketing / Inbound): met 600 s, met 1200 s, breached 2400 s working
    (90 000 s calendar). sdr2 (no team): met 300 s, cancelled, running past due.
    Nobody: running, not yet due. Outside: a clock from February, an assignment clock.
    """
    inbound = Team.objects.create(
        name="Inbound", department=Department.objects.get(name="Marketing")
    )
    User.objects.filter(pk=cast["sdr"].pk).update(team=inbound, first_name="Анна", last_name="С")
    lead = make_lead()
    walk(lead, cast["sdr2"], "sdr_processing")  # lead.sdr = sdr2
    nobody_lead = make_lead(name="Unclaimed")
    Clock.objects.all().delete()
    first = Policy.objects.get(kind=ClockKind.FIRST_CONTACT)
    assign = Policy.objects.get(kind=ClockKind.ASSIGNMENT)
    now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)

    def clock(
        day: int,
        outcome: str,
        owner: User | None = None,
        working: int | None = None,
        calendar: int | None = None,
        *,
        on: Lead = lead,
        policy: Policy = first,
        due: datetime | None = None,
        month: int = 3,
    ) -> Clock:
        started = datetime(2026, month, day, 9, 0, tzinfo=UTC)
        return Clock.objects.create(
            lead=on,
            policy=policy,
            kind=policy.kind,
            started_at=started,
            due_at=due or started + timedelta(minutes=30),
            outcome=outcome,
            stopped_at=started + timedelta(seconds=calendar or 0) if calendar else None,
            owner=owner,
            working_seconds=working,
            calendar_seconds=calendar,
        )

    sdr, sdr2 = cast["sdr"], cast["sdr2"]
    # The owner recorded at the stop wins over the lead's SDR (sdr2).
    clock(2, "met", sdr, 600, 600)
    clock(3, "met", sdr, 1200, 1200)
    breached = clock(4, "breached", sdr, 2400, 90000)
    clock(5, "met", sdr2, 300, 300)
    clock(6, "cancelled", sdr2, 100, 100)
    clock(7, "running")  # past due at ``now``: counts as missed, for the lead's SDR
    clock(20, "running", on=nobody_lead, due=now + timedelta(minutes=10))
    old = clock(27, "breached", sdr, 50, 50, month=2)
    clock(8, "met", sdr, 60, 60, policy=assign)
    Breach.objects.create(
        clock=breached,
        lead=lead,
        kind=ClockKind.FIRST_CONTACT,
        due_at=breached.due_at,
        detected_at=datetime(2026, 3, 4, 9, 30, tzinfo=UTC),
        cause=Breach.Cause.NOT_CONTACTED,
        responsible=sdr,
        off_hours=True,
    )
    Breach.objects.create(
        clock=old,
        lead=lead,
        kind=ClockKind.FIRST_CONTACT,
        due_at=old.due_at,
        detected_at=datetime(2026, 2, 27, 9, 30, tzinfo=UTC),
        cause=Breach.Cause.UNCLAIMED,
    )
    return {"now": now, "lead": lead, "nobody_lead": nobody_lead}


def test_report_numbers_match_the_hand_built_clocks(
    cast: dict[str, User], march: dict[str, Any]
) -> None:
    start, end = period(date(2026, 3, 1), date(2026, 3, 31))
    report = attainment(ClockKind.FIRST_CONTACT, start, end, now=march["now"])
    t = report.total
    assert (t.clocks, t.met, t.breached, t.running, t.overdue, t.cancelled) == (7, 3, 1, 2, 1, 1)
    assert t.attainment == pytest.approx(3 / 5)  # met / (met + breached + running overdue)
    # Stopped clocks only: working [300, 600, 1200, 2400], calendar [300, 600, 1200, 90000].
    assert (t.working_median, t.working_p90) == (600, 2400)
    assert (t.calendar_median, t.calendar_p90) == (600, 90000)

    people = {g.name: g for g in report.people}
    assert list(people) == ["sdr2", "Анна С", "Nobody (not claimed)"]
    anna, sdr2, nobody = people["Анна С"], people["sdr2"], people["Nobody (not claimed)"]
    assert anna.team == "Marketing / Inbound" and sdr2.team == "No team"
    assert (anna.stats.clocks, anna.stats.met, anna.stats.breached) == (3, 2, 1)
    assert anna.stats.attainment == pytest.approx(2 / 3)
    assert (anna.stats.working_median, anna.stats.working_p90) == (1200, 2400)
    assert (anna.stats.calendar_median, anna.stats.calendar_p90) == (1200, 90000)
    s2 = sdr2.stats
    assert (s2.clocks, s2.met, s2.cancelled, s2.running, s2.overdue) == (3, 1, 1, 1, 1)
    assert s2.attainment == pytest.approx(1 / 2)
    assert (s2.working_median, s2.calendar_p90) == (300, 300)  # the cancelled one is not timed
    assert (nobody.stats.clocks, nobody.stats.running, nobody.stats.overdue) == (1, 1, 0)
    assert nobody.stats.attainment is None and nobody.stats.working_median is None

    teams = {g.name: g.stats for g in report.teams}
    assert list(teams) == ["Marketing / Inbound", "No team"]
    assert (teams["Marketing / Inbound"].clocks, teams["No team"].clocks) == (3, 4)
    assert teams["No team"].attainment == pytest.approx(1 / 2)

    [entry] = report.breaches  # February's breach is outside the period
    assert (entry.lead_id, entry.kind, entry.cause, entry.responsible, entry.off_hours) == (
        march["lead"].pk,
        "First contact",
        "Claimed but not contacted",
        "Анна С",
        True,
    )
    assert not report.more_breaches

    other = attainment(ClockKind.ASSIGNMENT, start, end, now=march["now"])
    assert (other.total.clocks, other.total.met, other.total.attainment) == (1, 1, 1.0)


def test_the_manager_action_clock_counts_for_the_lead_manager_until_stopped(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    started = Clock.objects.get(lead=lead, kind=ClockKind.MANAGER_ACTION).started_at
    start, end = period(timezone.localdate(started), timezone.localdate(started))
    report = attainment(ClockKind.MANAGER_ACTION, start, end, now=started)
    assert [(g.key, g.stats.running) for g in report.people] == [(cast["sales"].pk, 1)]


def test_the_breach_ledger_is_capped(cast: dict[str, User], march: dict[str, Any]) -> None:
    start, end = period(date(2026, 2, 1), date(2026, 3, 31))
    report = attainment(ClockKind.FIRST_CONTACT, start, end, now=march["now"], breach_limit=1)
    assert [b.detected_at.day for b in report.breaches] == [4]  # newest first
    assert report.more_breaches


def test_report_page_shows_the_numbers_for_a_bounded_number_of_queries(
    cast: dict[str, User],
    march: dict[str, Any],
    client_for: Callable[..., Client],
    django_assert_num_queries: Any,
) -> None:
    client = client_for(cast["head_marketing"])
    # Session, user, the clocks of the period, their people, the breach ledger.
    with django_assert_num_queries(5):
        page = client.get("/sla/report/" + MARCH).text
    for text in (
        'value="2026-03-01"',
        'value="2026-03-31"',
        '<option value="first_contact" selected>',
        "By person",
        "By team",
        "Breach ledger",
        "Marketing / Inbound",
        "Claimed but not contacted",
        "0:10:00",  # the median working response, 600 s
        "25:00:00",  # the 90th percentile calendar response, 90 000 s
        f'href="/leads/{march["lead"].pk}/"',
    ):
        assert text in page, text
    # Running clocks are compared with the real now: both March ones are past due.
    assert re.search(r"Met in time</span><span class=\"kpi-value\">50.0 %", page)
    more = client.get("/sla/report/?start=2026-02-01&end=2026-03-31&kind=assignment").text
    assert '<option value="assignment" selected>' in more and "100.0 %" in more


def test_report_defaults_to_the_last_30_days_of_first_contact(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["admin"]).get("/sla/report/")
    today = timezone.localdate()
    assert response.status_code == 200
    assert f'name="start" value="{today - timedelta(days=29):%Y-%m-%d}"' in response.text
    assert f'name="end" value="{today:%Y-%m-%d}"' in response.text
    assert '<option value="first_contact" selected>' in response.text
    assert "No clocks of this kind started in the period." in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?start=2026-03-31&end=2026-03-01", "The period starts after it ends."),
        ("?start=2024-01-01&end=2026-03-01", "Choose a period of at most 366 days."),
        ("?start=yesterday", "From: Enter a valid date."),
        ("?kind=lunch", "Deadline: Select a valid choice."),
    ],
)
def test_report_refuses_a_bad_period_with_a_clear_error(
    query: str, message: str, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["admin"]).get("/sla/report/" + query)
    assert response.status_code == 400
    assert "This period cannot be shown:" in response.text and message in response.text
    assert "By person" not in response.text


# Admin -----------------------------------------------------------------------------------


@pytest.fixture
def root_client(db: None) -> Client:
    root = User.objects.create_superuser("root", "root@agency.test", "pw-root-123!")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(root)
    return client


def test_admin_lists_sla_rows_and_keeps_clocks_and_breaches_read_only(
    root_client: Client, march: dict[str, Any]
) -> None:
    for url in (
        "/admin/sla/calendar/",
        "/admin/sla/calendar/add/",
        "/admin/sla/policy/",
        "/admin/sla/clock/",
        "/admin/sla/breach/",
    ):
        assert root_client.get(url).status_code == 200, url
    assert root_client.get("/admin/sla/clock/add/").status_code == 403
    assert root_client.get("/admin/sla/breach/add/").status_code == 403
    clock = Clock.objects.first()
    assert clock is not None
    page = root_client.get(f"/admin/sla/clock/{clock.pk}/change/").text
    assert 'name="outcome"' not in page  # shown, not editable


def test_admin_calendar_checks_its_working_hours(root_client: Client) -> None:
    data = {
        "name": "Moscow office",
        "timezone": "Europe/Moscow",
        "country": "RU",
        "subdivision": "",
        "hours": '{"mon": [["09:00", "18:00"]], "funday": []}',
        "days-TOTAL_FORMS": "1",
        "days-INITIAL_FORMS": "0",
        "days-MIN_NUM_FORMS": "0",
        "days-MAX_NUM_FORMS": "1000",
        "days-0-date": "2026-03-09",
        "days-0-working": "",
        "days-0-hours": "[]",
        "days-0-note": "Праздник",
    }
    response = root_client.post("/admin/sla/calendar/add/", data)
    assert response.status_code == 200 and "Unknown weekdays: funday" in response.text
    assert not Calendar.objects.exists()
    data["hours"] = '{"mon": [["09:00", "18:00"]], "tue": [["nine", "six"]]}'
    assert "not a time of day" in root_client.post("/admin/sla/calendar/add/", data).text
    data["hours"] = '{"mon": [["09:00", "18:00"]], "tue": [["10:00", "19:00"]]}'
    assert root_client.post("/admin/sla/calendar/add/", data).status_code == 302
    calendar = Calendar.objects.get()
    assert calendar.days.get().note == "Праздник"
