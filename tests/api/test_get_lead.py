"""GET /api/v1/leads/{id}: every field CONTRACT.md promises, and a JSON 404."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Source
from leadrelay.leads.models import Lead
from tests.conftest import T0
from tests.factories import walk

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
MakeLead = Callable[..., Lead]

CONTRACT_FIELDS = {
    "id",
    "status",
    "stage",
    "name",
    "email",
    "phone",
    "company",
    "website",
    "message",
    "attribution",
    "source",
    "received_at",
    "sdr",
    "manager",
    "duplicate_of",
    "version",
}


@pytest.fixture
def full_lead(make_lead: MakeLead) -> Lead:
    source = Source.objects.create(kind=Source.Kind.FORM, name="Site form")
    return make_lead(
        name="Ирина Петрова",
        email="irina@example.ru",
        phone="+79991234567",
        company="ООО Ромашка",
        website="https://romashka.example",
        message="Нужен сайт",
        attribution={
            "utm_source": "google",
            "utm_medium": "",
            "utm_campaign": "spring",
            "gclid": "Cj0KCQ_AbC-123_xyZ",
        },
        source=source,
    )


def test_a_lead_has_every_contract_field(
    cast: dict[str, User], api_client: ClientFor, full_lead: Lead
) -> None:
    response = api_client(cast["admin"]).get(f"/api/v1/leads/{full_lead.pk}")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= CONTRACT_FIELDS
    assert body["id"] == full_lead.pk
    assert (body["status"], body["stage"], body["version"]) == ("new", None, 1)
    assert body["name"] == "Ирина Петрова"
    assert (body["email"], body["phone"]) == ("irina@example.ru", "+79991234567")
    assert (body["company"], body["website"]) == ("ООО Ромашка", "https://romashka.example")
    assert body["message"] == "Нужен сайт"
    assert body["source"] == {"id": full_lead.source_id, "kind": "form"}
    assert (body["sdr"], body["manager"], body["duplicate_of"]) == (None, None, None)


def test_attribution_drops_empty_values_and_keeps_click_ids_byte_exact(
    cast: dict[str, User], api_client: ClientFor, full_lead: Lead
) -> None:
    body = api_client(cast["admin"]).get(f"/api/v1/leads/{full_lead.pk}").json()
    assert body["attribution"] == {
        "utm_source": "google",
        "utm_campaign": "spring",
        "gclid": "Cj0KCQ_AbC-123_xyZ",
    }


def test_received_at_is_iso_8601_with_an_offset(
    cast: dict[str, User], api_client: ClientFor, full_lead: Lead
) -> None:
    raw = api_client(cast["admin"]).get(f"/api/v1/leads/{full_lead.pk}").json()["received_at"]
    assert re.search(r"T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", raw), raw
    assert datetime.fromisoformat(raw) == T0


def test_owners_are_shown_as_references(
    cast: dict[str, User], api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned", "discussion")
    body = api_client(cast["admin"]).get(f"/api/v1/leads/{lead.pk}").json()
    assert body["sdr"]["id"] == cast["sdr"].pk
    assert body["manager"]["id"] == cast["sales"].pk
    assert (body["status"], body["stage"], body["version"]) == ("discussion", "sql", 5)


def test_a_duplicate_points_to_the_original(
    cast: dict[str, User], api_client: ClientFor, make_lead: MakeLead
) -> None:
    original = make_lead()
    duplicate = make_lead()
    Lead.objects.filter(pk=duplicate.pk).update(duplicate_of=original)
    body = api_client(cast["admin"]).get(f"/api/v1/leads/{duplicate.pk}").json()
    assert body["duplicate_of"] == original.pk


def test_an_unknown_lead_is_a_json_404(cast: dict[str, User], api_client: ClientFor) -> None:
    response = api_client(cast["admin"]).get("/api/v1/leads/999999")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "not_found"
    assert isinstance(body["message"], str) and body["message"]


def test_a_lead_id_that_is_not_a_number_is_a_json_error(
    cast: dict[str, User], api_client: ClientFor
) -> None:
    response = api_client(cast["admin"]).get("/api/v1/leads/abc")
    assert response.status_code in (404, 422)
    assert {"code", "message"} <= set(response.json())


def test_the_lead_history_is_listed_oldest_first(
    cast: dict[str, User], api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "disqualified", reason="spam")
    events = api_client(cast["admin"]).get(f"/api/v1/leads/{lead.pk}/events").json()
    assert [(e["kind"], e["to_status"]) for e in events] == [
        ("created", "new"),
        ("status", "sdr_processing"),
        ("status", "disqualified"),
    ]
    assert events[-1]["reason"] == "spam"
    assert events[-1]["actor"]["id"] == cast["sdr"].pk
