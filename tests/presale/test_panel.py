"""The pre-sale panel on the lead page: the brief's state and actions, filling in from a
call, the demos and their forms; who may act, and what a refused form keeps."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead
from leadrelay.notify.models import Outbox
from leadrelay.presale import briefs, demos
from leadrelay.presale.models import Brief, Demo, DemoPolicy
from tests.presale.conftest import SEO_ANSWERS, quick_demo
from tests.web.helpers import state_of

pytestmark = pytest.mark.django_db

HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "lead-main"}
FILL = {
    "a-goal": "traffic",
    "a-queries": "seo москва",
    "a-budget__amount": "90000",
    "a-budget__currency": "RUB",
}


def page(client: Client, lead: Lead) -> str:
    response = client.get(f"/leads/{lead.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_discussing_lead_offers_sending_and_filling(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    html = page(client_for(cast["sales"]), lead)
    assert 'id="presale-brief"' in html and 'id="presale-demos"' in html
    assert f'action="/leads/{lead.pk}/brief/send/"' in html
    assert 'value="irina@example.ru"' in html
    assert f'action="/leads/{lead.pk}/brief/fill/"' in html
    assert 'name="a-queries"' in html
    assert f'action="/leads/{lead.pk}/demos/"' in html


def test_the_panel_is_not_shown_before_the_discussion(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead(service=Service.objects.get(code="seo"))
    assert 'id="presale-brief"' not in page(client_for(cast["admin"]), lead)


def test_sending_shows_the_link_to_copy(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    client = client_for(cast["sales"])
    response = client.post(f"/leads/{lead.pk}/brief/send/", {"to": "Boss@Example.ru"}, **HTMX)
    assert response.status_code == 200
    brief = Brief.objects.get(lead=lead)
    assert brief.sent_to == "boss@example.ru"
    html = response.content.decode()
    assert "/brief/" + briefs.token_for(brief) + "/" in html
    assert "data-copy" in html
    assert f'action="/leads/{lead.pk}/brief/{brief.pk}/revoke/"' in html
    # Without JavaScript: back to the lead page.
    plain = client.post(f"/leads/{lead.pk}/brief/send/", {"to": "boss@example.ru"})
    assert plain.status_code == 302 and plain["Location"] == f"/leads/{lead.pk}/#presale-brief"


def test_a_wrong_address_keeps_it_and_sends_nothing(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    response = client_for(cast["sales"]).post(
        f"/leads/{lead.pk}/brief/send/", {"to": "boss@"}, **HTMX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="boss@"' in html and 'id="presale-to-error"' in html
    assert not Brief.objects.exists() and not Outbox.objects.filter(event="brief_link").exists()


def test_filling_from_a_call_makes_the_lead_sal(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    response = client_for(cast["sales"]).post(f"/leads/{lead.pk}/brief/fill/", FILL, **HTMX)
    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).status == "brief_filled"
    html = response.content.decode()
    assert "Filled in from a call by" in html
    assert "More search traffic" in html and "seo москва" in html


def test_a_refused_fill_keeps_the_answers_typed(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    before = state_of(lead)
    bad = {**FILL, "a-budget__amount": "дорого", "a-queries": ""}
    response = client_for(cast["sales"]).post(f"/leads/{lead.pk}/brief/fill/", bad, **HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'value="дорого"' in html and "Enter a number." in html
    assert re.search(r'value="traffic"\s+checked', html)
    assert state_of(lead) == before
    assert not Brief.objects.exists()


def test_withdrawing_the_link(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    response = client_for(cast["sales"]).post(f"/leads/{lead.pk}/brief/{brief.pk}/revoke/", **HTMX)
    assert response.status_code == 200
    assert Brief.objects.get(pk=brief.pk).revoked_at is not None
    assert "The last link was withdrawn" in response.content.decode()


def test_another_manager_gets_404_and_the_sdr_sees_no_actions(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    before = state_of(lead)
    other = client_for(cast["sales2"])
    assert other.post(f"/leads/{lead.pk}/brief/send/", {"to": "x@example.ru"}).status_code == 404
    assert other.post(f"/leads/{lead.pk}/brief/fill/", FILL).status_code == 404
    assert other.post(f"/leads/{lead.pk}/brief/{brief.pk}/revoke/").status_code == 404
    sdr = client_for(cast["sdr"])
    html = page(sdr, lead)
    assert 'id="presale-brief"' in html
    assert "/brief/send/" not in html and "/brief/" + briefs.token_for(brief) not in html
    assert sdr.post(f"/leads/{lead.pk}/brief/send/", {"to": "x@example.ru"}).status_code == 403
    assert state_of(lead) == before
    assert Brief.objects.count() == 1 and Brief.objects.get().revoked_at is None


def test_scheduling_a_demo_in_local_time(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    response = client_for(cast["sales"]).post(
        f"/leads/{lead.pk}/demos/",
        {
            "starts_at": "2026-12-03T14:30",
            "duration_minutes": "45",
            "format": "online",
            "location": "https://meet.example.com/x",
            "attendees": "irina@example.ru, cto@example.ru",
            "note": "",
        },
        **HTMX,
    )
    assert response.status_code == 200
    demo = Demo.objects.get(lead=lead)
    assert demo.starts_at.isoformat() == "2026-12-03T11:30:00+00:00"  # Moscow is UTC+3
    html = response.content.decode()
    assert f'href="/leads/{lead.pk}/demos/{demo.pk}.ics"' in html
    assert 'name="state" value="held"' in html


def test_bad_attendees_keep_the_form_and_save_nothing(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    before = state_of(lead)
    response = client_for(cast["sales"]).post(
        f"/leads/{lead.pk}/demos/",
        {
            "starts_at": "2026-12-03T14:30",
            "duration_minutes": "45",
            "format": "online",
            "location": "Офис",
            "attendees": "irina@example.ru, irina@",
        },
        **HTMX,
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Not valid e-mail addresses: irina@." in html
    assert 'value="irina@example.ru, irina@"' in html and 'value="Офис"' in html
    assert not Demo.objects.exists() and state_of(lead) == before


def test_marking_held_and_rescheduling(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    start = timezone.now() + timedelta(days=2)
    first = quick_demo(cast["sales"], lead, starts_at=start)
    second = quick_demo(cast["sales"], lead, starts_at=start, format="office")
    client = client_for(cast["sales"])
    held = client.post(f"/leads/{lead.pk}/demos/{first.pk}/", {"state": "held"}, **HTMX)
    assert held.status_code == 200
    assert Demo.objects.get(pk=first.pk).state == "held"
    moved = client.post(
        f"/leads/{lead.pk}/demos/{second.pk}/",
        {"starts_at": "2026-12-10T10:00", "duration_minutes": "30"},
    )
    assert moved.status_code == 302
    second.refresh_from_db()
    assert (second.starts_at.isoformat(), second.duration_minutes, second.sequence) == (
        "2026-12-10T07:00:00+00:00",
        30,
        1,
    )
    # A demo of another lead is not reached through this one.
    other = discussion_lead(email="o@example.ru")
    assert (
        client.post(f"/leads/{other.pk}/demos/{second.pk}/", {"state": "held"}).status_code == 404
    )


def test_the_policy_warning_until_a_demo_is_held(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    DemoPolicy.objects.create(service=Service.objects.get(code="seo"))
    lead = discussion_lead()
    client = client_for(cast["sales"])
    assert "This service requires a demo held with the client" in page(client, lead)
    demo = quick_demo(cast["sales"], lead)
    demos.update_demo(cast["sales"], demo.pk, state="held")
    html = page(client, lead)
    assert "This service requires a demo held with the client" not in html
    assert "Demo required before the proposal" in html


def test_the_ics_download_is_for_who_sees_the_lead(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = discussion_lead()
    demo = quick_demo(cast["sales"], lead, attendees="irina@example.ru")
    url = f"/leads/{lead.pk}/demos/{demo.pk}.ics"
    response = client_for(cast["sales"]).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="demo-{demo.pk}.ics"'
    assert f"UID:{demo.uid}@leadrelay" in response.content.decode()
    assert client_for(cast["sales2"]).get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the login page


def test_a_lost_lead_shows_its_record_read_only(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    from tests.factories import walk

    lead = discussion_lead()
    briefs.fill_from_call(cast["sales"], lead.pk, SEO_ANSWERS)
    walk(Lead.objects.get(pk=lead.pk), cast["sales"], "lost")
    html = page(client_for(cast["sales"]), lead)
    assert 'id="presale-brief"' in html and "Filled in from a call" in html
    assert "/brief/send/" not in html and '/demos/"' not in html


def test_the_panel_costs_the_same_whatever_the_history(
    cast: dict[str, User],
    discussion_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    from leadrelay.web.presale_views import presale_panel

    lead = discussion_lead()
    for _ in range(5):
        briefs.send_brief(cast["sales"], lead.pk)
        quick_demo(cast["sales"], lead)
    briefs.fill_from_call(cast["sales"], lead.pk, SEO_ANSWERS)
    lead = Lead.objects.select_related("service").get(pk=lead.pk)
    with django_assert_max_num_queries(4):
        panel = presale_panel(cast["sales"], lead)
    assert panel is not None and len(panel.context["demos"]) == 5
