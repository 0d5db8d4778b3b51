"""The lead list: filters from the query string, keyset pages, HTMX partials, few queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.models import Lead
from tests.factories import walk

# Queries per page, whatever its size: session, user, the SDR and manager filter
# options, the page of leads with its joined service, source, SDR and manager.
LIST_QUERIES = 5


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td class="num"><a href="/leads/(\d+)/">', html)]


@pytest.fixture
def sales_lead(cast: dict[str, User], make_lead: Callable[..., Lead]) -> Lead:
    """A lead the SDR qualified and the sales manager took into discussion (SQL)."""
    lead = make_lead(name="Олег Смирнов", company="Ромашка", email="oleg@romashka.ru")
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    return walk(lead, cast["sales"], "assigned", "discussion")


def test_admin_sees_every_lead_newest_first(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    leads = [make_lead(name=f"Lead {i}") for i in range(3)]
    response = client_for(cast["admin"]).get("/leads/")
    assert response.status_code == 200
    assert listed_ids(response.text) == [lead.pk for lead in reversed(leads)]


def test_list_row_shows_service_source_status_stage_and_owners(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    source = Source.objects.create(kind=Source.Kind.TILDA, name="Landing page form")
    lead = make_lead(
        name="Олег Смирнов",
        company="Ромашка",
        service=Service.objects.get(code="seo"),
        source=source,
    )
    walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    walk(Lead.objects.get(pk=lead.pk), cast["sales"], "assigned", "discussion")
    page = client_for(cast["admin"]).get("/leads/").text
    for text in (
        "Олег Смирнов",
        "Ромашка",
        "SEO",
        "Landing page form",
        "Discussing the client&#x27;s tasks before the proposal",
        "SQL",
        "2026-03-02 12:00",  # received 09:00 UTC, shown in Moscow time
    ):
        assert text in page
    assert "<td>sdr</td>" in page and "<td>sales</td>" in page


def test_status_filter_lists_only_leads_in_that_status(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    sales_lead: Lead,
    client_for: Callable[..., Client],
) -> None:
    new = make_lead()
    client = client_for(cast["admin"])
    assert listed_ids(client.get("/leads/?status=new").text) == [new.pk]
    assert listed_ids(client.get("/leads/?status=discussion").text) == [sales_lead.pk]


def test_stage_filter_lists_leads_that_reached_or_passed_the_stage(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    sales_lead: Lead,
    client_for: Callable[..., Client],
) -> None:
    mql = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    make_lead()
    client = client_for(cast["admin"])
    assert listed_ids(client.get("/leads/?stage=mql").text) == [mql.pk, sales_lead.pk]
    assert listed_ids(client.get("/leads/?stage=sql").text) == [sales_lead.pk]
    assert listed_ids(client.get("/leads/?stage=deal").text) == []


def test_sdr_and_manager_filters_list_the_leads_they_own(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    sales_lead: Lead,
    client_for: Callable[..., Client],
) -> None:
    other = walk(make_lead(), cast["sdr2"], "sdr_processing")
    client = client_for(cast["admin"])
    assert listed_ids(client.get(f"/leads/?sdr={cast['sdr2'].pk}").text) == [other.pk]
    assert listed_ids(client.get(f"/leads/?sdr={cast['sdr'].pk}").text) == [sales_lead.pk]
    assert listed_ids(client.get(f"/leads/?manager={cast['sales'].pk}").text) == [sales_lead.pk]
    assert listed_ids(client.get(f"/leads/?manager={cast['sales2'].pk}").text) == []


@pytest.mark.parametrize(
    "q",
    ["oleg@romashka.ru", " OLEG@Romashka.RU ", "+7 999 123-45-67", "89991234567", "Оле", "Ромаш"],
)
def test_search_finds_by_exact_email_or_phone_or_name_or_company_prefix(
    q: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    wanted = make_lead(
        name="Олег Смирнов", company="Ромашка", email="oleg@romashka.ru", phone="+79991234567"
    )
    make_lead(name="Ирина", company="Лютик", email="irina@lutik.ru", phone="+79990000000")
    page = client_for(cast["admin"]).get("/leads/", {"q": q}).text
    assert listed_ids(page) == [wanted.pk]


def test_search_does_not_match_the_middle_of_a_name_or_part_of_an_email(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    make_lead(name="Олег Смирнов", email="oleg@romashka.ru")
    client = client_for(cast["admin"])
    assert listed_ids(client.get("/leads/", {"q": "Смирнов"}).text) == []
    assert listed_ids(client.get("/leads/", {"q": "romashka"}).text) == []
    assert "No leads match these filters." in client.get("/leads/", {"q": "romashka"}).text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "Select a valid choice"),
        ("stage=platinum", "Select a valid choice"),
        ("sdr=999999", "Select a valid choice"),
        ("manager=abc", "Select a valid choice"),
        ("cursor=abc", "Enter a whole number"),
        ("cursor=-5", "greater than or equal to 1"),
    ],
)
def test_bad_filter_value_is_a_clear_form_error_not_a_server_error(
    query: str,
    message: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    make_lead()
    response = client_for(cast["admin"]).get(f"/leads/?{query}")
    assert response.status_code == 400
    assert "These filters cannot be applied" in response.text
    assert message in response.text
    assert listed_ids(response.text) == []
    assert "First page" not in response.text and 'rel="next"' not in response.text


def test_an_sdr_is_not_offered_as_a_manager_filter(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["admin"]).get(f"/leads/?manager={cast['sdr'].pk}")
    assert response.status_code == 400


def test_keyset_pages_walk_every_lead_once_without_offset_or_count(
    settings: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    settings.LEADRELAY_PAGE_SIZE = 3
    leads = [make_lead(name=f"Lead {i}") for i in range(7)]
    client = client_for(cast["admin"])
    seen: list[int] = []
    url: str | None = "/leads/?status=new"
    pages = 0
    with CaptureQueriesContext(connection) as queries:
        while url:
            page = client.get(url).text
            pages += 1
            seen += listed_ids(page)
            found = re.search(r'rel="next" href="([^"]+)"', page)
            url = found.group(1).replace("&amp;", "&") if found else None
    assert pages == 3
    assert seen == sorted((lead.pk for lead in leads), reverse=True)
    for query in queries.captured_queries:
        assert "OFFSET" not in query["sql"].upper()
        assert "COUNT(" not in query["sql"].upper()


def test_next_page_link_keeps_the_filters_and_carries_the_last_id(
    settings: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    settings.LEADRELAY_PAGE_SIZE = 2
    leads = [make_lead(name=f"Lead {i}") for i in range(3)]
    page = client_for(cast["admin"]).get("/leads/?status=new&q=Lead").text
    assert f'href="/leads/?status=new&amp;q=Lead&amp;cursor={leads[1].pk}"' in page
    last = client_for(cast["admin"]).get(f"/leads/?status=new&q=Lead&cursor={leads[1].pk}").text
    assert listed_ids(last) == [leads[0].pk]
    assert 'rel="next"' not in last
    assert "First page" in last


def test_htmx_filter_request_gets_only_the_results_and_the_response_varies_on_it(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client = client_for(cast["admin"])
    partial = client.get("/leads/?status=new", headers={"HX-Request": "true"})
    full = client.get("/leads/?status=new")
    assert partial.status_code == full.status_code == 200
    assert partial.text.lstrip().startswith('<div id="lead-results"')
    assert "<html" not in partial.text and "<html" in full.text
    assert listed_ids(partial.text) == listed_ids(full.text) == [lead.pk]
    assert "HX-Request" in partial["Vary"] and "HX-Request" in full["Vary"]


def test_htmx_history_restore_gets_the_whole_page(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["admin"]).get(
        "/leads/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.text


def test_every_filter_works_without_javascript(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["admin"]).get("/leads/").text
    assert '<form class="filters card" method="get" action="/leads/"' in page


def test_list_page_costs_the_same_few_queries_however_many_leads_and_owners(
    settings: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    settings.LEADRELAY_PAGE_SIZE = 50
    source = Source.objects.create(kind=Source.Kind.FORM, name="Site")
    services = list(Service.objects.all())
    for i in range(30):
        lead = make_lead(name=f"Lead {i}", source=source, service=services[i % len(services)])
        sdr = cast["sdr"] if i % 2 else cast["sdr2"]
        lead = walk(lead, sdr, "sdr_processing", "awaiting_assignment")
        if i % 3 == 0:
            walk(lead, cast["sales"] if i % 2 else cast["sales2"], "assigned")
    client = client_for(cast["admin"])
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get("/leads/")
    assert len(listed_ids(response.text)) == 30
    with django_assert_max_num_queries(LIST_QUERIES + 1):  # + the chosen SDR's lookup
        filtered = client.get(f"/leads/?sdr={cast['sdr'].pk}&status=assigned&q=Lead")
    assert len(listed_ids(filtered.text)) == 5
