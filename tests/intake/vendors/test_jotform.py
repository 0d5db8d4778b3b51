"""``jotform``: multipart with rawRequest JSON inside, a token in the URL, submissionID."""

from __future__ import annotations

import json
from typing import Any

import pytest

from leadrelay.intake.vendors.base import Malformed, Unauthorized
from tests.intake.vendors.payloads import (
    COMPANY,
    EMAIL,
    FIRST,
    GCLID,
    LAST,
    MESSAGE,
    NAME,
    SECRET,
    accept,
    form_bytes,
    json_bytes,
    lead,
    multipart_bytes,
    multipart_type,
    raw,
    source,
)

CFG = source("jotform")
TOKEN = {"token": SECRET}


def answers(**overrides: Any) -> dict[str, Any]:
    """rawRequest as Jotform sends it: q<N>_<uniqueName> keys and its own bookkeeping."""
    data: dict[str, Any] = {
        "slug": "submit/261234567890123",
        "jsExecutionTracker": "build-date-1772440000000=>init-started:1772441960000",
        "submitSource": "form",
        "buildDate": "1772440000000",
        "q3_fullName": {"first": FIRST, "last": LAST},
        "q4_email": EMAIL,
        "q5_phoneNumber": {"full": "+7 (999) 123-45-67"},
        "q6_companyName": COMPANY,
        "q7_yourMessage": MESSAGE,
        "q8_address": {
            "addr_line1": "ул. Ленина, 1",
            "addr_line2": "",
            "city": "Москва",
            "postal": "101000",
        },
        "q9_preferredDate": {"month": "03", "day": "15", "year": "2026"},
        "q10_services": ["SEO", "Контекст & таргет"],
        "q11_utm_source": "yandex",
        "q12_gclid": GCLID,
        "q13_empty": "",
        "timeToSubmit": "37",
        "temp_upload": {"q14_brief": ["brief.pdf#jotformfs-abc"]},
        "brief": ["https://www.jotform.com/uploads/agency/261234567890123/6101/brief.pdf"],
        "path": "/submit/261234567890123",
    }
    data.update(overrides)
    return data


def delivery(data: dict[str, Any] | str, query: dict[str, str] | None = None) -> Any:
    raw_request = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    parts = [
        ("action", ""),
        ("webhookURL", "https://crm.agency.test/in/abc/?token=…"),
        ("username", "agency"),
        ("formID", "261234567890123"),
        ("type", "WEB"),
        ("formTitle", "Заявка"),
        ("submissionID", "6101234567890123456"),
        ("rawRequest", raw_request),
        ("pretty", f"Full Name:{NAME}, E-mail:{EMAIL}"),
        ("ip", "203.0.113.7"),
    ]
    return raw(
        multipart_bytes(parts),
        content_type=multipart_type(),
        query=TOKEN if query is None else query,
    )


def test_a_submission_is_read_from_raw_request() -> None:
    [item] = accept(delivery(answers()), CFG)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email, mapped.phone) == (NAME, EMAIL, "+7 (999) 123-45-67")
    assert (mapped.company, mapped.message) == (COMPANY, MESSAGE)


def test_submission_id_is_the_event_id() -> None:
    [item] = accept(delivery(answers()), CFG)
    assert item.event_id == "6101234567890123456"


def test_compound_fields_lists_uploads_and_hidden_fields_are_kept() -> None:
    [item] = accept(delivery(answers()), CFG)
    mapped = lead(item, CFG)
    assert mapped.attribution == {"utm_source": "yandex", "gclid": GCLID}
    assert mapped.extra["address"] == "ул. Ленина, 1, Москва, 101000"
    assert mapped.extra["preferredDate"] == "2026-03-15"
    assert mapped.extra["services"] == "SEO, Контекст & таргет"
    assert mapped.extra["brief"].endswith("/brief.pdf")
    assert mapped.extra["jotform_form_id"] == "261234567890123"
    assert not {"slug", "jsExecutionTracker", "timeToSubmit", "path", "empty"} & set(mapped.extra)


def test_a_phone_in_area_and_number_parts_is_joined() -> None:
    [item] = accept(delivery(answers(q5_phoneNumber={"area": "999", "phone": "123-45-67"})), CFG)
    assert lead(item, CFG).phone == "999 123-45-67"


def test_a_field_with_an_unusual_name_can_be_mapped() -> None:
    cfg = source("jotform", mapping={"SERVICES": "message"})
    [item] = accept(delivery(answers()), cfg)
    assert lead(item, cfg).message == f"{MESSAGE}\n\nSEO, Контекст & таргет"


@pytest.mark.parametrize("query", [{}, {"token": "wrong"}])
def test_a_missing_or_wrong_token_is_unauthorized(query: dict[str, str]) -> None:
    with pytest.raises(Unauthorized):
        accept(delivery(answers(), query=query), CFG)


def test_raw_request_that_is_not_json_is_malformed() -> None:
    with pytest.raises(Malformed):
        accept(delivery('{"q3_fullName": {"first": '), CFG)


def test_a_post_without_raw_request_is_malformed() -> None:
    body = multipart_bytes([("formID", "1"), ("submissionID", "2")])
    with pytest.raises(Malformed):
        accept(raw(body, content_type=multipart_type(), query=TOKEN), CFG)


def test_json_is_the_wrong_content_type() -> None:
    with pytest.raises(Malformed) as exc:
        accept(raw(json_bytes({"rawRequest": "{}"}), query=TOKEN), CFG)
    assert exc.value.status == 415


def test_a_urlencoded_post_is_read_as_well() -> None:
    body = form_bytes([("submissionID", "7"), ("rawRequest", json.dumps(answers()))])
    [item] = accept(raw(body, content_type="application/x-www-form-urlencoded", query=TOKEN), CFG)
    assert item.event_id == "7" and lead(item, CFG).company == COMPANY
