"""The report of requests with no end: still on the SDR side after N working hours.

The clock is faked at Wednesday 18 March 2026, 15:00 in Moscow; the built-in calendar
works 09:00-18:00 Monday to Friday, so each request's age in working hours is known.
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
from leadrelay.leads.transitions import claim
from leadrelay.qualify.models import SdrQueueSettings
from leadrelay.sla.clocks import builtin_calendar
from leadrelay.web import sdr_views
from tests.factories import walk

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)  # Wednesday, 15:00 in Moscow
# Session, user, the queue settings (for the default hours), the default calendar, the
# rows with their SDR, service and source.
REPORT_QUERIES = 5


def rows(html: str) -> list[tuple[int, str]]:
    """(lead id, age) of each row, in order."""
    return [
        (int(pk), age)
        for pk, age in re.findall(
            r'<td class="num"><a href="/leads/(\d+)/">\d+</a></td>.*?<td class="num age">([^<]+)<',
            html,
            re.S,
        )
    ]


@pytest.fixture(autouse=True)
def fake_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr(sdr_views, "current_time", lambda: NOW)
    return NOW


@pytest.fixture
def requests(cast: dict[str, User], make_lead: Callable[..., Lead]) -> dict[str, Lead]:
    def at(day: int, hour_utc: int, **more: Any) -> Lead:
        return make_lead(received_at=datetime(2026, 3, day, hour_utc, 0, tzinfo=UTC), **more)

    leads = {
        "today": at(18, 7, name="Сегодня"),  # 10:00 MSK today: 5 working hours
        "yesterday": at(17, 11, name="Вчера", company="Ромашка"),  # 14:00 Tue: 4 + 6 = 10
        "friday": at(13, 14, name="Пятница"),  # 17:00 Fri: 1 + 9 + 9 + 6 = 25
        "claimed": at(12, 6, name="В работе у sdr2"),  # 09:00 Thu: 9 + 9 + 9 + 9 + 6 = 42
        "ended": at(2, 6, name="Дисквалифицирована"),
        "handed": at(2, 6, name="Передана в продажи"),
    }
    claim(cast["sdr2"], leads["claimed"].pk)
    walk(leads["ended"], cast["sdr"], "sdr_processing", "disqualified")
    walk(leads["handed"], cast["sdr"], "sdr_processing", "awaiting_assignment")
    return leads


def test_lists_requests_older_than_the_default_hours_oldest_first_with_their_age(
    cast: dict[str, User], requests: dict[str, Lead], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["head_marketing"]).get("/incoming/unended/")
    assert response.status_code == 200
    assert rows(response.text) == [
        (requests["claimed"].pk, "42.0"),
        (requests["friday"].pk, "25.0"),
        (requests["yesterday"].pk, "10.0"),
    ]
    page = response.text
    assert "3 requests older than 8 h of working time (received before 2026-03-17 16:00)." in page
    assert "sdr2" in page and "unclaimed" in page
    assert "status-sdr_processing" in page and "status-new" in page
    assert "Ромашка" in page
    for gone in ("today", "ended", "handed"):
        assert f"/leads/{requests[gone].pk}/" not in page


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ("24", ["claimed", "friday"]),
        ("30", ["claimed"]),
        ("1", ["claimed", "friday", "yesterday", "today"]),
    ],
)
def test_hours_from_the_query_string(
    hours: str,
    expected: list[str],
    cast: dict[str, User],
    requests: dict[str, Lead],
    client_for: Callable[..., Client],
) -> None:
    page = client_for(cast["admin"]).get(f"/incoming/unended/?hours={hours}").text
    assert [pk for pk, _age in rows(page)] == [requests[name].pk for name in expected]
    assert f"older than {hours} h of working time" in page


def test_the_default_comes_from_the_queue_settings(
    cast: dict[str, User], requests: dict[str, Lead], client_for: Callable[..., Client]
) -> None:
    SdrQueueSettings.objects.update_or_create(pk=1, defaults={"stale_hours": 20})
    page = client_for(cast["admin"]).get("/incoming/unended/").text
    assert [pk for pk, _age in rows(page)] == [requests["claimed"].pk, requests["friday"].pk]
    assert 'name="hours" min="1" max="2000" value="20"' in page


def test_an_sdr_sees_only_what_their_role_lets_them(
    cast: dict[str, User], requests: dict[str, Lead], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["sdr"]).get("/incoming/unended/").text
    assert [pk for pk, _age in rows(page)] == [requests["friday"].pk, requests["yesterday"].pk]


@pytest.mark.parametrize("hours", ["abc", "0", "-3", "2001", "1.5"])
def test_bad_hours_are_a_400_with_a_message(
    hours: str, cast: dict[str, User], requests: dict[str, Lead], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["admin"]).get(f"/incoming/unended/?hours={hours}")
    assert response.status_code == 400
    assert "This report cannot be shown:" in response.text
    assert rows(response.text) == []


@pytest.mark.parametrize("role", ["sales", "head_sales", "partner"])
def test_the_report_is_the_sdr_teams(
    role: str, cast: dict[str, User], requests: dict[str, Lead], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast[role]).get("/incoming/unended/")
    assert response.status_code == 403
    assert rows(response.text) == []


def test_a_long_list_is_capped_with_the_total_given(
    monkeypatch: pytest.MonkeyPatch,
    cast: dict[str, User],
    requests: dict[str, Lead],
    client_for: Callable[..., Client],
) -> None:
    monkeypatch.setattr(sdr_views, "LIST_CAP", 2)
    page = client_for(cast["admin"]).get("/incoming/unended/").text
    assert [pk for pk, _age in rows(page)] == [requests["claimed"].pk, requests["friday"].pk]
    assert "3 requests older than 8 h of working time" in page
    assert "Only the oldest 2 are shown." in page


def test_nothing_unended_says_so(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    make_lead(received_at=NOW - timedelta(minutes=30))
    page = client_for(cast["admin"]).get("/incoming/unended/").text
    assert "Every request older than that has ended somewhere." in page
    assert "0 requests older than 8 h of working time" in page


def test_the_report_renders_in_russian(
    cast: dict[str, User], requests: dict[str, Lead], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["admin"], "ru").get("/incoming/unended/").text
    assert '<html lang="ru">' in page
    assert f"/leads/{requests['claimed'].pk}/" in page and "42,0" in page
    assert "Новая" in page


def test_the_report_costs_the_same_few_queries_however_many_rows(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(cast["admin"])
    with django_assert_max_num_queries(REPORT_QUERIES):
        client.get("/incoming/unended/")
    for i in range(30):
        lead = make_lead(received_at=datetime(2026, 3, 2 + i % 10, 7, 0, tzinfo=UTC))
        if i % 2:
            claim(cast["sdr"] if i % 4 == 1 else cast["sdr2"], lead.pk)
    with django_assert_max_num_queries(REPORT_QUERIES):
        page = client.get("/incoming/unended/?hours=2").text
    assert len(rows(page)) == 30


def test_ages_walk_the_calendar_once_and_match_elapsed() -> None:
    cal = builtin_calendar()
    moments = [
        datetime(2025, 12, 30, 6, 0, tzinfo=UTC),  # across the New Year holidays
        datetime(2026, 3, 12, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 12, 6, 0, tzinfo=UTC),
        datetime(2026, 3, 17, 11, 0, tzinfo=UTC),
        datetime(2026, 3, 18, 19, 0, tzinfo=UTC),  # after now: no age
    ]
    ages = sdr_views.working_ages(cal, moments, NOW)
    expected = [max(cal.elapsed(m, NOW).total_seconds(), 0) / 3600 for m in moments]
    assert ages == pytest.approx(expected)
    assert ages[1:4] == pytest.approx([42.0, 42.0, 10.0])
