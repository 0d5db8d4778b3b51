"""A lead typed in by hand: who may, the same normalisation, and the duplicate warning."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.models import Lead, LeadEvent
from tests.factories import walk

pytestmark = pytest.mark.django_db

URL = "/intake/new/"
CALL = {
    "name": "Иван Петров",
    "email": " Ivan@Example.RU ",
    "phone": "+7 (999) 123-45-67",
    "company": "ООО «Ромашка»",
    "website": "romashka.ru",
    "message": "Звонил по рекомендации, нужен аудит сайта.",
    "channel": "phone",
}


def recently() -> datetime:
    """Within the duplicate window, which counts back from today."""
    return timezone.now() - timedelta(days=3)


def client_for(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def test_the_url_name() -> None:
    assert reverse("intake:new_lead") == URL


@pytest.mark.parametrize("role", ["sales", "partner", "head_sales"])
def test_other_roles_may_not_enter_a_lead(cast: dict[str, User], role: str) -> None:
    client = client_for(cast[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, CALL).status_code == 403
    assert not Lead.objects.exists()
    assert not Source.objects.exists()


@pytest.mark.parametrize("role", ["sdr", "head_marketing", "admin"])
def test_the_form_is_offered_to_sdrs_and_managers(cast: dict[str, User], role: str) -> None:
    page = client_for(cast[role]).get(URL)
    assert page.status_code == 200
    assert 'name="channel"' in page.text and "Phone call" in page.text


def test_a_phone_call_becomes_a_new_lead_normalised_like_a_form(cast: dict[str, User]) -> None:
    seo = Service.objects.get(code="seo")
    client = client_for(cast["sdr"])
    response = client.post(URL, {**CALL, "service": seo.pk})
    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:detail", args=[lead.pk])
    assert (lead.status, lead.name, lead.email, lead.phone) == (
        "new",
        "Иван Петров",
        "ivan@example.ru",
        "+79991234567",
    )
    assert (lead.company, lead.website, lead.service) == ("ООО «Ромашка»", "romashka.ru", seo)
    assert lead.attribution == {"utm_source": "manual", "utm_medium": "phone"}
    assert lead.source is not None
    assert (lead.source.kind, lead.source.name) == ("manual", "Manual entry")
    assert (lead.review, lead.duplicate_of) == ([], None)
    event = LeadEvent.objects.get(lead=lead)
    assert (event.kind, event.to_status, event.actor) == ("created", "new", cast["sdr"])
    # The SDR lands on the lead, which is theirs to see.
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "The lead is saved." in page.text


def test_every_hand_entered_lead_shares_one_manual_source(cast: dict[str, User]) -> None:
    client = client_for(cast["head_marketing"])
    client.post(URL, {**CALL, "channel": "walk_in"})
    client.post(URL, {"name": "Ольга", "phone": "8 916 000-00-01", "channel": "email"})
    assert Source.objects.count() == 1
    assert sorted(Lead.objects.values_list("attribution__utm_medium", flat=True)) == [
        "email",
        "walk_in",
    ]


@pytest.mark.parametrize(
    ("fields", "field", "error"),
    [
        ({"email": "ivan@@example"}, "email", "Enter a valid e-mail address."),
        ({"phone": "12"}, "phone", "This does not look like a phone number."),
        ({"channel": "pigeon"}, "channel", "Select a valid choice."),
    ],
)
def test_a_bad_field_is_an_error_on_it_and_saves_nothing(
    cast: dict[str, User], fields: dict[str, str], field: str, error: str
) -> None:
    response = client_for(cast["sdr"]).post(URL, {**CALL, **fields})
    assert response.status_code == 400
    errors = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', response.text)
    assert errors is not None and error in errors.group(1)
    assert "Иван Петров" in response.text  # what was typed stays on the form
    assert not Lead.objects.exists()


def test_a_lead_needs_an_email_or_a_phone(cast: dict[str, User]) -> None:
    response = client_for(cast["sdr"]).post(URL, {"name": "Без контактов", "channel": "other"})
    assert response.status_code == 400
    assert "Give an e-mail or a phone" in response.text
    assert not Lead.objects.exists()


def test_a_known_person_is_warned_about_then_saved_as_a_duplicate(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    earlier = make_lead(name="Иван П.", email="ivan@example.ru", phone="", received_at=recently())
    client = client_for(cast["sdr"])
    warning = client.post(URL, {**CALL, "phone": ""})
    assert warning.status_code == 200
    assert not Lead.objects.exclude(pk=earlier.pk).exists()
    assert "This person has already sent a request." in warning.text
    assert f'href="/leads/{earlier.pk}/"' in warning.text
    assert 'name="confirm" value="1"' in warning.text
    assert 'value="ivan@example.ru"' in warning.text or 'value=" Ivan@Example.RU' in warning.text

    saved = client.post(URL, {**CALL, "phone": "", "confirm": "1"})
    lead = Lead.objects.exclude(pk=earlier.pk).get()
    assert saved.status_code == 302
    assert saved["Location"] == reverse("leads:detail", args=[lead.pk])
    assert lead.duplicate_of == earlier
    assert lead.email == "ivan@example.ru"


def test_the_same_phone_is_a_duplicate_too(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    make_lead(email="other@example.ru", phone="+79991234567", received_at=recently())
    response = client_for(cast["admin"]).post(URL, {**CALL, "email": ""})
    assert response.status_code == 200
    assert "This person has already sent a request." in response.text
    assert Lead.objects.count() == 1


def test_a_duplicate_the_sdr_may_not_open_is_named_without_a_link(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    taken = walk(
        make_lead(email="ivan@example.ru", received_at=recently()), cast["sdr2"], "sdr_processing"
    )
    response = client_for(cast["sdr"]).post(URL, CALL)
    assert response.status_code == 200
    assert f"#{taken.pk} (owned by another team)" in response.text
    assert f'href="/leads/{taken.pk}/"' not in response.text
    assert "Ирина Петрова" not in response.text  # the other team's lead, not shown


def test_the_new_lead_link_shows_in_the_header_for_the_roles_that_may(
    cast: dict[str, User],
) -> None:
    def nav(role: str) -> Any:
        page = client_for(cast[role]).get("/leads/").text
        match = re.search(r'<nav class="mainnav".*?</nav>', page, re.S)
        assert match is not None
        return match.group(0)

    assert 'href="/intake/new/"' in nav("sdr") and 'href="/intake/import/"' in nav("sdr")
    assert 'href="/intake/sources/"' not in nav("sdr")
    for role in ("admin", "head_marketing"):
        links = nav(role)
        assert all(
            f'href="/intake/{p}/"' in links for p in ("new", "import", "sources", "deliveries")
        )
    for role in ("sales", "head_sales", "partner"):
        assert "/intake/" not in nav(role)
