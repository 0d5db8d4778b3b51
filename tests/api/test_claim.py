"""Claiming, reassigning and releasing requests through the API, and who may do what.

A second claimer is told who has the request (409 naming the owner); an SDR cannot act
on a colleague's claimed request, whichever verb they try; only the lead SDR or the head
of marketing reassigns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from leadrelay.accounts.models import Department, Team, User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead, LeadEvent
from tests.factories import qualify, walk
from tests.leads.snapshots import snapshot

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
MakeLead = Callable[..., Lead]
Cast = dict[str, User]


def claim(client: Client, lead: Lead) -> Response:
    return client.post(f"/api/v1/leads/{lead.pk}/claim")


def reassign(client: Client, lead: Lead, body: dict[str, Any]) -> Response:
    return client.post(f"/api/v1/leads/{lead.pk}/reassign", body, content_type="application/json")


def refused(response: Response, lead: Lead, before: dict[str, Any], status: int, code: str) -> Any:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["message"]
    assert snapshot(lead.pk) == before
    return body


def test_a_claim_takes_a_new_request(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    response = claim(api_client(cast["sdr"]), lead)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["sdr"]["id"], body["version"]) == (
        "sdr_processing",
        cast["sdr"].pk,
        2,
    )


def test_claiming_ones_own_request_again_changes_nothing(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    client = api_client(cast["sdr"])
    assert claim(client, lead).status_code == 200
    before = snapshot(lead.pk)
    response = claim(client, lead)
    assert response.status_code == 200
    assert response.json()["version"] == before["version"]
    assert snapshot(lead.pk) == before


def test_a_second_claim_is_409_naming_the_owner(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    owner = cast["sdr"]
    owner.first_name, owner.last_name = "Анна", "Смирнова"
    owner.save()
    lead = make_lead()
    assert claim(api_client(owner), lead).status_code == 200
    before = snapshot(lead.pk)
    response = api_client(cast["sdr2"]).post(
        f"/api/v1/leads/{lead.pk}/claim", HTTP_ACCEPT_LANGUAGE="en"
    )
    body = refused(response, lead, before, 409, "already_taken")
    assert body["owner"] == {"id": owner.pk, "name": "Анна Смирнова"}
    assert body["message"] == "Already taken by Анна Смирнова."


def test_a_request_an_sdr_owns_by_round_robin_cannot_be_claimed_by_another(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    Lead.objects.filter(pk=lead.pk).update(sdr=cast["sdr"])
    before = snapshot(lead.pk)
    body = refused(claim(api_client(cast["sdr2"]), lead), lead, before, 409, "already_taken")
    assert body["owner"]["id"] == cast["sdr"].pk


def test_a_request_that_left_the_sdr_side_cannot_be_claimed(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    before = snapshot(lead.pk)
    refused(claim(api_client(cast["sdr"]), lead), lead, before, 422, "transition_not_allowed")


@pytest.mark.parametrize("who", ["sales", "head_sales", "partner"])
def test_roles_outside_the_sdr_team_cannot_claim(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    lead = make_lead()
    before = snapshot(lead.pk)
    # Not in their scope: the same answer as for a lead that does not exist.
    refused(claim(api_client(cast[who]), lead), lead, before, 404, "not_found")


def test_the_head_of_marketing_may_claim(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    response = claim(api_client(cast["head_marketing"]), lead)
    assert response.status_code == 200
    assert response.json()["sdr"]["id"] == cast["head_marketing"].pk


def test_claiming_an_unknown_lead_is_404(cast: Cast, api_client: ClientFor) -> None:
    response = api_client(cast["sdr"]).post("/api/v1/leads/999999/claim")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# An SDR and a colleague's claimed request --------------------------------------------


@pytest.fixture
def colleagues_lead(cast: Cast, make_lead: MakeLead) -> Lead:
    """A request sdr2 has claimed and qualified, ready to hand off."""
    lead = walk(make_lead(), cast["sdr2"], "sdr_processing")
    return qualify(lead)


def test_an_sdr_cannot_hand_off_a_colleagues_claimed_request(
    cast: Cast, api_client: ClientFor, colleagues_lead: Lead
) -> None:
    lead, before = colleagues_lead, snapshot(colleagues_lead.pk)
    client = api_client(cast["sdr"])
    url = f"/api/v1/leads/{lead.pk}/transition"
    # With the version read before the colleague claimed it: someone got there first.
    stale = client.post(url, {"to": "awaiting_assignment", "version": 1}, "application/json")
    body = refused(stale, lead, before, 409, "version_conflict")
    assert "status" not in body and "current_version" not in body
    # With the current version: outside their scope.
    current = {"to": "awaiting_assignment", "version": lead.version}
    refused(client.post(url, current, "application/json"), lead, before, 404, "not_found")


def test_an_sdr_cannot_release_or_disqualify_a_colleagues_claimed_request(
    cast: Cast, api_client: ClientFor, colleagues_lead: Lead
) -> None:
    lead, before = colleagues_lead, snapshot(colleagues_lead.pk)
    client = api_client(cast["sdr"])
    for body in (
        {"to": "new", "reason": "mine now"},
        {"to": "disqualified", "reason": "x", "reason_code": "spam"},
    ):
        response = client.post(
            f"/api/v1/leads/{lead.pk}/transition",
            {**body, "version": lead.version},
            content_type="application/json",
        )
        refused(response, lead, before, 404, "not_found")


def test_an_sdr_cannot_edit_a_colleagues_claimed_request(
    cast: Cast, api_client: ClientFor, colleagues_lead: Lead
) -> None:
    lead, before = colleagues_lead, snapshot(colleagues_lead.pk)
    client = api_client(cast["sdr"])
    bant = client.put(
        f"/api/v1/leads/{lead.pk}/bant", {"authority_role": "CFO"}, "application/json"
    )
    refused(bant, lead, before, 404, "not_found")
    answers = lead.answers.first()
    assert answers is not None
    put = client.put(
        f"/api/v1/leads/{lead.pk}/answers/{answers.version_id}",
        {"values": {}},
        "application/json",
    )
    refused(put, lead, before, 404, "not_found")
    touch = client.post(
        f"/api/v1/leads/{lead.pk}/touches", {"channel": "email"}, "application/json"
    )
    refused(touch, lead, before, 404, "not_found")
    note = client.post(f"/api/v1/leads/{lead.pk}/notes", {"text": "hi"}, "application/json")
    refused(note, lead, before, 404, "not_found")
    assert lead.bant.authority_role == "CEO"


def test_an_sdr_cannot_fill_a_request_nobody_has_claimed(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    before = snapshot(lead.pk)
    response = api_client(cast["sdr"]).put(
        f"/api/v1/leads/{lead.pk}/bant", {"authority_role": "CEO"}, "application/json"
    )
    refused(response, lead, before, 403, "forbidden")


# Reassignment --------------------------------------------------------------------------


@pytest.fixture
def lead_sdr(cast: Cast, departments: dict[str, Department]) -> User:
    """An SDR who leads the marketing team."""
    user = User.objects.create_user("lead_sdr", role=Role.SDR, department=departments["marketing"])
    Team.objects.create(name="SDR", department=departments["marketing"], lead=user)
    return user


def assert_reassigned(response: Response, lead: Lead, actor: User, sdr: User) -> None:
    assert response.status_code == 200, response.content
    assert (response.json()["sdr"]["id"], response.json()["version"]) == (
        sdr.pk,
        lead.version + 1,
    )
    event = LeadEvent.objects.filter(lead=lead, kind="owner").get()
    assert event.data["why"] == "reassigned" and event.actor == actor


@pytest.mark.parametrize("who", ["head_marketing", "admin"])
def test_the_head_reassigns_a_claimed_request(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    body = {"sdr": cast["sdr2"].pk, "version": lead.version}
    assert_reassigned(reassign(api_client(cast[who]), lead, body), lead, cast[who], cast["sdr2"])


def test_the_lead_sdr_gives_a_new_request_to_an_sdr(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, lead_sdr: User
) -> None:
    lead = make_lead()
    body = {"sdr": cast["sdr2"].pk, "version": lead.version}
    assert_reassigned(reassign(api_client(lead_sdr), lead, body), lead, lead_sdr, cast["sdr2"])


def test_the_lead_sdr_reassigns_a_colleagues_claimed_request(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, lead_sdr: User
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    body = {"sdr": cast["sdr2"].pk, "version": lead.version}
    assert_reassigned(reassign(api_client(lead_sdr), lead, body), lead, lead_sdr, cast["sdr2"])


@pytest.mark.parametrize("who", ["sdr", "sdr2", "sales", "head_sales"])
def test_others_may_not_reassign(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    before = snapshot(lead.pk)
    body = {"sdr": cast["sdr2"].pk, "version": lead.version}
    refused(reassign(api_client(cast[who]), lead, body), lead, before, 403, "forbidden")


@pytest.mark.parametrize("target", ["sales", "nobody", "inactive"])
def test_reassigning_to_someone_who_is_not_an_active_sdr_is_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, target: str
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    if target == "inactive":
        User.objects.filter(pk=cast["sdr2"].pk).update(is_active=False)
    sdr_id = {"sales": cast["sales"].pk, "nobody": 999_999, "inactive": cast["sdr2"].pk}[target]
    before = snapshot(lead.pk)
    body = {"sdr": sdr_id, "version": lead.version}
    error = refused(
        reassign(api_client(cast["head_marketing"]), lead, body), lead, before, 422, "missing_field"
    )
    assert error["field"] == "sdr"


def test_reassigning_with_a_stale_version_is_409(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    before = snapshot(lead.pk)
    body = {"sdr": cast["sdr2"].pk, "version": lead.version - 1}
    error = refused(
        reassign(api_client(cast["head_marketing"]), lead, body),
        lead,
        before,
        409,
        "version_conflict",
    )
    assert error["current_version"] == lead.version


def test_a_request_with_sales_cannot_be_reassigned_to_an_sdr(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    before = snapshot(lead.pk)
    body = {"sdr": cast["sdr2"].pk, "version": lead.version}
    refused(
        reassign(api_client(cast["head_marketing"]), lead, body),
        lead,
        before,
        422,
        "transition_not_allowed",
    )
