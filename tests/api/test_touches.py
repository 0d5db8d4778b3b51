"""POST /api/v1/leads/{id}/touches: a logged contact stops the 30-minute clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.sla.models import Clock

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
