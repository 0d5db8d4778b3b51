"""The client's brief page: no login, the service's questions, errors next to what was
typed, one submission, a clear page for a link that takes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.presale import briefs
from leadrelay.presale.models import Brief

pytestmark = pytest.mark.django_db

GOOD = {
    "a-goal": "leads",
    "a-queries": "цветы с доставкой",
    "a-budget__amount": "120 000",
    "a-budget__currency": "RUB",
    "a-competitors": "",
}


@pytest.fixture
def sent(cast: dict[str, User], discussion_lead: Callable[..., Lead]) -> tuple[Lead, Brief, str]:
    lead = discussion_lead()
    brief, url = briefs.send_brief(cast["sales"], lead.pk)
    return lead, brief, url


def test_the_page_opens_without_login_in_russian_and_is_not_indexed(
    sent: tuple[Lead, Brief, str],
) -> None:
    _lead, _brief, url = sent
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert len(queries) <= 2
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "SEO-продвижение" in html
    assert 'name="a-queries"' in html and "Главная цель" in html
    assert 'class="mainnav"' not in html
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Robots-Tag"].startswith("noindex")
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert "csrftoken" in response.cookies


def test_the_client_switches_to_english(sent: tuple[Lead, Brief, str]) -> None:
    _lead, _brief, url = sent
    html = Client().get(url + "?lang=en").content.decode()
    assert '<html lang="en">' in html
    assert "The main goal" in html and "SEO" in html


def test_answers_are_saved_once_and_thanked_for(
    cast: dict[str, User], sent: tuple[Lead, Brief, str]
) -> None:
    lead, brief, url = sent
    client = Client(enforce_csrf_checks=True)
    client.get(url)
    token = client.cookies["csrftoken"].value
    response = client.post(url, {**GOOD, "csrfmiddlewaretoken": token, "lang": "en"})
    assert response.status_code == 302
    assert response["Location"] == url + "?thanks=1&lang=en"
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "Thank you" in thanks.content.decode()
    assert thanks["Referrer-Policy"] == "same-origin"
    brief.refresh_from_db()
    assert brief.values["budget"] == {"amount": "120000.00", "currency": "RUB"}
    assert Lead.objects.get(pk=lead.pk).status == "brief_filled"
    # Submitting again (the back button, a second tab) is refused; nothing changes.
    again = client.post(url, {**GOOD, "a-queries": "другое", "csrfmiddlewaretoken": token})
    assert again.status_code == 410
    assert "already filled in" in again.content.decode() or "уже заполнен" in again.content.decode()
    assert Brief.objects.get(pk=brief.pk).values["queries"] == "цветы с доставкой"


def test_a_post_without_the_csrf_token_is_refused(sent: tuple[Lead, Brief, str]) -> None:
    _lead, brief, url = sent
    response = Client(enforce_csrf_checks=True).post(url, GOOD)
    assert response.status_code == 403
    assert Brief.objects.get(pk=brief.pk).filled_at is None


def test_wrong_answers_keep_what_was_typed(sent: tuple[Lead, Brief, str]) -> None:
    lead, brief, url = sent
    bad = {**GOOD, "a-budget__amount": "много", "a-queries": "", "a-competitors": "rival.ru"}
    response = Client().post(url + "?lang=en", {**bad, "lang": "en"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Enter a number." in html and "This answer is required." in html
    assert 'value="много"' in html and "rival.ru" in html
    assert re.search(r'value="leads"\s+checked', html)
    assert 'id="brief-goal-error"' not in html  # answered right: no error of its own
    assert Brief.objects.get(pk=brief.pk).filled_at is None
    assert Lead.objects.get(pk=lead.pk).status == "discussion"


@pytest.mark.parametrize(
    ("spoil", "status", "text"),
    [
        ("tamper", 404, "This link is not valid."),
        ("expire", 410, "This link expired on"),
        ("revoke", 410, "This link was withdrawn."),
        ("fill", 410, "This brief was already filled in on"),
    ],
)
def test_a_link_that_takes_nothing_says_why(
    cast: dict[str, User], sent: tuple[Lead, Brief, str], spoil: str, status: int, text: str
) -> None:
    lead, brief, url = sent
    if spoil == "tamper":
        url = url.replace(
            brief.nonce.hex[:6], "ffffff" if brief.nonce.hex[:6] != "ffffff" else "000000"
        )
    elif spoil == "expire":
        Brief.objects.filter(pk=brief.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    elif spoil == "revoke":
        briefs.revoke(cast["sales"], brief.pk)
    else:
        briefs.fill_from_call(
            cast["sales"],
            lead.pk,
            {"goal": "leads", "queries": "q", "budget": {"amount": "1", "currency": "RUB"}},
        )
    events = LeadEvent.objects.count()
    for response in (Client().get(url + "?lang=en"), Client().post(url, {**GOOD, "lang": "en"})):
        assert response.status_code == status
        assert text in response.content.decode()
        assert response["Referrer-Policy"] == "same-origin"
        assert 'name="a-goal"' not in response.content.decode()
    assert LeadEvent.objects.count() == events
