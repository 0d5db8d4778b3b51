"""The lead page's ownership and contact log: claim, release, calls with their duration,
notes, and a history that reads as sentences."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import reassign
from tests.factories import walk
from tests.web.helpers import state_of

HTMX = {"HX-Request": "true"}


def history_of(html: str) -> str:
    return html[html.index('<section class="card" id="lead-history"') :]


# Claim and release -----------------------------------------------------------------------


def test_an_sdr_claims_a_new_request_and_is_shown_as_its_owner(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client = client_for(cast["sdr"])
    page = client.get(f"/leads/{lead.pk}/").text
    assert f'<form id="claim-form" method="post" action="/leads/{lead.pk}/claim/"' in page
    assert 'id="bant-form"' not in page  # not theirs yet
    assert "Claim the request to fill in BANT and the questionnaire." in page
    response = client.post(f"/leads/{lead.pk}/claim/")
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert (lead.status, lead.sdr) == ("sdr_processing", cast["sdr"])
    page = client.get(response["Location"]).text
    assert "The request is yours now." in page
    assert '<strong id="lead-sdr">sdr</strong>' in page
    assert 'id="claim-form"' not in page and 'id="bant-form"' in page
    assert "SDR: sdr" in history_of(page)


def test_claim_under_htmx_redraws_the_lead_as_the_owners_workspace(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/claim/", headers={**HTMX, "HX-Target": "lead-main"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="lead-main"')
    assert 'id="bant-form"' in response.text and 'id="handoff-form"' in response.text


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_second_claim_is_told_who_has_it_and_changes_nothing(
    headers: dict[str, str],
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    User.objects.filter(pk=cast["sdr"].pk).update(first_name="Анна", last_name="Соколова")
    lead = make_lead()
    late = client_for(cast["sdr2"])
    assert 'id="claim-form"' in late.get(f"/leads/{lead.pk}/").text  # the page sdr2 has open
    assert client_for(cast["sdr"]).post(f"/leads/{lead.pk}/claim/").status_code == 302
    before = state_of(lead)
    response = late.post(f"/leads/{lead.pk}/claim/", headers=headers)
    assert response.status_code == 409
    assert "Already taken by Анна Соколова." in response.text
    assert "Traceback" not in response.text
    if headers:
        assert response["HX-Retarget"] == "#lead-main"
    assert state_of(lead) == before


def test_the_head_of_marketing_claims_for_themselves(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client_for(cast["head_marketing"]).post(f"/leads/{lead.pk}/claim/")
    lead.refresh_from_db()
    assert (lead.status, lead.sdr) == ("sdr_processing", cast["head_marketing"])


def test_claim_is_not_offered_on_a_request_someone_owns(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    page = client_for(cast["head_marketing"]).get(f"/leads/{lead.pk}/").text
    assert 'id="claim-form"' not in page
    assert '<strong id="lead-sdr">sdr</strong>' in page


def test_the_owner_releases_the_request_to_the_queue_with_a_reason(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    client = client_for(cast["sdr"])
    page = client.get(f"/leads/{lead.pk}/").text
    assert 'id="release-form"' in page
    response = client.post(
        f"/leads/{lead.pk}/move/",
        {"to": "new", "version": lead.version, "reason": "Ухожу в отпуск"},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.sdr) == ("new", None)
    history = history_of(client.get(f"/leads/{lead.pk}/").text)
    assert "SDR: none, back in the queue" in history and "Ухожу в отпуск" in history


def test_another_sdr_cannot_release_a_claimed_request(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    before = state_of(lead)
    response = client_for(cast["sdr2"]).post(
        f"/leads/{lead.pk}/move/", {"to": "new", "version": lead.version, "reason": "mine"}
    )
    assert response.status_code == 404
    assert state_of(lead) == before


# Calls, e-mails, meetings ------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "seconds", "shown"), [("4:30", 270, "4:30"), ("5", 300, "5:00")])
def test_a_call_is_logged_with_its_duration(
    typed: str,
    seconds: int,
    shown: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    client = client_for(cast["sdr"])
    response = client.post(
        f"/leads/{lead.pk}/touch/",
        {"channel": "call", "outcome": "reached", "duration": typed, "note": "Бюджет есть"},
    )
    assert response.status_code == 302
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.TOUCH)
    assert event.data["duration"] == seconds and event.data["outcome"] == "reached"
    history = history_of(client.get(f"/leads/{lead.pk}/").text)
    assert f"Contact: Call — Talked, {shown}" in history and "Бюджет есть" in history


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("4:75", "Enter minutes:seconds (4:30) or whole minutes (5)."),
        ("four", "Enter minutes:seconds (4:30) or whole minutes (5)."),
        ("-3", "Enter minutes:seconds (4:30) or whole minutes (5)."),
        ("1441", "A call lasts from 0 seconds to 24 hours."),
    ],
)
def test_a_call_duration_that_is_not_one_is_refused_and_nothing_is_logged(
    typed: str,
    message: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/touch/",
        {"channel": "call", "outcome": "busy", "duration": typed},
        headers={**HTMX, "HX-Target": "lead-touch"},
    )
    assert response.status_code == 422
    assert message in response.text
    # The contact card comes back with what was typed, next to the error.
    assert response.text.lstrip().startswith('<section class="card" id="lead-touch"')
    assert f'value="{typed}"' in response.text
    assert state_of(lead) == before


def test_an_email_ignores_a_duration(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/touch/", {"channel": "email", "duration": "nonsense"}
    )
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.TOUCH)
    assert event.data == {"channel": "email", "version": lead.version + 1}


def test_logging_in_place_redraws_the_contact_card_and_what_depends_on_it_only(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/touch/",
        {"channel": "call", "outcome": "no_answer"},
        headers={**HTMX, "HX-Target": "lead-touch"},
    )
    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<section class="card" id="lead-touch"')
    assert "Contact logged: Call." in html
    # The history, the head (the clock) and the hand-off panel (the lead's new version)
    # come out of band; the BANT and questionnaire forms, maybe half typed, are left alone.
    for part in ("lead-history", "lead-head", "handoff-panel"):
        assert f'id="{part}"' in html
    assert html.count('hx-swap-oob="true"') >= 3
    assert 'id="bant-form"' not in html
    assert f'name="version" value="{lead.version + 1}"' in html


def test_the_first_touch_on_an_unowned_request_redraws_the_whole_lead(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/touch/",
        {"channel": "email"},
        headers={**HTMX, "HX-Target": "lead-touch"},
    )
    assert response.status_code == 200
    # It took the request: the page now offers the owner's forms.
    assert response["HX-Retarget"] == "#lead-main"
    assert response.text.lstrip().startswith('<div id="lead-main"')
    assert 'id="bant-form"' in response.text


# Notes ------------------------------------------------------------------------------------


def test_a_note_goes_into_the_history(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    client = client_for(cast["sdr"])
    response = client.post(f"/leads/{lead.pk}/note/", {"note": "Перезвонить в четверг"})
    assert response.status_code == 302 and response["Location"].endswith("#lead-note")
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.NOTE)
    assert (event.reason, event.actor) == ("Перезвонить в четверг", cast["sdr"])
    history = history_of(client.get(f"/leads/{lead.pk}/").text)
    assert "Note" in history and "Перезвонить в четверг" in history


def test_a_note_in_place_under_htmx(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/note/",
        {"note": "Клиент просил письмо"},
        headers={**HTMX, "HX-Target": "lead-note"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card" id="lead-note"')
    assert "Note added." in response.text and "Клиент просил письмо" in response.text


@pytest.mark.parametrize(
    ("text", "message"),
    [("   ", "Write the note first."), ("x" * 4001, "A note is at most 4,000 characters.")],
)
def test_an_empty_or_overlong_note_is_refused_and_nothing_is_saved(
    text: str,
    message: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/note/", {"note": text}, headers={**HTMX, "HX-Target": "lead-note"}
    )
    assert response.status_code == 422
    assert message in response.text
    assert state_of(lead) == before


def test_a_note_on_a_lead_one_cannot_see_is_a_404(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    before = state_of(lead)
    response = client_for(cast["sdr2"]).post(f"/leads/{lead.pk}/note/", {"note": "hi"})
    assert response.status_code == 404
    assert state_of(lead) == before


# The history --------------------------------------------------------------------------------


def test_history_tells_owner_changes_and_qualification_saves_in_words(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    reassign(cast["head_marketing"], lead.pk, cast["sdr2"], version=lead.version)
    client = client_for(cast["sdr2"])
    bant = {"budget_amount": "300000", "currency": "RUB", "authority_role": "CEO"}
    client.post(f"/leads/{lead.pk}/bant/", bant)
    client.post(f"/leads/{lead.pk}/bant/", {**bant, "authority_role": "CMO", "need": "leads"})
    history = history_of(client.get(f"/leads/{lead.pk}/").text)
    assert "Reassigned from sdr to sdr2" in history
    assert history.count("BANT saved") == 2
    assert "Changed: contact&#x27;s role, need</li>" in history
