"""POST /api/v1/leads/{id}/touches and /notes: a logged contact stops the 30-minute clock;
a note goes to the history and stops nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.sla.models import Clock
from tests.factories import walk

pytestmark = pytest.mark.django_db


def post(client: Client, lead: Lead, **body: Any) -> Any:
    return client.post(f"/api/v1/leads/{lead.pk}/touches", body, content_type="application/json")


def test_a_call_stops_the_clock(
    cast: dict[str, User], make_lead: Callable[..., Lead], api_client: Callable[[User], Client]
) -> None:
    lead = make_lead()
    assert Lead.objects.get(pk=lead.pk).sla_due_at is not None
    r = post(api_client(cast["sdr"]), lead, channel="call", outcome="reached", note="ok")
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["first_touch_at"] is not None and data["sla_due_at"] is None
    assert data["sdr"]["username"] == "sdr"
    assert Clock.objects.get(lead=lead).stopped_at is not None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"channel": "call"}, 422, "missing_field"),
        ({"channel": "pigeon"}, 422, "missing_field"),
        ({"channel": "email", "unknown": 1}, 422, "validation_error"),
    ],
)
def test_bad_touches_change_nothing(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    lead = make_lead()
    events = LeadEvent.objects.count()
    r = post(api_client(cast["sdr"]), lead, **body)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert LeadEvent.objects.count() == events


def test_another_sdrs_lead_is_not_found(
    cast: dict[str, User], make_lead: Callable[..., Lead], api_client: Callable[[User], Client]
) -> None:
    lead = make_lead()
    assert post(api_client(cast["sdr"]), lead, channel="email").status_code == 200
    assert post(api_client(cast["sdr2"]), lead, channel="email").status_code == 404


def test_a_call_keeps_its_duration(
    cast: dict[str, User], make_lead: Callable[..., Lead], api_client: Callable[[User], Client]
) -> None:
    lead = make_lead()
    body = {"channel": "call", "outcome": "reached", "duration_seconds": 312}
    assert post(api_client(cast["sdr"]), lead, **body).status_code == 200
    event = LeadEvent.objects.get(lead=lead, kind="touch")
    assert (event.data["outcome"], event.data["duration"]) == ("reached", 312)


@pytest.mark.parametrize("seconds", [-1, 24 * 3600 + 1])
def test_a_call_duration_out_of_range_is_422_and_changes_nothing(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
    seconds: int,
) -> None:
    lead = make_lead()
    events = LeadEvent.objects.count()
    body = {"channel": "call", "outcome": "reached", "duration_seconds": seconds}
    r = post(api_client(cast["sdr"]), lead, **body)
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (
        422,
        "missing_field",
        "duration",
    )
    assert LeadEvent.objects.count() == events
    assert Lead.objects.get(pk=lead.pk).first_touch_at is None


def test_an_email_has_no_duration(
    cast: dict[str, User], make_lead: Callable[..., Lead], api_client: Callable[[User], Client]
) -> None:
    lead = make_lead()
    assert (
        post(api_client(cast["sdr"]), lead, channel="email", duration_seconds=60).status_code == 200
    )
    assert "duration" not in LeadEvent.objects.get(lead=lead, kind="touch").data


# Notes ---------------------------------------------------------------------------------


def note(client: Client, lead: Lead, body: Any) -> Any:
    return client.post(f"/api/v1/leads/{lead.pk}/notes", body, content_type="application/json")


def test_a_note_is_written_to_the_history(
    cast: dict[str, User], make_lead: Callable[..., Lead], api_client: Callable[[User], Client]
) -> None:
    lead = make_lead()
    version = Lead.objects.get(pk=lead.pk).version
    r = note(api_client(cast["sdr"]), lead, {"text": "  Перезвонить после 15:00  "})
    assert r.status_code == 201, r.content
    data = r.json()
    assert (data["kind"], data["reason"], data["actor"]["id"]) == (
        "note",
        "Перезвонить после 15:00",
        cast["sdr"].pk,
    )
    events = api_client(cast["sdr"]).get(f"/api/v1/leads/{lead.pk}/events").json()
    assert events[-1]["id"] == data["id"]
    # A note is not a contact: the clock runs on and the lead's version stays.
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.first_touch_at, stored.version) == (None, version)


def test_sales_may_note_a_lead_they_see(
    cast: dict[str, User], make_lead: Callable[..., Lead], api_client: Callable[[User], Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    assert note(api_client(cast["sales"]), lead, {"text": "Беру завтра"}).status_code == 201


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"text": "   "}, "missing_field"),
        ({"text": "x" * 4001}, "missing_field"),
        ({}, "validation_error"),
        ({"text": "hi", "pinned": True}, "validation_error"),
    ],
    ids=["blank", "too long", "no text", "unknown key"],
)
def test_a_bad_note_is_422_and_writes_nothing(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
    body: dict[str, Any],
    code: str,
) -> None:
    lead = make_lead()
    events = LeadEvent.objects.count()
    r = note(api_client(cast["sdr"]), lead, body)
    assert (r.status_code, r.json()["code"]) == (422, code)
    assert LeadEvent.objects.count() == events


def test_a_note_on_a_lead_out_of_scope_is_404(
    cast: dict[str, User], make_lead: Callable[..., Lead], api_client: Callable[[User], Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    r = note(api_client(cast["sdr2"]), lead, {"text": "hi"})
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
