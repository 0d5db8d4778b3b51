"""The lead page: contact, attribution, owners, the moves on offer and the history."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.test import Client

from leadrelay.accounts.models import Department, User
from leadrelay.catalog.models import Partner, Service, Source
from leadrelay.leads.models import Lead
from tests.factories import walk

# Session, user, the lead with its joined service, source, owners, partner and
# department, and its events with their actors.
DETAIL_QUERIES = 4


def offered_moves(html: str) -> list[str]:
    return re.findall(r'<input type="hidden" name="to" value="(\w+)">', html)


def test_lead_page_shows_contact_request_and_attribution(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead(
        name="Олег Смирнов",
        email="oleg@romashka.ru",
        phone="+79991234567",
        company="Ромашка",
        website="romashka.ru",
        message="Нужно SEO\nдля двух сайтов",
        attribution={"utm_source": "yandex", "utm_campaign": "spring", "gclid": "Cj0K_x-Y"},
        service=Service.objects.get(code="ppc"),
        source=Source.objects.create(kind=Source.Kind.TILDA, name="Landing"),
    )
    page = client_for(cast["admin"]).get(f"/leads/{lead.pk}/").text
    for text in (
        "Олег Смирнов",
        'href="mailto:oleg@romashka.ru"',
        'href="tel:+79991234567"',
        "Ромашка",
        'href="https://romashka.ru"',
        "Нужно SEO<br>для двух сайтов",
        "Contextual advertising",
        "Landing",
        "Tilda",
        "<dt>utm_source</dt><dd>yandex</dd>",
        "<dt>utm_campaign</dt><dd>spring</dd>",
        "<dt>gclid</dt><dd>Cj0K_x-Y</dd>",
        "2026-03-02 12:00",
    ):
        assert text in page, text


def test_a_website_that_is_not_http_is_shown_but_never_linked(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead(website="javascript:alert(1)")
    page = client_for(cast["admin"]).get(f"/leads/{lead.pk}/").text
    assert "javascript:alert(1)" in page
    assert 'href="javascript:' not in page


def test_history_lists_every_event_oldest_first_with_who_and_reason(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "new", reason="Wrong number")
    page = client_for(cast["admin"]).get(f"/leads/{lead.pk}/").text
    history = page[page.index('<ol class="timeline">') :]
    events = re.findall(r'<li class="event">', history)
    assert len(events) == 3
    assert "oldest first" in page
    received = history.index("Request received")
    taken = history.index("Received by SDR, questionnaire in progress</span>")
    back = history.index("Wrong number")
    assert received < taken < back
    assert "· sdr" in history and "· system" in history


def test_sdr_is_offered_the_moves_of_the_table_with_a_reason_box_where_one_is_needed(
    cast: dict[str, User],
    departments: dict[str, Department],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    Partner.objects.create(name="Web Partners LLC")
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    page = client_for(cast["sdr"]).get(f"/leads/{lead.pk}/").text
    assert sorted(offered_moves(page)) == sorted(
        ["awaiting_assignment", "disqualified", "referred", "routed", "new"]
    )
    assert f'<input type="hidden" name="version" value="{lead.version}">' in page
    # Disqualifying and sending back need a reason; referring picks a partner, routing
    # picks a department; moving on to the sales queue is one button.
    assert page.count('<textarea name="reason"') == 2
    assert '<select name="partner">' in page and "Web Partners LLC" in page
    assert '<select name="department">' in page and "Marketing" in page
    assert '<select name="manager"' not in page


def test_head_of_sales_assigning_picks_one_of_the_active_sales_managers(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    cast["sales2"].is_active = False
    cast["sales2"].save()
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    page = client_for(cast["head_sales"]).get(f"/leads/{lead.pk}/").text
    assert "assigned" in offered_moves(page)
    select = page[page.index('<select name="manager"') :]
    select = select[: select.index("</select>")]
    assert f'value="{cast["sales"].pk}"' in select
    assert f'value="{cast["sales2"].pk}"' not in select
    assert f'value="{cast["sdr"].pk}"' not in select


def test_sales_manager_takes_a_lead_with_one_button_and_no_manager_select(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    page = client_for(cast["sales"]).get(f"/leads/{lead.pk}/").text
    assert "assigned" in offered_moves(page)
    assert '<select name="manager"' not in page


def test_a_converted_lead_offers_no_moves(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned", "discussion", "brief_filled", "proposal")
    lead = walk(lead, cast["sales"], "contract", "converted")
    page = client_for(cast["sales"]).get(f"/leads/{lead.pk}/").text
    assert offered_moves(page) == []
    assert "There is nothing you can do with this lead now." in page


def test_unknown_lead_is_a_friendly_404(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["admin"]).get("/leads/999999/")
    assert response.status_code == 404
    assert "This lead does not exist or is not visible to you." in response.text
    assert "Traceback" not in response.text


def test_lead_page_costs_the_same_few_queries_however_long_the_history(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_num_queries: Any,
) -> None:
    source = Source.objects.create(kind=Source.Kind.FORM, name="Site")
    lead = make_lead(source=source, service=Service.objects.get(code="seo"))
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned", "discussion")
    client = client_for(cast["sales"])
    with django_assert_num_queries(DETAIL_QUERIES):
        client.get(f"/leads/{lead.pk}/")
    for _ in range(5):
        lead = walk(lead, cast["sales"], "brief_filled", "discussion")
    lead = walk(lead, cast["head_sales"], "lost")
    with django_assert_num_queries(DETAIL_QUERIES):
        page = client.get(f"/leads/{lead.pk}/").text
    assert page.count('<li class="event">') == 16


def test_head_sees_the_manager_choices_for_a_bounded_number_of_queries(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    client = client_for(cast["head_sales"])
    # + the manager choices, + the head's department (queries.scope reads the object).
    with django_assert_max_num_queries(DETAIL_QUERIES + 2):
        client.get(f"/leads/{lead.pk}/")
