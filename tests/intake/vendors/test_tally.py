"""``tally``: Tally-Signature, fields by key and label, hidden fields, option ids."""

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
    hmac_b64,
    json_bytes,
    lead,
    raw,
    source,
)

CFG = source("tally")
SEO, ADS = "a1b2c3d4-0000-4000-8000-000000000001", "a1b2c3d4-0000-4000-8000-000000000002"


def payload(**overrides: Any) -> dict[str, Any]:
    """A FORM_RESPONSE event in the shape of Tally's example webhook event."""
    options = [{"id": SEO, "text": "SEO"}, {"id": ADS, "text": "Контекст & таргет"}]
    data: dict[str, Any] = {
        "responseId": "2wgx4n",
        "submissionId": "2wgx4n",
        "respondentId": "dwQKYm",
        "formId": "VwbNEw",
        "formName": "Заявка на сайт",
        "createdAt": "2026-03-02T09:00:00.000Z",
        "fields": [
            {
                "key": "question_mVGEg3_utm",
                "label": "utm_source",
                "type": "HIDDEN_FIELDS",
                "value": "yandex",
            },
            {
                "key": "question_mVGEg3_gclid",
                "label": "gclid",
                "type": "HIDDEN_FIELDS",
                "value": GCLID,
            },
            {"key": "question_3EKz4n", "label": "Имя", "type": "INPUT_TEXT", "value": NAME},
            {
                "key": "question_w4Q4Xn",
                "label": "Куда писать",
                "type": "INPUT_EMAIL",
                "value": EMAIL,
            },
            {
                "key": "question_3jZaa4",
                "label": "Телефон",
                "type": "INPUT_PHONE_NUMBER",
                "value": PHONE,
            },
            {"key": "question_nPpY1w", "label": "Компания", "type": "INPUT_TEXT", "value": COMPANY},
            {
                "key": "question_mO9Rxn",
                "label": "Опишите задачу",
                "type": "TEXTAREA",
                "value": MESSAGE,
            },
            {
                "key": "question_wMv1jB",
                "label": "Что нужно",
                "type": "CHECKBOXES",
                "value": [SEO, ADS],
                "options": options,
            },
            {
                "key": f"question_wMv1jB_{SEO}",
                "label": "Что нужно (SEO)",
                "type": "CHECKBOXES",
                "value": True,
            },
            {
                "key": "question_3xZQ2d",
                "label": "Откуда узнали",
                "type": "MULTIPLE_CHOICE",
                "value": [ADS],
                "options": options,
            },
            {"key": "question_n0rR1E", "label": "Бюджет", "type": "INPUT_NUMBER", "value": 150000},
            {"key": "question_empty", "label": "Пусто", "type": "INPUT_TEXT", "value": None},
        ],
    }
    data.update(overrides)
    return {
        "eventId": "a4cb511e-d513-4fa5-baee-b815d718dfd1",
        "eventType": "FORM_RESPONSE",
        "createdAt": "2026-03-02T09:00:01.889Z",
        "data": data,
    }


def signed(data: Any, secret: str = SECRET) -> Any:
    body = json_bytes(data)
    return raw(body, headers={"Tally-Signature": hmac_b64(secret, body)})


def test_fields_are_read_by_label_and_by_type() -> None:
    [item] = accept(signed(payload()), CFG)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email, mapped.phone) == (NAME, EMAIL, PHONE)
    assert (mapped.company, mapped.message) == (COMPANY, MESSAGE)


def test_response_id_is_the_event_id() -> None:
    [item] = accept(signed(payload()), CFG)
    assert item.event_id == "2wgx4n"


def test_hidden_fields_are_attribution_byte_for_byte() -> None:
    [item] = accept(signed(payload()), CFG)
    assert lead(item, CFG).attribution == {"utm_source": "yandex", "gclid": GCLID}


def test_choice_option_ids_become_their_text_and_per_option_duplicates_are_dropped() -> None:
    [item] = accept(signed(payload()), CFG)
    extra = lead(item, CFG).extra
    assert extra["Что нужно"] == "SEO, Контекст & таргет"
    assert extra["Откуда узнали"] == "Контекст & таргет"
    assert extra["Бюджет"] == "150000"
    assert "Что нужно (SEO)" not in extra and "Пусто" not in extra


def test_a_mapping_can_name_a_field_by_key_or_label() -> None:
    cfg = source("tally", mapping={"question_n0rR1E": "message", "опишите задачу": "company"})
    [item] = accept(signed(payload()), cfg)
    mapped = lead(item, cfg)
    assert mapped.message == "150000"
    # "Компания" also wants company; the first value mapped there wins, the rest is kept.
    assert mapped.company == COMPANY and mapped.extra["Опишите задачу"] == MESSAGE


@pytest.mark.parametrize("header", [None, "", "not-base64", hmac_b64("other", b"x")])
def test_a_missing_or_wrong_signature_is_unauthorized(header: str | None) -> None:
    headers = {"Tally-Signature": header} if header is not None else {}
    with pytest.raises(Unauthorized):
        accept(raw(json_bytes(payload()), headers=headers), CFG)


def test_malformed_json_is_malformed() -> None:
    body = b'{"eventType": "FORM_RESPONSE", "data": '
    with pytest.raises(Malformed):
        accept(raw(body, headers={"Tally-Signature": hmac_b64(SECRET, body)}), CFG)


def test_a_response_without_fields_or_id_is_malformed() -> None:
    with pytest.raises(Malformed):
        accept(signed(payload(fields="nope")), CFG)
    with pytest.raises(Malformed):
        accept(signed(payload(responseId="", submissionId=None)), CFG)


def test_other_event_types_give_nothing_to_store() -> None:
    assert accept(signed({**payload(), "eventType": "FORM_PARTIAL"}), CFG) == []
