"""``api``: our own JSON, a Bearer token, and Idempotency-Key."""

from __future__ import annotations

from typing import Any

import pytest

from leadrelay.intake.vendors.base import Malformed, RawDelivery, Unauthorized
from tests.intake.vendors.payloads import (
    COMPANY,
    EMAIL,
    FBCLID,
    GCLID,
    MESSAGE,
    NAME,
    PHONE,
    SECRET,
    accept,
    json_bytes,
    lead,
    raw,
    source,
)

CFG = source("api")


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": NAME,
        "email": EMAIL,
        "phone": PHONE,
        "company": COMPANY,
        "website": "https://рога-копыта.рф/?a=1&b=2+3",
        "message": MESSAGE,
        "utm_source": "yandex",
        "gclid": GCLID,
        "attribution": {
            "utm_campaign": "весна & скидки+",
            "fbclid": FBCLID,
            "landing_url": "https://agency.test/landing?utm_medium=cpc&yclid=777",
            "referrer": "https://ya.ru/",
        },
        "consent": {"text_version": "2026-03", "given_at": "2026-03-02T12:00:00+03:00"},
    }
    data.update(overrides)
    return data


def call(data: Any, *, key: str = "order-42", token: str = SECRET) -> RawDelivery:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    return raw(data if isinstance(data, bytes) else json_bytes(data), headers=headers)


def test_a_full_submission_keeps_every_value_exactly_as_sent() -> None:
    [item] = accept(call(body()), CFG)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email, mapped.phone) == (NAME, EMAIL, PHONE)
    assert mapped.company == COMPANY
    assert mapped.website == "https://рога-копыта.рф/?a=1&b=2+3"
    assert mapped.message == MESSAGE
    assert mapped.attribution == {
        "utm_source": "yandex",
        "utm_campaign": "весна & скидки+",
        "utm_medium": "cpc",
        "gclid": GCLID,
        "fbclid": FBCLID,
        "yclid": "777",
        "landing_url": "https://agency.test/landing?utm_medium=cpc&yclid=777",
        "referrer": "https://ya.ru/",
    }
    assert mapped.consent == {"text_version": "2026-03", "given_at": "2026-03-02T12:00:00+03:00"}


def test_the_idempotency_key_is_the_event_id() -> None:
    [item] = accept(call(body(), key="order-42"), CFG)
    assert item.event_id == "order-42"


def test_without_an_idempotency_key_there_is_no_event_id() -> None:
    [item] = accept(call(body(), key=""), CFG)
    assert item.event_id == ""


def test_first_and_last_name_make_the_name() -> None:
    data = body(first_name="Анна-Мария", last_name="О'Нил")
    del data["name"]
    [item] = accept(call(data), CFG)
    assert lead(item, CFG).name == NAME


def test_extra_fields_are_kept_under_their_own_names() -> None:
    [item] = accept(call(body(extra={"Бюджет": "100 000+ ₽", "Срок": "вчера"})), CFG)
    assert lead(item, CFG).extra == {"Бюджет": "100 000+ ₽", "Срок": "вчера"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {SECRET}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {SECRET}x"},
    ],
)
def test_a_missing_or_wrong_token_is_unauthorized(headers: dict[str, str]) -> None:
    with pytest.raises(Unauthorized):
        accept(raw(json_bytes(body()), headers=headers), CFG)


def test_a_source_without_a_secret_accepts_no_token() -> None:
    with pytest.raises(Unauthorized):
        accept(call(body(), token=""), source("api", secret=""))


def test_malformed_json_is_a_400() -> None:
    with pytest.raises(Malformed) as exc:
        accept(call(b'{"name": ', key="k"), CFG)
    assert exc.value.status == 400


def test_a_form_post_is_the_wrong_content_type() -> None:
    delivery = raw(
        b"name=x",
        content_type="application/x-www-form-urlencoded",
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    with pytest.raises(Malformed) as exc:
        accept(delivery, CFG)
    assert exc.value.status == 415


@pytest.mark.parametrize(
    "data",
    [
        [body()],
        body(nmae="typo"),
        body(email=["a@b.c"]),
        body(attribution={"utm_sauce": "x"}),
        body(attribution="utm_source=x"),
        body(consent={"text_version": "1", "given_at": "вчера"}),
        body(consent={"version": "1"}),
        {"utm_source": "only attribution"},
    ],
)
def test_strict_edges_refuse_what_they_do_not_know(data: Any) -> None:
    with pytest.raises(Malformed) as exc:
        accept(call(data), CFG)
    assert exc.value.status == 422


def test_an_overlong_idempotency_key_is_refused() -> None:
    with pytest.raises(Malformed):
        accept(call(body(), key="k" * 256), CFG)
