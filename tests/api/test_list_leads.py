"""GET /api/v1/leads: filters and keyset pagination."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Source
from leadrelay.leads.models import Lead
from tests.factories import walk

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
MakeLead = Callable[..., Lead]

TO_SALES = ("sdr_processing", "awaiting_assignment")


def ids(client: Client, **params: Any) -> list[int]:
    response = client.get("/api/v1/leads", params)
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def admin(cast: dict[str, User], api_client: ClientFor) -> Client:
    return api_client(cast["admin"])


def test_the_list_is_newest_first(admin: Client, make_lead: MakeLead) -> None:
    leads = [make_lead(email=f"n{i}@example.ru") for i in range(3)]
    assert ids(admin) == [lead.pk for lead in reversed(leads)]


def test_filtering_by_email_normalises_the_input(admin: Client, make_lead: MakeLead) -> None:
    irina = make_lead(email="irina@example.ru")
    make_lead(email="oleg@example.ru")
    assert ids(admin, email="  Irina@Example.RU ") == [irina.pk]


def test_filtering_by_phone_finds_the_e164_number(admin: Client, make_lead: MakeLead) -> None:
    lead = make_lead(phone="+79991234567")
    make_lead(phone="+79997654321")
    assert ids(admin, phone="+7 (999) 123-45-67") == [lead.pk]
    assert ids(admin, phone="8 999 123 45 67") == [lead.pk]


def test_filtering_by_status(admin: Client, cast: dict[str, User], make_lead: MakeLead) -> None:
    taken = walk(make_lead(), cast["sdr"], "sdr_processing")
    make_lead()
    assert ids(admin, status="sdr_processing") == [taken.pk]


def test_filtering_by_stage_includes_leads_that_passed_it(
    admin: Client, cast: dict[str, User], make_lead: MakeLead
) -> None:
    make_lead()
    mql = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    sql = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    sql = walk(sql, cast["sales"], "assigned", "discussion")
    sent_back = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    sent_back = walk(sent_back, cast["sales"], "assigned", "discussion", "sdr_processing")
    assert ids(admin, stage="mql") == [sent_back.pk, sql.pk, mql.pk]
    assert ids(admin, stage="sql") == [sent_back.pk, sql.pk]
    assert ids(admin, stage="sal") == []


def test_filters_combine(admin: Client, cast: dict[str, User], make_lead: MakeLead) -> None:
    walk(make_lead(email="a@example.ru"), cast["sdr"], "sdr_processing")
    wanted = make_lead(email="a@example.ru")
    make_lead(email="b@example.ru")
    assert ids(admin, email="a@example.ru", status="new") == [wanted.pk]


def test_an_unknown_status_filter_is_a_json_422(admin: Client) -> None:
    response = admin.get("/api/v1/leads", {"status": "bogus"})
    assert response.status_code == 422
    assert {"code", "message"} <= set(response.json())


def test_an_unknown_filter_is_refused_not_ignored(admin: Client, make_lead: MakeLead) -> None:
    # A misspelt filter must not silently list every lead.
    make_lead()
    response = admin.get("/api/v1/leads", {"emial": "irina@example.ru"})
    assert response.status_code == 422
    assert {"code", "message"} <= set(response.json())


def walk_pages(client: Client, **params: Any) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor: str | None = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/v1/leads", query)
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "the cursor never ends"


def test_pages_cover_every_lead_once_in_order(admin: Client, make_lead: MakeLead) -> None:
    leads = [make_lead(email=f"p{i}@example.ru") for i in range(11)]
    pages = walk_pages(admin, limit=3)
    assert [len(page) for page in pages] == [3, 3, 3, 2]
    flat = [i for page in pages for i in page]
    assert flat == sorted((lead.pk for lead in leads), reverse=True)


def test_an_exact_last_page_ends_with_a_null_cursor(admin: Client, make_lead: MakeLead) -> None:
    for i in range(4):
        make_lead(email=f"p{i}@example.ru")
    pages = walk_pages(admin, limit=2)
    assert [len(page) for page in pages] == [2, 2]


def test_an_empty_list_has_no_cursor(admin: Client) -> None:
    assert walk_pages(admin) == [[]]


def test_pages_keep_the_filter(admin: Client, cast: dict[str, User], make_lead: MakeLead) -> None:
    wanted = []
    for i in range(7):
        lead = make_lead(email=f"f{i}@example.ru")
        if i % 2:
            lead = walk(lead, cast["sdr"], "sdr_processing")
            wanted.append(lead.pk)
    pages = walk_pages(admin, status="sdr_processing", limit=2)
    assert [i for page in pages for i in page] == sorted(wanted, reverse=True)


def test_a_lead_received_while_paging_does_not_shift_the_pages(
    admin: Client, make_lead: MakeLead
) -> None:
    leads = [make_lead(email=f"k{i}@example.ru") for i in range(4)]
    first = admin.get("/api/v1/leads", {"limit": 2}).json()
    make_lead(email="late@example.ru")
    second = admin.get("/api/v1/leads", {"limit": 2, "cursor": first["next_cursor"]}).json()
    seen = [item["id"] for item in first["items"] + second["items"]]
    assert seen == sorted((lead.pk for lead in leads), reverse=True)
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "%%%",
        base64.urlsafe_b64encode(b"abc").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_garbage_cursor_is_a_json_422(admin: Client, make_lead: MakeLead, cursor: str) -> None:
    make_lead()
    response = admin.get("/api/v1/leads", {"cursor": cursor})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/json")
    assert {"code", "message"} <= set(response.json())


@pytest.mark.parametrize("limit", [0, 201, "many"])
def test_a_limit_out_of_range_is_a_json_422(admin: Client, limit: int | str) -> None:
    response = admin.get("/api/v1/leads", {"limit": limit})
    assert response.status_code == 422
    assert {"code", "message"} <= set(response.json())


def test_a_page_costs_the_same_queries_however_many_leads_it_holds(
    admin: Client, cast: dict[str, User], make_lead: MakeLead
) -> None:
    source = Source.objects.create(kind=Source.Kind.FORM, name="Site form")

    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("/api/v1/leads").status_code == 200
        return len(captured)

    def add_leads(n: int) -> None:
        for _ in range(n):
            lead = walk(make_lead(source=source), cast["sdr"], *TO_SALES)
            walk(lead, cast["sales"], "assigned")

    add_leads(2)
    few = queries_for_page()
    add_leads(10)
    assert queries_for_page() == few
