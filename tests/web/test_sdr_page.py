"""My day: the SDR's queue, their first-contact SLA and their month, and the shift toggle.

The month is March 2026 in the site's zone (Moscow); ``now`` is faked through the views'
clock, and the figures are set up by hand so each one is known.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import claim
from leadrelay.qualify.models import Return, SdrQueueSettings
from leadrelay.qualify.queue import auto_assign
from leadrelay.sla.models import Clock, ClockKind, Policy
from leadrelay.sla.report import attainment
from leadrelay.web import sdr_views
from tests.conftest import T0

HTMX = {"HX-Request": "true"}
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
# Session, user, my requests, the unclaimed count, my clocks, five counts of the month,
# the open returns (and their reason labels), the queue settings.
MY_DAY_QUERIES = 12


def kpis(html: str) -> list[str]:
    return re.findall(r'<span class="kpi-value">([^<]*)</span>', html)


@pytest.fixture
def fake_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(sdr_views, "current_time", lambda: NOW)
    return NOW


@pytest.fixture
def march(
    cast: dict[str, User], make_lead: Callable[..., Lead], fake_now: datetime
) -> dict[str, Any]:
    """sdr's March: one request in work, MQLs, SQLs, a return and first-contact clocks."""
    sdr, sdr2 = cast["sdr"], cast["sdr2"]
    mine = claim(sdr, make_lead(name="В работе").pk)
    theirs = claim(sdr2, make_lead(name="Чужая").pk)
    free = [make_lead(name="Свободная 1"), make_lead(name="Свободная 2")]

    def handed(
        sdr_user: User, status: str, mql: datetime, sql: datetime | None = None, **more: Any
    ) -> Lead:
        lead = make_lead()
        Lead.objects.filter(pk=lead.pk).update(
            sdr=sdr_user, status=status, reached_mql_at=mql, reached_sql_at=sql, **more
        )
        return Lead.objects.get(pk=lead.pk)

    march5 = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
    h1 = handed(sdr, Status.AWAITING_ASSIGNMENT, march5)
    h2 = handed(
        sdr,
        Status.BRIEF_FILLED,
        march5 + timedelta(days=1),
        datetime(2026, 3, 10, tzinfo=UTC),
        reached_sal_at=datetime(2026, 3, 12, tzinfo=UTC),
    )
    # Handed off in February, confirmed in March: an SQL of March, not an MQL of it.
    h3 = handed(
        sdr,
        Status.DISCUSSION,
        datetime(2026, 2, 20, tzinfo=UTC),
        datetime(2026, 3, 3, tzinfo=UTC),
    )
    handed(sdr2, Status.AWAITING_ASSIGNMENT, march5)
    # 23:30 on 31 March in Moscow is March; 00:30 on 1 April is not.
    handed(sdr, Status.AWAITING_ASSIGNMENT, datetime(2026, 3, 31, 20, 30, tzinfo=UTC))
    handed(sdr, Status.AWAITING_ASSIGNMENT, datetime(2026, 3, 31, 21, 30, tzinfo=UTC))
    Return.objects.create(
        lead=h1,
        from_status=Status.ASSIGNED,
        returned_at=datetime(2026, 3, 15, tzinfo=UTC),
        returned_by=cast["sales"],
        sdr=sdr,
        reason_code="no_budget",
        reason="Клиент передумал",
    )
    Return.objects.create(
        lead=h3,
        from_status=Status.ASSIGNED,
        returned_at=datetime(2026, 2, 25, tzinfo=UTC),
        returned_by=cast["sales"],
        sdr=sdr,
        reason_code="no_budget",
        state=Return.State.ACCEPTED,
    )

    Clock.objects.all().delete()
    policy = Policy.objects.filter(kind=ClockKind.FIRST_CONTACT).first()
    assert policy is not None

    def clock(
        lead: Lead,
        outcome: str,
        started: datetime = T0,
        working: int | None = None,
        owner: User | None = None,
        due: datetime | None = None,
    ) -> None:
        Clock.objects.create(
            lead=lead,
            policy=policy,
            kind=ClockKind.FIRST_CONTACT,
            started_at=started,
            due_at=due or started + timedelta(minutes=30),
            outcome=outcome,
            working_seconds=working,
            calendar_seconds=working,
            owner=owner,
        )

    clock(mine, "met", working=600)
    clock(h1, "breached", started=march5, working=2400)
    clock(free[0], "breached", working=3000)  # nobody's
    clock(theirs, "met", working=60)  # sdr2's
    clock(theirs, "met", working=300, owner=sdr)  # stopped by sdr: counts for sdr
    clock(h3, "running")  # past due at NOW: missed
    clock(h2, "met", started=datetime(2026, 2, 20, tzinfo=UTC), working=10)  # February
    clock(mine, "running", started=NOW - timedelta(minutes=5))  # not yet decided
    clock(theirs, "met", owner=sdr, working=30, started=datetime(2026, 4, 1, tzinfo=UTC))
    return {"mine": mine, "theirs": theirs, "free": free, "h1": h1}


# The page -------------------------------------------------------------------------------


def test_my_day_shows_the_queue_sla_and_month_figures_against_known_data(
    cast: dict[str, User], march: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["sdr"]).get("/my-day/")
    assert response.status_code == 200
    page = response.text
    # in work, unclaimed, first contact in time, MQLs, accepted / returned, SQL / SAL
    assert kpis(page) == ["1", "2", "50.0 %", "3", "1 / 1", "2 / 1"]
    assert "2 met, 2 missed; median 0:10:00" in page
    assert "from 2026-03-01 to 2026-03-31" in page
    mine = march["mine"]
    assert f'<a class="lead-link" href="/leads/{mine.pk}/">В работе</a>' in page
    assert "Чужая" not in page and "Свободная" not in page
    # The open return, with the manager's reason.
    assert f"#{march['h1'].pk}" in page and "No budget after all" in page
    assert "Клиент передумал" in page


def test_my_day_in_russian(
    cast: dict[str, User], march: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["sdr"], "ru").get("/my-day/").text
    assert '<html lang="ru">' in page
    assert kpis(page)[2] == "50,0 %"
    assert "Бюджета нет" in page  # the return's reason code, in Russian


def test_the_persons_sla_is_their_line_of_the_sla_report(
    cast: dict[str, User], march: dict[str, Any]
) -> None:
    start, end = sdr_views.month_of(NOW)
    own = sdr_views.first_contact_stats(cast["sdr"], start, end, NOW)
    report = attainment(ClockKind.FIRST_CONTACT, start, end, now=NOW)
    line = next(g.stats for g in report.people if g.key == cast["sdr"].pk)
    assert (own.met, own.breached, own.running, own.overdue) == (
        line.met,
        line.breached,
        line.running,
        line.overdue,
    )
    assert (own.met, own.missed, own.attainment) == (2, 2, 0.5)
    assert sorted(own.working) == sorted(line.working) == [300, 600, 2400]


def test_month_of_follows_the_site_time_zone() -> None:
    start, end = sdr_views.month_of(datetime(2026, 3, 31, 21, 30, tzinfo=UTC))  # 1 April MSK
    assert (start, end) == (
        datetime(2026, 3, 31, 21, 0, tzinfo=UTC),
        datetime(2026, 4, 30, 21, 0, tzinfo=UTC),
    )


def test_a_new_sdrs_day_shows_dashes_not_errors(
    cast: dict[str, User], fake_now: datetime, client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["sdr2"]).get("/my-day/").text
    assert kpis(page) == ["0", "0", "—", "0", "0 / 0", "0 / 0"]
    assert "Nothing claimed. Take the next request from the queue." in page


@pytest.mark.parametrize("role", ["head_marketing", "head_sales", "admin"])
def test_heads_see_their_own_figures_without_the_shift_toggle(
    role: str, cast: dict[str, User], march: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast[role]).get("/my-day/")
    assert response.status_code == 200
    assert kpis(response.text)[2:] == ["—", "0", "0 / 0", "0 / 0"]
    assert 'name="on_shift"' not in response.text
    assert "Only SDRs go on shift." in response.text


@pytest.mark.parametrize("role", ["sales", "partner"])
def test_sales_and_partner_managers_have_no_sdr_day(
    role: str, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast[role]).get("/my-day/")
    assert response.status_code == 403
    assert "This page is for the SDR team and the heads." in response.text


def test_my_day_costs_the_same_few_queries_however_much_there_is(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    fake_now: datetime,
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(cast["sdr"])
    with django_assert_max_num_queries(MY_DAY_QUERIES):
        client.get("/my-day/")
    for i in range(30):
        lead = make_lead(name=f"Lead {i}")
        if i % 2:
            claim(cast["sdr"], lead.pk)
    for lead in Lead.objects.filter(sdr=cast["sdr"])[:5]:
        Return.objects.create(
            lead=lead,
            from_status=Status.ASSIGNED,
            returned_at=NOW,
            sdr=cast["sdr"],
            reason_code="no_budget",
        )
    with django_assert_max_num_queries(MY_DAY_QUERIES + 1):  # + the reasons' labels
        page = client.get("/my-day/").text
    assert kpis(page)[:2] == ["15", "15"]


# The shift toggle -------------------------------------------------------------------------


def test_an_sdr_goes_on_and_off_shift_without_javascript(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    client = client_for(cast["sdr"])
    response = client.post("/my-day/shift/", {"on_shift": "1"})
    assert response.status_code == 302 and response["Location"] == "/my-day/"
    assert User.objects.get(pk=cast["sdr"].pk).on_shift is True
    page = client.get("/my-day/").text
    assert "You are on shift." in page and "Go off shift" in page
    client.post("/my-day/shift/", {"on_shift": "0"})
    assert User.objects.get(pk=cast["sdr"].pk).on_shift is False


def test_the_shift_toggle_by_htmx_swaps_its_own_box(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["sdr"]).post("/my-day/shift/", {"on_shift": "1"}, headers=HTMX)
    assert response.status_code == 200
    html = response.text.strip()
    assert html.startswith('<section id="shift" class="card shift is-on">')
    assert 'aria-checked="true"' in html and 'name="on_shift" value="0"' in html
    assert "Assignment: SDRs claim requests themselves." in html


@pytest.mark.parametrize("value", ["", "yes", "2", "true"])
def test_a_bad_shift_value_is_refused_and_changes_nothing(
    value: str, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    client = client_for(cast["sdr"])
    response = client.post("/my-day/shift/", {"on_shift": value}, headers=HTMX)
    assert response.status_code == 400
    assert "Say whether you go on shift (1) or off it (0)." in response.text
    plain = client.post("/my-day/shift/", {"on_shift": value})
    assert plain.status_code == 302
    assert User.objects.get(pk=cast["sdr"].pk).on_shift is False


@pytest.mark.parametrize("role", ["head_marketing", "sales", "admin"])
def test_only_sdrs_go_on_shift(
    role: str, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast[role]).post("/my-day/shift/", {"on_shift": "1"})
    assert response.status_code == 403
    assert User.objects.get(pk=cast[role].pk).on_shift is False


def test_shift_takes_only_post(cast: dict[str, User], client_for: Callable[..., Client]) -> None:
    assert client_for(cast["sdr"]).get("/my-day/shift/").status_code == 405


def test_round_robin_gives_new_requests_to_the_sdr_who_went_on_shift(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    SdrQueueSettings.objects.update_or_create(
        pk=1, defaults={"mode": SdrQueueSettings.Mode.ROUND_ROBIN}
    )
    client_for(cast["sdr2"]).post("/my-day/shift/", {"on_shift": "1"})
    lead = make_lead()
    assert auto_assign() == 1
    assert Lead.objects.get(pk=lead.pk).sdr_id == cast["sdr2"].pk
