"""Bearer tokens: without a valid one every endpoint answers a JSON 401 and does nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from django.test import Client

from leadrelay.accounts.models import ApiToken, User
from leadrelay.leads.models import Lead
from tests.leads.snapshots import snapshot

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

MakeLead = Callable[..., Lead]

BAD_HEADERS: dict[str, dict[str, str]] = {
    "no header": {},
    "empty bearer": {"Authorization": "Bearer "},
    "unknown token": {"Authorization": "Bearer lr_not-a-real-token"},
    "wrong scheme": {"Authorization": "Token lr_not-a-real-token"},
}


def assert_401(response: Response) -> None:
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "unauthorized"
    assert isinstance(body["message"], str) and body["message"]


@pytest.mark.parametrize("headers", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_reading_without_a_valid_token_is_401(make_lead: MakeLead, headers: dict[str, str]) -> None:
    lead = make_lead()
    client = Client(headers=headers)
    assert_401(client.get("/api/v1/leads"))
    assert_401(client.get(f"/api/v1/leads/{lead.pk}"))
    assert_401(client.get(f"/api/v1/leads/{lead.pk}/events"))


@pytest.mark.parametrize("headers", BAD_HEADERS.values(), ids=BAD_HEADERS.keys())
def test_moving_without_a_valid_token_is_401_and_changes_nothing(
    make_lead: MakeLead, headers: dict[str, str]
) -> None:
    lead = make_lead()
    before = snapshot(lead.pk)
    response = Client(headers=headers).post(
        f"/api/v1/leads/{lead.pk}/transition",
        {"to": "sdr_processing", "version": 1},
        content_type="application/json",
    )
    assert_401(response)
    assert snapshot(lead.pk) == before


def test_the_token_of_a_deactivated_user_is_401(cast: dict[str, User], make_lead: MakeLead) -> None:
    lead = make_lead()
    _, raw = ApiToken.issue(cast["admin"])
    cast["admin"].is_active = False
    cast["admin"].save()
    assert_401(Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(f"/api/v1/leads/{lead.pk}"))


def test_a_token_is_stored_only_as_a_hash(cast: dict[str, User]) -> None:
    token, raw = ApiToken.issue(cast["sdr"])
    assert raw not in (token.key_hash, token.prefix)
    assert ApiToken.user_for(raw) == cast["sdr"]
    assert ApiToken.user_for(raw + "x") is None


def test_a_valid_token_is_200(cast: dict[str, User], make_lead: MakeLead) -> None:
    lead = make_lead()
    _, raw = ApiToken.issue(cast["admin"])
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get(f"/api/v1/leads/{lead.pk}")
    assert response.status_code == 200
