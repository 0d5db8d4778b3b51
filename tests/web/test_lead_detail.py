"""The lead page: contact, attribution, owners, the moves on offer and the history."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.test import Client

from leadrelay.accounts.models import Department, User
from leadrelay.catalog.models import Partner, Service, Source
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import add_note, log_touch
from leadrelay.qualify.models import Answers
from tests.factories import qualify, walk

# Session, user, the lead with its joined service, source, owners, partner, department
# and BANT, its events with their actors; the qualification summary (BANT, answers); the
# reason codes (a sales manager's "return to the SDR" picks one).
DETAIL_QUERIES = 7
# The SDR's workspace adds, whatever the number of questionnaires, questions and events:
# the lead's questionnaires, its answers, their newest versions, the need taxonomy, and
# the partner and department choices of the hand-off panel, and the services to name.
WORKSPACE_QUERIES = DETAIL_QUERIES + 7
# A lead in sales' hands adds its panels: who got it and why (1), the brief and demos (4).
SALES_QUERIES = DETAIL_QUERIES + 5


def offered_moves(html: str) -> list[str]:
    return re.findall(r'name="to" value="(\w+)"', html)


def form_of(html: str, form_id: str) -> str:
    start = html.index(f'<form id="{form_id}"')
    return html[start : html.index("</form>", start)]


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


def test_sdr_is_offered_the_moves_of_the_table_each_with_the_inputs_it_needs(
    cast: dict[str, User],
    departments: dict[str, Department],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    Partner.objects.create(name="Web Partners LLC")
    Partner.objects.create(name="Gone Partners", active=False)
    Department.objects.create(name="Group Co", kind=Department.Kind.GROUP_COMPANY)
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    page = client_for(cast["sdr"]).get(f"/leads/{lead.pk}/").text
    assert sorted(offered_moves(page)) == sorted(
        ["awaiting_assignment", "disqualified", "referred", "routed", "new"]
    )
    assert f'<input type="hidden" name="version" value="{lead.version}">' in page
    # Each end of the SDR's work has its own form in the hand-off panel: the hand-off is
    # one button, disqualifying picks a reason code, referring a partner, routing a group
    # company or department; releasing to the queue needs a written reason.
    assert 'id="handoff-form"' in page
    disqualify = form_of(page, "disqualify-form")
    assert '<select name="reason_code" id="disqualify-code" required>' in disqualify
    assert 'value="spam"' in disqualify and 'value="unreachable"' in disqualify
    assert 'value="not_qualified"' not in disqualify  # a return code, not a disqualification
    refer = form_of(page, "refer-form")
    assert '<select name="partner" id="refer-partner" required>' in refer
    assert "Web Partners LLC" in refer and "Gone Partners" not in refer
    route = form_of(page, "route-form")
    assert "Group Co" in route and "Marketing" not in route  # the funnel's own departments
    assert '<textarea name="reason" rows="2" required' in form_of(page, "release-form")
    assert '<select name="manager"' not in page
    # No bare button bypasses these forms.
    assert 'btn-block">→ Disqualified' not in page


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
    django_assert_max_num_queries: Any,
) -> None:
    source = Source.objects.create(kind=Source.Kind.FORM, name="Site")
    lead = make_lead(source=source, service=Service.objects.get(code="seo"))
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned", "discussion")
    client = client_for(cast["sales"])
    with django_assert_num_queries(SALES_QUERIES):
        client.get(f"/leads/{lead.pk}/")
    for _ in range(5):
        lead = walk(lead, cast["sales"], "brief_filled", "discussion")
    with django_assert_num_queries(SALES_QUERIES):
        client.get(f"/leads/{lead.pk}/")
    lead = walk(lead, cast["head_sales"], "lost")
    with django_assert_max_num_queries(SALES_QUERIES):
        page = client.get(f"/leads/{lead.pk}/").text
    # 15 moves, the creation and the record of the assignment.
    assert page.count('<li class="event">') == 17


def test_the_sdr_workspace_costs_the_same_queries_however_many_questions_and_events(
    cast: dict[str, User],
    departments: dict[str, Department],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_num_queries: Any,
) -> None:
    from leadrelay.qualify.answers import publish
    from leadrelay.qualify.models import Questionnaire

    Partner.objects.create(name="Web Partners LLC")
    seo = Service.objects.get(code="seo")
    lead = walk(make_lead(service=seo), cast["sdr"], "sdr_processing")
    qualify(lead)  # BANT and answers: the summary is on the page too
    client = client_for(cast["sdr"])
    with django_assert_num_queries(WORKSPACE_QUERIES):
        page = client.get(f"/leads/{lead.pk}/").text
    assert 'id="bant-form"' in page and 'id="questionnaire-seo-form"' in page
    # Forty more questions, a newer version, and a long history cost nothing more.
    questionnaire = Questionnaire.objects.get(service=seo)
    current = questionnaire.current()
    assert current is not None
    more = [
        {"key": f"extra_{i}", "type": "text", "label_en": f"Extra {i}", "label_ru": f"Доп {i}"}
        for i in range(40)
    ]
    Answers.objects.filter(lead=lead).delete()
    publish(questionnaire, [*current.fields, *more], cast["admin"])
    for i in range(10):
        add_note(cast["sdr"], lead.pk, f"note {i}")
        log_touch(cast["sdr"], lead.pk, "call", outcome="no_answer", duration_seconds=i)
    with django_assert_num_queries(WORKSPACE_QUERIES):
        page = client.get(f"/leads/{lead.pk}/").text
    assert "Extra 39" in page and page.count('<li class="event">') == 22


def test_head_sees_the_manager_choices_for_a_bounded_number_of_queries(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    client = client_for(cast["head_sales"])
    # + the manager choices, + the head's department (queries.scope reads the object),
    # + the assignment panel's engine preview of who would get it.
    with django_assert_max_num_queries(DETAIL_QUERIES + 3):
        client.get(f"/leads/{lead.pk}/")
