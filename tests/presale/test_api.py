"""The presale API: the brief's link and fill, demos and their .ics, roles and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.presale import briefs
from leadrelay.presale.models import Brief, Demo
from tests.presale.conftest import SEO_ANSWERS
from tests.web.helpers import state_of

pytestmark = pytest.mark.django_db

DEMO = {
    "starts_at": "2026-12-03T14:30:00+03:00",
    "duration_minutes": 45,
    "format": "online",
    "location": "https://meet.example.com/x",
    "attendees": ["irina@example.ru"],
}


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(f"/api/v1{url}", body, content_type="application/json")


def test_sending_and_filling_the_brief(
    cast: dict[str, User],
    discussion_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
) -> None:
    lead = discussion_lead()
    client = api_client(cast["sales"])
    sent = post(client, f"/leads/{lead.pk}/brief/send", {})
    assert sent.status_code == 200
    body = sent.json()
    brief = Brief.objects.get(pk=body["brief"]["id"])
    assert body["url"] == f"http://127.0.0.1:8000/brief/{briefs.token_for(brief)}/"
    assert body["brief"]["state"] == "sent" and body["brief"]["sent_to"] == "irina@example.ru"
    assert body["brief"]["service"] == "seo"

    filled = post(client, f"/leads/{lead.pk}/brief/fill", {"values": SEO_ANSWERS})
    assert filled.status_code == 200
    out = filled.json()
    assert (out["id"], out["state"], out["filled_via"]) == (brief.pk, "filled", "call")
    assert out["filled_by"]["id"] == cast["sales"].pk
    assert out["values"]["goal"] == "leads"
    assert Lead.objects.get(pk=lead.pk).status == "brief_filled"

    listed = client.get(f"/api/v1/leads/{lead.pk}/briefs")
    assert listed.status_code == 200
    assert [b["state"] for b in listed.json()] == ["filled"]


def test_wrong_answers_are_422_per_field_and_save_nothing(
    cast: dict[str, User],
    discussion_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
) -> None:
    lead = discussion_lead()
    before = state_of(lead)
    response = api_client(cast["sales"]).post(
        f"/api/v1/leads/{lead.pk}/brief/fill",
        {"values": {"goal": "fame", "nope": 1}},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"goal", "nope", "queries", "budget"}
    assert state_of(lead) == before and not Brief.objects.exists()


def test_extra_fields_are_refused(
    cast: dict[str, User],
    discussion_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
) -> None:
    lead = discussion_lead()
    response = post(api_client(cast["sales"]), f"/leads/{lead.pk}/brief/send", {"email": "x"})
    assert response.status_code == 422 and response.json()["code"] == "validation_error"


def test_roles_on_the_brief(
    cast: dict[str, User],
    discussion_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
) -> None:
    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    other = api_client(cast["sales2"])
    assert post(other, f"/leads/{lead.pk}/brief/send", {}).status_code == 404
    assert other.get(f"/api/v1/leads/{lead.pk}/briefs").status_code == 404
    assert post(other, f"/briefs/{brief.pk}/revoke", {}).status_code == 404
    sdr = api_client(cast["sdr"])
    forbidden = post(sdr, f"/leads/{lead.pk}/brief/send", {})
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "forbidden"
    assert sdr.get(f"/api/v1/leads/{lead.pk}/briefs").status_code == 200
    assert Brief.objects.count() == 1
    revoked = post(api_client(cast["head_sales"]), f"/briefs/{brief.pk}/revoke", {})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"


def test_demos_scheduled_changed_and_downloaded(
    cast: dict[str, User],
    discussion_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
) -> None:
    lead = discussion_lead()
    client = api_client(cast["sales"])
    created = post(client, f"/leads/{lead.pk}/demos", DEMO)
    assert created.status_code == 201
    demo = created.json()
    assert demo["starts_at"] == "2026-12-03T11:30:00Z"
    assert demo["ends_at"] == "2026-12-03T12:15:00Z"
    assert (demo["state"], demo["sequence"], demo["attendees"]) == (
        "scheduled",
        0,
        ["irina@example.ru"],
    )

    moved = client.patch(
        f"/api/v1/demos/{demo['id']}",
        {"starts_at": "2026-12-04T10:00:00+03:00"},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["sequence"] == 1
    held = client.patch(
        f"/api/v1/demos/{demo['id']}", {"state": "held"}, content_type="application/json"
    )
    assert held.status_code == 200 and held.json()["state"] == "held"
    again = client.patch(
        f"/api/v1/demos/{demo['id']}", {"state": "cancelled"}, content_type="application/json"
    )
    assert again.status_code == 422 and again.json()["code"] == "transition_not_allowed"

    listed = client.get(f"/api/v1/leads/{lead.pk}/demos").json()
    assert [d["id"] for d in listed] == [demo["id"]]
    ics = client.get(f"/api/v1/demos/{demo['id']}/ics")
    assert ics.status_code == 200
    assert ics["Content-Type"] == "text/calendar; charset=utf-8"
    assert "DTSTART:20261204T070000Z\r\n" in ics.content.decode()


def test_bad_attendees_are_422_and_change_nothing(
    cast: dict[str, User],
    discussion_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
) -> None:
    lead = discussion_lead()
    before = state_of(lead)
    response = api_client(cast["sales"]).post(
        f"/api/v1/leads/{lead.pk}/demos",
        {**DEMO, "attendees": ["ok@example.ru", "not-an-address"]},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"attendees": "Not valid e-mail addresses: not-an-address."}
    assert not Demo.objects.exists() and state_of(lead) == before


def test_another_manager_cannot_reach_a_demo(
    cast: dict[str, User],
    discussion_lead: Callable[..., Lead],
    api_client: Callable[[User], Client],
) -> None:
    lead = discussion_lead()
    demo = post(api_client(cast["sales"]), f"/leads/{lead.pk}/demos", DEMO).json()
    other = api_client(cast["sales2"])
    assert other.get(f"/api/v1/demos/{demo['id']}/ics").status_code == 404
    patched = other.patch(
        f"/api/v1/demos/{demo['id']}", {"state": "held"}, content_type="application/json"
    )
    assert patched.status_code == 404
    assert other.get(f"/api/v1/leads/{lead.pk}/demos").status_code == 404
    assert Demo.objects.get(pk=demo["id"]).state == "scheduled"


def test_the_endpoints_are_in_the_openapi_document(
    cast: dict[str, User], api_client: Callable[[User], Client]
) -> None:
    paths = api_client(cast["admin"]).get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/leads/{lead_id}/brief/send",
        "/api/v1/leads/{lead_id}/brief/fill",
        "/api/v1/leads/{lead_id}/briefs",
        "/api/v1/briefs/{brief_id}/revoke",
        "/api/v1/leads/{lead_id}/demos",
        "/api/v1/demos/{demo_id}",
        "/api/v1/demos/{demo_id}/ics",
    ):
        assert path in paths
        for operation in paths[path].values():
            assert operation["tags"] == ["presale"]
