"""POST /api/v1/leads/{id}/transition: 200, 409, 422, 403, each refusal a JSON error."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from tests.factories import walk
from tests.leads.snapshots import snapshot

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
MakeLead = Callable[..., Lead]
Cast = dict[str, User]

TO_SALES = ("sdr_processing", "awaiting_assignment")


def post(client: Client, lead: Lead, body: Any) -> Response:
    return client.post(f"/api/v1/leads/{lead.pk}/transition", body, content_type="application/json")


def refused(client: Client, lead: Lead, body: Any, status: int, code: str) -> dict[str, Any]:
    """Post, expect a JSON error with ``status`` and ``code``, and that nothing changed."""
    before = snapshot(lead.pk)
    response = post(client, lead, body)
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error: dict[str, Any] = response.json()
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert snapshot(lead.pk) == before
    return error


def test_a_move_returns_the_moved_lead(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    response = post(api_client(cast["sdr"]), lead, {"to": "sdr_processing", "version": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["version"]) == (lead.pk, "sdr_processing", 2)
    assert body["sdr"]["id"] == cast["sdr"].pk
    assert snapshot(lead.pk)["event_count"] == 2


def test_a_head_of_sales_assigns_a_manager_by_id(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], *TO_SALES)
    body = {"to": "assigned", "version": lead.version, "manager": cast["sales2"].pk}
    response = post(api_client(cast["head_sales"]), lead, body)
    assert response.status_code == 200, response.content
    assert response.json()["manager"]["id"] == cast["sales2"].pk


def test_a_reason_is_stored_with_the_move(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    body = {"to": "disqualified", "version": 1, "reason": "spam", "reason_code": "spam"}
    assert post(api_client(cast["sdr"]), lead, body).status_code == 200
    assert Lead.objects.get(pk=lead.pk).end_reason == "spam"


def test_a_stale_version_is_409(cast: Cast, api_client: ClientFor, make_lead: MakeLead) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    body = {"to": "awaiting_assignment", "version": 1}
    error = refused(api_client(cast["sdr"]), lead, body, 409, "version_conflict")
    assert error["current_version"] == 2


def test_a_manager_beaten_to_a_queued_lead_gets_409_without_its_new_state(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    seen = walk(make_lead(), cast["sdr"], *TO_SALES)
    walk(seen, cast["sales"], "assigned")
    body = {"to": "assigned", "version": seen.version}
    error = refused(api_client(cast["sales2"]), seen, body, 409, "version_conflict")
    assert "status" not in error
    assert "current_version" not in error


def test_the_same_request_twice_is_200_then_409(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    client = api_client(cast["sdr"])
    assert post(client, lead, {"to": "sdr_processing", "version": 1}).status_code == 200
    lead.refresh_from_db()
    refused(client, lead, {"to": "sdr_processing", "version": 1}, 409, "version_conflict")


def test_a_move_not_in_the_table_is_422_with_the_allowed_moves(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    body = {"to": "converted", "version": 1}
    error = refused(api_client(cast["sdr"]), lead, body, 422, "transition_not_allowed")
    assert sorted(error["allowed"]) == ["disqualified", "sdr_processing"]


def test_an_unknown_target_status_is_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    refused(
        api_client(cast["admin"]),
        make_lead(),
        {"to": "teleported", "version": 1},
        422,
        "transition_not_allowed",
    )


def test_a_missing_reason_is_422(cast: Cast, api_client: ClientFor, make_lead: MakeLead) -> None:
    lead = make_lead()
    body = {"to": "disqualified", "version": 1, "reason": "   "}
    error = refused(api_client(cast["sdr"]), lead, body, 422, "missing_field")
    assert error["field"] == "reason"


def test_assigning_without_a_manager_is_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], *TO_SALES)
    body = {"to": "assigned", "version": lead.version}
    error = refused(api_client(cast["head_sales"]), lead, body, 422, "missing_field")
    assert error["field"] == "manager"


@pytest.mark.parametrize("who", ["sdr", "nobody"])
def test_assigning_someone_who_is_not_a_sales_manager_is_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    lead = walk(make_lead(), cast["sdr"], *TO_SALES)
    manager = cast[who].pk if who in cast else 999_999
    body = {"to": "assigned", "version": lead.version, "manager": manager}
    error = refused(api_client(cast["head_sales"]), lead, body, 422, "missing_field")
    assert error["field"] == "manager"


def test_a_role_that_may_not_make_the_move_is_403(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], *TO_SALES)
    body = {"to": "assigned", "version": lead.version, "manager": cast["sales"].pk}
    refused(api_client(cast["sdr"]), lead, body, 403, "forbidden")


def test_a_lead_the_user_cannot_see_is_404(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    body = {"to": "awaiting_assignment", "version": lead.version}
    refused(api_client(cast["sdr2"]), lead, body, 404, "not_found")


def test_an_unknown_lead_is_404(cast: Cast, api_client: ClientFor) -> None:
    response = api_client(cast["admin"]).post(
        "/api/v1/leads/999999/transition",
        {"to": "sdr_processing", "version": 1},
        content_type="application/json",
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"to": "sdr_processing", "version": 1, "status": "converted"},
        {"to": "sdr_processing", "version": 1, "sdr": 1},
        {"to": "sdr_processing", "version": 1, "force": True},
    ],
    ids=["status", "sdr", "force"],
)
def test_unknown_fields_in_the_body_are_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, body: dict[str, Any]
) -> None:
    refused(api_client(cast["admin"]), make_lead(), body, 422, "validation_error")


@pytest.mark.parametrize(
    "body",
    [{"to": "sdr_processing"}, {"version": 1}, {"to": "sdr_processing", "version": "one"}, [1]],
    ids=["no version", "no target", "version not a number", "not an object"],
)
def test_a_body_of_the_wrong_shape_is_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, body: Any
) -> None:
    refused(api_client(cast["admin"]), make_lead(), body, 422, "validation_error")


def test_a_body_that_is_not_json_is_a_json_400(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    before = snapshot(lead.pk)
    response = post(api_client(cast["admin"]), lead, "{not json")
    assert response.status_code == 400
    assert {"code", "message"} <= set(response.json())
    assert snapshot(lead.pk) == before


def test_reading_is_not_allowed_on_the_transition_url(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    response = api_client(cast["admin"]).get(f"/api/v1/leads/{lead.pk}/transition")
    assert response.status_code == 405
