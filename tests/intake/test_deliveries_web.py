"""The deliveries pages: failures first, keyset pages, the raw body, and "retry now"."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Source
from leadrelay.intake.models import Delivery
from leadrelay.intake.sources import create_source
from leadrelay.intake.tasks import process_due_deliveries
from tests.conftest import T0

pytestmark = pytest.mark.django_db

FORM_BODY = "name=Мария&phone=8 916 555-12-34&utm_source=yandex".encode()


def client_for(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def delivery(source: Source, status: str, minute: int = 0, **fields: Any) -> Delivery:
    fields.setdefault("body", FORM_BODY)
    fields.setdefault("content_type", "application/x-www-form-urlencoded")
    return Delivery.objects.create(
        source=source,
        received_at=T0 + timedelta(minutes=minute),
        method="POST",
        status=status,
        **fields,
    )


def shown_ids(page: str) -> list[int]:
    return [
        int(pk) for pk in re.findall(r'<td class="num"><a href="/intake/deliveries/(\d+)/"', page)
    ]


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.S)
    assert match is not None, pattern
    return match.group(1)


def next_link(page: str) -> str | None:
    match = re.search(r'<a class="btn" rel="next" href="([^"]+)"', page)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def site(db: None) -> Source:
    return create_source("form", "Site")


# Who may ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["sdr", "sales", "partner", "head_sales"])
def test_other_roles_may_not_see_or_retry_deliveries(
    cast: dict[str, User], site: Source, role: str
) -> None:
    failed = delivery(site, "failed", next_attempt_at=T0 + timedelta(hours=1))
    client = client_for(cast[role])
    assert client.get(reverse("intake:deliveries")).status_code == 403
    assert client.get(reverse("intake:delivery", args=[failed.pk])).status_code == 403
    retry = client.post(reverse("intake:delivery_retry", args=[failed.pk]), {"seen": ""})
    assert retry.status_code == 403
    failed.refresh_from_db()
    assert failed.next_attempt_at == T0 + timedelta(hours=1)


# The list -------------------------------------------------------------------------------------


def test_failures_come_first_then_pending_then_processed_newest_first(
    cast: dict[str, User], site: Source
) -> None:
    ads = create_source("google_ads", "Google Ads")
    order = ["processed", "failed", "pending", "processed", "failed", "pending", "processed"]
    made = [delivery(site if i % 2 else ads, status, i) for i, status in enumerate(order)]
    page = client_for(cast["head_marketing"]).get(reverse("intake:deliveries")).text
    by_status = {s: [d.pk for d in reversed(made) if d.status == s] for s in set(order)}
    assert shown_ids(page) == by_status["failed"] + by_status["pending"] + by_status["processed"]
    assert next_link(page) is None


def test_pages_follow_the_same_order_without_counting(
    cast: dict[str, User], site: Source, settings: Any
) -> None:
    settings.LEADRELAY_PAGE_SIZE = 3
    made = [
        delivery(site, s, i) for i, s in enumerate(["failed"] * 4 + ["pending"] + ["processed"] * 3)
    ]
    expected = (
        [d.pk for d in reversed(made[:4])] + [made[4].pk] + [d.pk for d in reversed(made[5:])]
    )
    client = client_for(cast["admin"])
    seen: list[int] = []
    url: str | None = reverse("intake:deliveries")
    with CaptureQueriesContext(connection) as queries:
        while url is not None:
            page = client.get(url).text
            seen += shown_ids(page)
            url = next_link(page)
    assert seen == expected
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    assert not any("OFFSET" in q["sql"].upper() for q in queries.captured_queries)


def test_the_next_page_swaps_in_under_htmx(
    cast: dict[str, User], site: Source, settings: Any
) -> None:
    settings.LEADRELAY_PAGE_SIZE = 2
    for i in range(3):
        delivery(site, "processed", i)
    client = client_for(cast["admin"])
    first = client.get(reverse("intake:deliveries"))
    assert first["Vary"].count("HX-Request") == 1
    partial = client.get(str(next_link(first.text)), HTTP_HX_REQUEST="true")
    assert partial.text.lstrip().startswith('<div id="delivery-results"')
    assert "<html" not in partial.text
    assert len(shown_ids(partial.text)) == 1
    assert "First page" in partial.text


def test_the_list_narrows_to_one_source(cast: dict[str, User], site: Source) -> None:
    ads = create_source("google_ads", "Google Ads")
    mine = delivery(site, "failed", 1)
    delivery(ads, "failed", 2)
    page = client_for(cast["admin"]).get(reverse("intake:deliveries"), {"source": site.pk}).text
    assert shown_ids(page) == [mine.pk]


@pytest.mark.parametrize("query", [{"after": "done:12"}, {"after": "failed:0"}, {"source": "x"}])
def test_a_broken_page_link_is_a_400_with_a_way_back(
    cast: dict[str, User], site: Source, query: dict[str, str]
) -> None:
    response = client_for(cast["admin"]).get(reverse("intake:deliveries"), query)
    assert response.status_code == 400
    assert "Show all deliveries" in response.text


def test_one_row_per_delivery_with_its_error_and_lead(cast: dict[str, User], site: Source) -> None:
    failed = delivery(site, "failed", error="ValueError: <b>no phone</b>", event_id="sid-1")
    page = client_for(cast["admin"]).get(reverse("intake:deliveries")).text
    row = found(r'<tr class="delivery-row-failed">(.*?)</tr>', page)
    assert "Site" in row and "Failed" in row and "sid-1" in row
    assert "ValueError: &lt;b&gt;no phone&lt;/b&gt;" in row
    assert f"/intake/deliveries/{failed.pk}/" in row


def test_the_list_costs_the_same_queries_however_many_deliveries(
    cast: dict[str, User], site: Source, django_assert_num_queries: Any
) -> None:
    client = client_for(cast["admin"])
    for i, status in enumerate(["failed", "pending", "processed"]):
        delivery(site, status, i)
    client.get(reverse("intake:deliveries"))
    # Session, user, one query per status (the page is not full), the source filter's choices.
    with django_assert_num_queries(6):
        client.get(reverse("intake:deliveries"))
    for i in range(30):
        delivery(
            create_source("tilda", f"Landing {i}"), ["failed", "pending", "processed"][i % 3], i
        )
    with django_assert_num_queries(6):
        assert len(shown_ids(client.get(reverse("intake:deliveries")).text)) == 33


def test_a_full_page_of_failures_reads_no_further(
    cast: dict[str, User], site: Source, settings: Any, django_assert_num_queries: Any
) -> None:
    settings.LEADRELAY_PAGE_SIZE = 2
    for i in range(3):
        delivery(site, "failed", i)
    delivery(site, "processed", 9)
    client = client_for(cast["admin"])
    client.get(reverse("intake:deliveries"))
    with django_assert_num_queries(4):  # session, user, failed, the filter's choices
        client.get(reverse("intake:deliveries"))


# One delivery ---------------------------------------------------------------------------------


def test_the_raw_body_and_headers_are_shown_escaped(cast: dict[str, User], site: Source) -> None:
    body = b'{"name": "<script>alert(1)</script>", "phone": "+7 999"}'
    shown = delivery(
        site,
        "failed",
        body=body,
        content_type="application/json",
        headers={"user-agent": "Tilda.cc", "referer": "https://site.ru/?utm_source=vk"},
        error="Malformed: the body",
    )
    page = client_for(cast["admin"]).get(reverse("intake:delivery", args=[shown.pk])).text
    assert "<script>alert(1)</script>" not in page
    assert "&quot;name&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;" in page
    assert "Tilda.cc" in page and "https://site.ru/?utm_source=vk" in page
    assert "Malformed: the body" in page
    assert "Retry now" in page


def test_a_form_post_is_shown_field_by_field(cast: dict[str, User], site: Source) -> None:
    shown = delivery(site, "processed")
    page = client_for(cast["admin"]).get(reverse("intake:delivery", args=[shown.pk])).text
    assert "<dt>name</dt><dd>Мария</dd>" in page
    assert "<dt>phone</dt><dd>8 916 555-12-34</dd>" in page
    assert "Retry now" not in page


def test_a_body_that_is_not_text_does_not_break_the_page(
    cast: dict[str, User], site: Source
) -> None:
    shown = delivery(site, "failed", body=b"\xff\xfe\x00binary", content_type="application/json")
    response = client_for(cast["admin"]).get(reverse("intake:delivery", args=[shown.pk]))
    assert response.status_code == 200
    assert "binary" in response.text


# Retry now --------------------------------------------------------------------------------------


def test_retry_makes_a_failed_delivery_due_and_the_worker_makes_its_lead(
    cast: dict[str, User], site: Source
) -> None:
    later = timezone.now() + timedelta(hours=1)
    failed = delivery(site, "failed", attempts=2, next_attempt_at=later, error="KeyError: x")
    client = client_for(cast["admin"])
    page = client.get(reverse("intake:delivery", args=[failed.pk])).text
    seen = found(r'name="seen" value="([^"]+)"', page)
    assert process_due_deliveries() == 0  # not due before the retry

    before = timezone.now()
    response = client.post(reverse("intake:delivery_retry", args=[failed.pk]), {"seen": seen})
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:delivery", args=[failed.pk])
    failed.refresh_from_db()
    assert failed.next_attempt_at is not None
    assert before <= failed.next_attempt_at <= timezone.now()
    assert "the worker will try it again" in client.get(response["Location"]).text

    assert process_due_deliveries() == 1
    failed.refresh_from_db()
    assert failed.status == "processed"
    lead = failed.lead
    assert lead is not None
    assert (lead.name, lead.phone, lead.attribution) == (
        "Мария",
        "+79165551234",
        {"utm_source": "yandex"},
    )


def test_retry_from_a_stale_page_leaves_the_workers_claim_alone(
    cast: dict[str, User], site: Source
) -> None:
    failed = delivery(site, "failed", next_attempt_at=T0)
    claimed = T0 + timedelta(minutes=5)
    Delivery.objects.filter(pk=failed.pk).update(next_attempt_at=claimed)  # the worker's lease
    client = client_for(cast["admin"])
    response = client.post(
        reverse("intake:delivery_retry", args=[failed.pk]), {"seen": T0.isoformat()}
    )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.next_attempt_at == claimed
    assert "taken this delivery meanwhile" in client.get(response["Location"]).text


def test_a_processed_delivery_is_not_retried(cast: dict[str, User], site: Source) -> None:
    done = delivery(site, "processed")
    client = client_for(cast["admin"])
    response = client.post(reverse("intake:delivery_retry", args=[done.pk]), {"seen": ""})
    assert response.status_code == 302
    done.refresh_from_db()
    assert done.next_attempt_at is None
    assert "no attempt left" in client.get(response["Location"]).text


def test_retry_is_a_post(cast: dict[str, User], site: Source) -> None:
    failed = delivery(site, "failed")
    response = client_for(cast["admin"]).get(reverse("intake:delivery_retry", args=[failed.pk]))
    assert response.status_code == 405
