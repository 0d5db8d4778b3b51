"""``yandex_forms``: JSON-RPC or a set-method JSON body, a token, the answer id."""

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
    YCLID,
    accept,
    form_bytes,
    json_bytes,
    lead,
    raw,
    source,
)

CFG = source("yandex_forms")
TOKEN = {"token": SECRET}


def answers() -> dict[str, Any]:
    """Parameters as an admin sets them up, each a form variable."""
    return {
        "answer_id": "1800000000",
        "name": NAME,
        "email": EMAIL,
        "phone": PHONE,
        "company": COMPANY,
        "message": MESSAGE,
        "utm_source": "yandex",
        "yclid": YCLID,
        "gclid": GCLID,
        "Бюджет": ["100 000+ ₽", "в месяц"],
    }


def rpc(params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": "lead.create", "params": params, "id": "e5b6c1a2"}


def test_a_json_rpc_request_is_read_from_its_params() -> None:
    [item] = accept(raw(json_bytes(rpc(answers())), query=TOKEN), CFG)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email, mapped.phone) == (NAME, EMAIL, PHONE)
    assert (mapped.company, mapped.message) == (COMPANY, MESSAGE)
    assert mapped.attribution == {"utm_source": "yandex", "yclid": YCLID, "gclid": GCLID}
    assert mapped.extra == {"Бюджет": "100 000+ ₽, в месяц"}


def test_the_answer_id_is_the_event_id() -> None:
    [item] = accept(raw(json_bytes(rpc(answers())), query=TOKEN), CFG)
    assert item.event_id == "1800000000"


def test_without_an_answer_id_the_json_rpc_id_is_used() -> None:
    params = answers()
    del params["answer_id"]
    [item] = accept(raw(json_bytes(rpc(params)), query=TOKEN), CFG)
    assert item.event_id == "e5b6c1a2"


def test_a_set_method_body_with_answer_objects_is_read_with_labels() -> None:
    body = {
        "answer": {"id": 1800000001},
        "answer_id": 1800000001,
        "name": {"value": NAME, "question": {"label": {"ru": "Как вас зовут?"}}},
        "a1": {"value": "Рога & Копыта+", "question": {"label": {"ru": "Компания"}}},
    }
    [item] = accept(raw(json_bytes(body), headers={"X-Leadrelay-Token": SECRET}), CFG)
    mapped = lead(item, CFG)
    assert item.event_id == "1800000001"
    assert (mapped.name, mapped.company) == (NAME, COMPANY)


def test_the_event_id_field_is_configurable() -> None:
    cfg = source("yandex_forms", config={"event_id_field": "otvet"})
    [item] = accept(raw(json_bytes({"otvet": "42", "name": NAME}), query=TOKEN), cfg)
    assert item.event_id == "42"


@pytest.mark.parametrize(
    ("query", "headers"),
    [({}, {}), ({"token": "wrong"}, {}), ({}, {"X-Leadrelay-Token": "wrong"})],
)
def test_a_missing_or_wrong_token_is_unauthorized(
    query: dict[str, str], headers: dict[str, str]
) -> None:
    with pytest.raises(Unauthorized):
        accept(raw(json_bytes(answers()), query=query, headers=headers), CFG)


def test_the_token_header_name_is_configurable() -> None:
    cfg = source("yandex_forms", config={"token_header": "Authorization"})
    [item] = accept(raw(json_bytes(answers()), headers={"Authorization": SECRET}), cfg)
    assert item.event_id


def test_malformed_json_and_a_form_post_are_malformed() -> None:
    with pytest.raises(Malformed):
        accept(raw(b'{"jsonrpc": "2.0", ', query=TOKEN), CFG)
    with pytest.raises(Malformed) as exc:
        delivery = raw(
            form_bytes([("name", NAME)]),
            content_type="application/x-www-form-urlencoded",
            query=TOKEN,
        )
        accept(delivery, CFG)
    assert exc.value.status == 415


@pytest.mark.parametrize("body", [rpc({}), {"jsonrpc": "2.0", "params": "x"}, {"answer_id": "1"}])
def test_a_request_without_answers_is_malformed(body: dict[str, Any]) -> None:
    with pytest.raises(Malformed):
        accept(raw(json_bytes(body), query=TOKEN), CFG)
