"""``google_ads``: the lead form webhook, google_key in the body, test leads, gcl_id."""

from __future__ import annotations

from typing import Any

import pytest

from leadrelay.intake.vendors.base import Malformed, Unauthorized
from tests.intake.vendors.payloads import (
    COMPANY,
    EMAIL,
    GCLID,
    NAME,
    PHONE,
    SECRET,
    accept,
    form_bytes,
    json_bytes,
    lead,
    raw,
    source,
)

CFG = source("google_ads")


def payload(**overrides: Any) -> dict[str, Any]:
    """A lead as Google's implementation guide describes it."""
    data: dict[str, Any] = {
        "lead_id": "TeSter-123-ABCDEFGHIJKLMNOPQRSTUVWXYZ-abcdefghijklmnopqrstuvwxyz-0123456789",
        "api_version": "1.0",
        "form_id": 40000000000,
        "campaign_id": 19000000000,
        "adgroup_id": 150000000000,
        "creative_id": 670000000000,
        "asset_group_id": 6500000000,
        "gcl_id": GCLID,
        "google_key": SECRET,
        "is_test": False,
        "lead_stage": "NEW",
        "lead_submit_time": "2026-03-02T09:00:00Z",
        "user_column_data": [
            {"column_name": "Full Name", "string_value": NAME, "column_id": "FULL_NAME"},
            {"column_name": "User Email", "string_value": EMAIL, "column_id": "EMAIL"},
            {"column_name": "User Phone", "string_value": PHONE, "column_id": "PHONE_NUMBER"},
            {"column_name": "Company Name", "string_value": COMPANY, "column_id": "COMPANY_NAME"},
            {
                "column_name": "Job title",
                "string_value": "CMO & co-founder",
                "column_id": "JOB_TITLE",
            },
            {
                "column_name": "Какой у вас бюджет?",
                "string_value": "100 000+ ₽",
                "column_id": "budget_question",
            },
        ],
    }
    data.update(overrides)
    return data


def test_a_lead_is_read_from_its_column_ids() -> None:
    [item] = accept(raw(json_bytes(payload())), CFG)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email, mapped.phone, mapped.company) == (
        NAME,
        EMAIL,
        PHONE,
        COMPANY,
    )
    assert mapped.extra["Job title"] == "CMO & co-founder"
    assert mapped.extra["Какой у вас бюджет?"] == "100 000+ ₽"


def test_lead_id_is_the_event_id_and_gcl_id_the_gclid_byte_for_byte() -> None:
    [item] = accept(raw(json_bytes(payload())), CFG)
    assert item.event_id.startswith("TeSter-123-")
    assert lead(item, CFG).attribution == {"gclid": GCLID}
    assert item.submitted_at == "2026-03-02T09:00:00Z"


def test_campaign_ids_are_kept_as_text_without_losing_digits() -> None:
    [item] = accept(raw(json_bytes(payload(campaign_id=9007199254740993))), CFG)
    extra = lead(item, CFG).extra
    assert extra["google_campaign_id"] == "9007199254740993"
    assert extra["google_form_id"] == "40000000000"


def test_a_test_lead_from_the_google_ads_ui_is_a_ping_without_a_lead() -> None:
    [item] = accept(raw(json_bytes(payload(is_test=True))), CFG)
    assert item.is_test


def test_a_custom_question_can_be_mapped_by_its_text() -> None:
    cfg = source("google_ads", mapping={"какой у вас бюджет?": "message"})
    [item] = accept(raw(json_bytes(payload())), cfg)
    assert lead(item, cfg).message == "100 000+ ₽"


def test_first_and_last_name_columns_make_the_name() -> None:
    columns = [
        {"string_value": "Анна-Мария", "column_id": "FIRST_NAME"},
        {"string_value": "О'Нил", "column_id": "LAST_NAME"},
        {"string_value": "anna@work.test", "column_id": "WORK_EMAIL"},
    ]
    [item] = accept(raw(json_bytes(payload(user_column_data=columns))), CFG)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email) == (NAME, "anna@work.test")


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    [item] = accept(raw(json_bytes(payload(some_future_field={"x": 1}))), CFG)
    assert item.event_id


@pytest.mark.parametrize("key", [None, "", "wrong", 12345])
def test_a_missing_or_wrong_google_key_is_unauthorized(key: Any) -> None:
    data = payload(google_key=key)
    if key is None:
        del data["google_key"]
    with pytest.raises(Unauthorized):
        accept(raw(json_bytes(data)), CFG)


def test_malformed_json_is_malformed() -> None:
    with pytest.raises(Malformed) as exc:
        accept(raw(b'{"lead_id": "x", "google_key'), CFG)
    assert exc.value.status == 400


def test_a_form_post_is_the_wrong_content_type() -> None:
    delivery = raw(
        form_bytes([("google_key", SECRET)]), content_type="application/x-www-form-urlencoded"
    )
    with pytest.raises(Malformed):
        accept(delivery, CFG)


@pytest.mark.parametrize(
    "overrides",
    [{"lead_id": ""}, {"user_column_data": {"FULL_NAME": NAME}}, {"user_column_data": ["x"]}],
)
def test_a_lead_without_its_id_or_columns_is_malformed(overrides: dict[str, Any]) -> None:
    with pytest.raises(Malformed):
        accept(raw(json_bytes(payload(**overrides))), CFG)
