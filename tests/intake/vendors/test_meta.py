"""``meta``: the verification challenge, X-Hub-Signature-256, leadgen ids, the Graph fetch."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from leadrelay.intake.vendors.base import Malformed, Unauthorized
from leadrelay.intake.vendors.meta import (
    DEFAULT_GRAPH_BASE_URL,
    graph_request_url,
    parse_graph_lead,
)
from tests.intake.vendors.payloads import (
    COMPANY,
    EMAIL,
    NAME,
    PHONE,
    SECRET,
    accept,
    hmac_hex,
    json_bytes,
    lead,
    raw,
    source,
)

CFG = source("meta", config={"verify_token": "meatyhamhock-Ж", "access_token": "EAAB-page-token"})


def notification(*leadgen_ids: str) -> dict[str, Any]:
    """A Page leadgen notification as Meta's webhook docs show it."""
    return {
        "object": "page",
        "entry": [
            {
                "id": "153125381133",
                "time": 1772442000,
                "changes": [
                    {
                        "field": "leadgen",
                        "value": {
                            "leadgen_id": leadgen_id,
                            "page_id": "153125381133",
                            "form_id": "1091432948876239",
                            "adgroup_id": "23851234567890123",
                            "ad_id": "23851234567890123",
                            "created_time": 1772442000,
                        },
                    }
                    for leadgen_id in leadgen_ids
                ],
            }
        ],
    }


def signed(data: Any, secret: str = SECRET) -> Any:
    body = json_bytes(data)
    return raw(body, headers={"X-Hub-Signature-256": f"sha256={hmac_hex(secret, body)}"})


def test_the_verification_request_is_answered_with_its_challenge() -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.challenge": "1158201444",
        "hub.verify_token": "meatyhamhock-Ж",
    }
    [item] = accept(raw(b"", method="GET", content_type="", query=query), CFG)
    assert item.reply == "1158201444"
    assert item.is_test


@pytest.mark.parametrize(
    "query",
    [
        {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "wrong"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.challenge": "1", "hub.verify_token": "meatyhamhock-Ж"},
    ],
)
def test_a_wrong_verify_token_is_unauthorized(query: dict[str, str]) -> None:
    with pytest.raises(Unauthorized):
        accept(raw(b"", method="GET", content_type="", query=query), CFG)


def test_a_source_without_a_verify_token_verifies_nothing() -> None:
    query = {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": ""}
    with pytest.raises(Unauthorized):
        accept(raw(b"", method="GET", content_type="", query=query), source("meta"))


def test_each_leadgen_change_is_a_lead_to_fetch() -> None:
    items = accept(signed(notification("444444444444", "555555555555")), CFG)
    assert [i.event_id for i in items] == ["444444444444", "555555555555"]
    assert all(i.needs_fetch for i in items)
    assert items[0].hidden["meta_form_id"] == "1091432948876239"
    assert items[0].submitted_at == "2026-03-02T09:00:00+00:00"


def test_other_page_changes_give_nothing_to_store() -> None:
    data = {
        "object": "page",
        "entry": [{"id": "1", "time": 1, "changes": [{"field": "feed", "value": {}}]}],
    }
    assert accept(signed(data), CFG) == []


@pytest.mark.parametrize("header", [None, "sha256=", "sha1=abc", "sha256=" + "0" * 64])
def test_a_missing_or_wrong_signature_is_unauthorized(header: str | None) -> None:
    headers = {"X-Hub-Signature-256": header} if header is not None else {}
    with pytest.raises(Unauthorized):
        accept(raw(json_bytes(notification("1")), headers=headers), CFG)


def test_a_signature_from_another_app_secret_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        accept(signed(notification("1"), secret="another-app"), CFG)


def test_a_signed_body_changed_in_transit_is_unauthorized() -> None:
    good = signed(notification("1"))
    tampered = raw(good.body.replace(b'"1"', b'"2"'), headers=dict(good.headers))
    with pytest.raises(Unauthorized):
        accept(tampered, CFG)


@pytest.mark.parametrize(
    "data",
    [
        {"object": "instagram", "entry": []},
        {"object": "page", "entry": {}},
        {"object": "page", "entry": [{"changes": [{"field": "leadgen", "value": {}}]}]},
    ],
)
def test_a_signed_but_unreadable_notification_is_malformed(data: Any) -> None:
    with pytest.raises(Malformed):
        accept(signed(data), CFG)


def test_the_graph_request_reads_field_data_with_the_configured_token_and_base() -> None:
    url = graph_request_url(CFG.config, "444444444444")
    parts = urlsplit(url)
    assert url.startswith(f"{DEFAULT_GRAPH_BASE_URL}/444444444444?")
    query = parse_qs(parts.query)
    assert query["access_token"] == ["EAAB-page-token"]
    assert "field_data" in query["fields"][0].split(",")
    mock = graph_request_url({**CFG.config, "graph_base_url": "http://127.0.0.1:9/v1/"}, "4/../x")
    assert mock.startswith("http://127.0.0.1:9/v1/4%2F..%2Fx?")


def test_the_graph_request_can_carry_the_app_secret_proof() -> None:
    query = parse_qs(urlsplit(graph_request_url(CFG.config, "1", app_secret=SECRET)).query)
    assert query["appsecret_proof"] == [hmac_hex(SECRET, b"EAAB-page-token")]


def test_a_graph_lead_maps_its_field_data() -> None:
    payload = {
        "id": "444444444444",
        "created_time": "2026-03-02T09:00:00+0000",
        "ad_id": "23851234567890123",
        "form_id": "1091432948876239",
        "is_organic": False,
        "field_data": [
            {"name": "full_name", "values": [NAME]},
            {"name": "email", "values": [EMAIL]},
            {"name": "phone_number", "values": [PHONE]},
            {"name": "company_name", "values": [COMPANY]},
            {"name": "какой_бюджет?", "values": ["100 000+ ₽", "в месяц"]},
        ],
        "custom_disclaimer_responses": [{"checkbox_key": "privacy", "is_checked": "1"}],
    }
    item = parse_graph_lead(payload, "444444444444")
    mapped = lead(item, CFG)
    assert item.event_id == "444444444444" and not item.needs_fetch
    assert (mapped.name, mapped.email, mapped.phone, mapped.company) == (
        NAME,
        EMAIL,
        PHONE,
        COMPANY,
    )
    assert mapped.extra["какой_бюджет?"] == "100 000+ ₽, в месяц"
    assert mapped.extra["meta_ad_id"] == "23851234567890123"


def test_a_graph_answer_without_field_data_is_malformed() -> None:
    with pytest.raises(Malformed):
        parse_graph_lead({"error": {"message": "Invalid OAuth access token"}}, "1")
