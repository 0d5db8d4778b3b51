"""``typeform``: Typeform-Signature over the raw body, answers by type, hidden fields."""

from __future__ import annotations

from typing import Any

import pytest

from leadrelay.intake.vendors.base import Malformed, Unauthorized
from tests.intake.vendors.payloads import (
    COMPANY,
    EMAIL,
    GCLID,
    MESSAGE,
    NAME,
    PHONE,
    SECRET,
    accept,
    form_bytes,
    hmac_b64,
    json_bytes,
    lead,
    raw,
    source,
)

CFG = source("typeform")


def field(id_: str, ref: str, type_: str) -> dict[str, str]:
    return {"id": id_, "ref": ref, "type": type_}


def payload(**overrides: Any) -> dict[str, Any]:
    """A form_response event in the shape of Typeform's example payload."""
    response: dict[str, Any] = {
        "form_id": "lT4Z3j",
        "token": "a3a12ec67a1365927098a606107fac15",
        "landed_at": "2026-03-02T08:58:10Z",
        "submitted_at": "2026-03-02T09:00:00Z",
        "hidden": {"utm_source": "facebook", "utm_campaign": "весна & скидки+", "gclid": GCLID},
        "definition": {
            "id": "lT4Z3j",
            "title": "Бриф",
            "fields": [
                {
                    "id": "SMEUb7VJz92Q",
                    "ref": "contact_name",
                    "type": "short_text",
                    "title": "Как вас зовут?",
                },
                {
                    "id": "pn48RmPazVdM",
                    "ref": "work_mail",
                    "type": "email",
                    "title": "Рабочая почта",
                },
                {"id": "Q7M2XAwY04dW", "ref": "cell", "type": "phone_number", "title": "Телефон"},
                {"id": "DlXFaesGBpoF", "ref": "org", "type": "short_text", "title": "Компания"},
                {"id": "gFFf3xAkJKsr", "ref": "about", "type": "long_text", "title": "Задача"},
                {"id": "k6TP9oLGgHjl", "ref": "site", "type": "website", "title": "Сайт"},
                {
                    "id": "m7TP9oLGgHjl",
                    "ref": "services",
                    "type": "multiple_choice",
                    "title": "Услуги",
                },
                {"id": "x1", "ref": "agree", "type": "yes_no", "title": "Согласны?"},
                {"id": "x2", "ref": "budget", "type": "number", "title": "Бюджет"},
            ],
        },
        "answers": [
            {
                "type": "text",
                "text": NAME,
                "field": field("SMEUb7VJz92Q", "contact_name", "short_text"),
            },
            {"type": "email", "email": EMAIL, "field": field("pn48RmPazVdM", "work_mail", "email")},
            {
                "type": "phone_number",
                "phone_number": PHONE,
                "field": field("Q7M2XAwY04dW", "cell", "phone_number"),
            },
            {"type": "text", "text": COMPANY, "field": field("DlXFaesGBpoF", "org", "short_text")},
            {"type": "text", "text": MESSAGE, "field": field("gFFf3xAkJKsr", "about", "long_text")},
            {
                "type": "url",
                "url": "https://рога.рф/?a=1&b=2",
                "field": field("k6TP9oLGgHjl", "site", "website"),
            },
            {
                "type": "choices",
                "choices": {"labels": ["SEO", "Контекст & таргет"], "other": "SMM"},
                "field": field("m7TP9oLGgHjl", "services", "multiple_choice"),
            },
            {"type": "boolean", "boolean": True, "field": field("x1", "agree", "yes_no")},
            {"type": "number", "number": 150000, "field": field("x2", "budget", "number")},
        ],
    }
    response.update(overrides)
    return {"event_id": "LtWXD3crgy", "event_type": "form_response", "form_response": response}


def signed(data: Any, secret: str = SECRET) -> Any:
    body = data if isinstance(data, bytes) else json_bytes(data)
    return raw(body, headers={"Typeform-Signature": f"sha256={hmac_b64(secret, body)}"})


def test_answers_are_keyed_by_ref_and_typed_answers_fill_the_contact() -> None:
    [item] = accept(signed(payload()), CFG)
    mapped = lead(item, CFG)
    # No mapping names work_mail, cell or site: their answer types do.
    assert (mapped.email, mapped.phone, mapped.website) == (
        EMAIL,
        PHONE,
        "https://рога.рф/?a=1&b=2",
    )
    assert item.fields["services"] == "SEO, Контекст & таргет, SMM"
    assert item.fields["agree"] == "true" and item.fields["budget"] == "150000"


def test_the_response_token_is_the_event_id() -> None:
    [item] = accept(signed(payload()), CFG)
    assert item.event_id == "a3a12ec67a1365927098a606107fac15"
    assert item.submitted_at == "2026-03-02T09:00:00Z"


def test_questions_can_be_mapped_by_ref_or_by_title() -> None:
    cfg = source(
        "typeform", mapping={"contact_name": "name", "КОМПАНИЯ": "company", "about": "message"}
    )
    [item] = accept(signed(payload()), cfg)
    mapped = lead(item, cfg)
    assert (mapped.name, mapped.company, mapped.message) == (NAME, COMPANY, MESSAGE)
    assert mapped.extra["Услуги"] == "SEO, Контекст & таргет, SMM"


def test_hidden_fields_are_attribution_byte_for_byte() -> None:
    [item] = accept(signed(payload()), CFG)
    assert lead(item, CFG).attribution == {
        "utm_source": "facebook",
        "utm_campaign": "весна & скидки+",
        "gclid": GCLID,
    }


def test_a_mapping_beats_an_answer_type() -> None:
    cfg = source("typeform", mapping={"work_mail": "message"})
    [item] = accept(signed(payload()), cfg)
    mapped = lead(item, cfg)
    assert mapped.email == "" and mapped.message == EMAIL


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abc", "sha256=AAAA"])
def test_a_missing_or_wrong_signature_is_unauthorized(header: str | None) -> None:
    headers = {"Typeform-Signature": header} if header is not None else {}
    with pytest.raises(Unauthorized):
        accept(raw(json_bytes(payload()), headers=headers), CFG)


def test_a_hex_signature_is_not_typeforms_base64_and_is_refused() -> None:
    import hashlib
    import hmac

    body = json_bytes(payload())
    hexed = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    with pytest.raises(Unauthorized):
        accept(raw(body, headers={"Typeform-Signature": f"sha256={hexed}"}), CFG)


def test_the_signature_covers_the_raw_bytes_not_reserialised_json() -> None:
    body = json_bytes(payload()).replace(b'", "', b'",   "')
    [item] = accept(signed(body), CFG)
    assert item.event_id


def test_malformed_json_and_a_form_post_are_malformed() -> None:
    with pytest.raises(Malformed):
        accept(signed(b'{"form_response": '), CFG)
    body = form_bytes([("x", "1")])
    delivery = raw(
        body,
        content_type="application/x-www-form-urlencoded",
        headers={"Typeform-Signature": f"sha256={hmac_b64(SECRET, body)}"},
    )
    with pytest.raises(Malformed):
        accept(delivery, CFG)


def test_a_response_without_its_token_is_malformed() -> None:
    with pytest.raises(Malformed):
        accept(signed(payload(token="")), CFG)
