"""``tilda``: Tilda's form webhook, urlencoded, token in the URL, and its test=test ping."""

from __future__ import annotations

import pytest

from leadrelay.intake.vendors.base import Malformed, Parsed, Unauthorized
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
    json_bytes,
    lead,
    multipart_bytes,
    multipart_type,
    raw,
    source,
)

CFG = source("tilda")
URLENCODED = "application/x-www-form-urlencoded"
TOKEN = {"token": SECRET}

# What Tilda posts for a form with its default variable names, two custom fields,
# hidden utm fields and "send cookies" ticked.
SUBMISSION = [
    ("Name", NAME),
    ("Email", EMAIL),
    ("Phone", PHONE),
    ("Company", COMPANY),
    ("Textarea", MESSAGE),
    ("Бюджет", "от 100 000 ₽ & выше"),
    ("utm_source", "yandex"),
    ("utm_medium", "cpc"),
    ("gclid", GCLID),
    (
        "COOKIES",
        "_ga=GA1.2.1504375813.1772440000; _ym_uid=1772440000123456789; "
        "TILDAUTM=utm_campaign%3Dspring%2Bsale%7C%7C%7Cutm_content%3Dbanner_1%7C%7C%7C",
    ),
    ("tranid", "9107681:5829405831"),
    ("formid", "form612345678"),
    ("formname", "Заявка"),
]


def post(items: list[tuple[str, str]], query: dict[str, str] | None = None) -> list[Parsed]:
    return accept(raw(form_bytes(items), content_type=URLENCODED, query=query or TOKEN), CFG)


def test_a_submission_is_read_with_its_default_field_names() -> None:
    [item] = post(SUBMISSION)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email, mapped.phone) == (NAME, EMAIL, PHONE)
    assert (mapped.company, mapped.message) == (COMPANY, MESSAGE)


def test_tranid_is_the_event_id() -> None:
    [item] = post(SUBMISSION)
    assert item.event_id == "9107681:5829405831"


def test_utm_fields_click_ids_and_the_tilda_utm_cookie_become_attribution() -> None:
    [item] = post(SUBMISSION)
    assert lead(item, CFG).attribution == {
        "utm_source": "yandex",
        "utm_medium": "cpc",
        "utm_campaign": "spring+sale",
        "utm_content": "banner_1",
        "gclid": GCLID,
    }


def test_service_fields_and_raw_cookies_stay_out_of_the_fields() -> None:
    [item] = post(SUBMISSION)
    extra = lead(item, CFG).extra
    assert extra["Бюджет"] == "от 100 000 ₽ & выше"
    assert extra["formid"] == "form612345678" and extra["formname"] == "Заявка"
    assert not any(k.lower() in ("tranid", "cookies") for k in extra)
    assert "TILDAUTM" not in " ".join(extra.values())


def test_the_connection_ping_is_a_test_without_a_lead() -> None:
    [item] = post([("test", "test")])
    assert item.is_test


def test_multipart_is_read_too() -> None:
    delivery = raw(multipart_bytes(SUBMISSION), content_type=multipart_type(), query=TOKEN)
    [item] = accept(delivery, CFG)
    assert lead(item, CFG).company == COMPANY


@pytest.mark.parametrize("query", [{}, {"token": "wrong"}, {"key": SECRET}])
def test_a_missing_or_wrong_token_is_unauthorized(query: dict[str, str]) -> None:
    delivery = raw(form_bytes(SUBMISSION), content_type=URLENCODED, query=query)
    with pytest.raises(Unauthorized):
        accept(delivery, CFG)


def test_the_token_parameter_name_is_configurable() -> None:
    cfg = source("tilda", config={"token_param": "lr_key"})
    delivery = raw(form_bytes(SUBMISSION), content_type=URLENCODED, query={"lr_key": SECRET})
    assert accept(delivery, cfg)[0].event_id


def test_an_api_key_set_in_tilda_is_accepted_in_a_header_or_field_and_not_stored() -> None:
    cfg = source("tilda", config={"api_key_name": "X-Api-Key"})
    by_header = raw(form_bytes(SUBMISSION), content_type=URLENCODED, headers={"X-Api-Key": SECRET})
    by_field = raw(form_bytes([*SUBMISSION, ("X-Api-Key", SECRET)]), content_type=URLENCODED)
    for delivery in (by_header, by_field):
        [item] = accept(delivery, cfg)
        assert SECRET not in lead(item, cfg).extra.values()
    wrong = raw(form_bytes([*SUBMISSION, ("X-Api-Key", "nope")]), content_type=URLENCODED)
    with pytest.raises(Unauthorized):
        accept(wrong, cfg)


def test_a_mapping_overrides_the_defaults_case_insensitively() -> None:
    cfg = source("tilda", mapping={"бюджет": "message", "TEXTAREA": "company"})
    [item] = accept(raw(form_bytes(SUBMISSION), content_type=URLENCODED, query=TOKEN), cfg)
    mapped = lead(item, cfg)
    assert mapped.message == "от 100 000 ₽ & выше"
    assert mapped.company == COMPANY  # the first value wins; the other is kept in extra
    assert mapped.extra["Textarea"] == MESSAGE


def test_json_from_tildas_marketplace_shape_is_read() -> None:
    delivery = raw(json_bytes(dict(SUBMISSION)), query=TOKEN)
    [item] = accept(delivery, CFG)
    assert lead(item, CFG).phone == PHONE


def test_a_text_plain_body_is_the_wrong_content_type() -> None:
    with pytest.raises(Malformed) as exc:
        accept(raw(b"Name=x", content_type="text/plain", query=TOKEN), CFG)
    assert exc.value.status == 415


def test_an_empty_post_is_malformed() -> None:
    with pytest.raises(Malformed):
        post([])
