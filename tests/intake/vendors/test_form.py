"""``form``: a plain HTML form post, its honeypot, fill time, consent, and the snippet."""

from __future__ import annotations

import re

import pytest

from leadrelay.intake.vendors.base import Malformed, Parsed
from leadrelay.intake.vendors.form import DEFAULT_HONEYPOT, snippet
from tests.intake.vendors.payloads import (
    COMPANY,
    EMAIL,
    GCLID,
    MESSAGE,
    NAME,
    NOW,
    PHONE,
    accept,
    form_bytes,
    json_bytes,
    lead,
    multipart_bytes,
    multipart_type,
    raw,
    source,
)

CFG = source("form", secret="")
URLENCODED = "application/x-www-form-urlencoded"


def pairs(**overrides: str) -> list[tuple[str, str]]:
    data = {
        "name": NAME,
        "email": EMAIL,
        "phone": PHONE,
        "company": COMPANY,
        "message": MESSAGE,
        "consent": "on",
        "_lr_consent_version": "privacy-2026-03",
        "_lr_ts": str(int(NOW) - 40),
        "_lr_sid": "0b6f7f9e-4a53-4c8e-9f5e-3f8f7d7c2a11",
        DEFAULT_HONEYPOT: "",
        "utm_source": "google",
        "utm_campaign": "весна+2026 & co",
        "gclid": GCLID,
        "landing_url": "https://agency.test/?utm_medium=cpc&utm_term=seo+москва",
        "referrer": "https://www.google.com/",
    }
    data.update(overrides)
    return list(data.items())


def post(items: list[tuple[str, str]]) -> list[Parsed]:
    return accept(raw(form_bytes(items), content_type=URLENCODED), CFG)


def test_a_urlencoded_post_keeps_plus_ampersand_quotes_and_newlines() -> None:
    [item] = post(pairs())
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email, mapped.phone) == (NAME, EMAIL, PHONE)
    assert (mapped.company, mapped.message) == (COMPANY, MESSAGE)
    assert item.spam == ""
    assert mapped.attribution == {
        "utm_source": "google",
        "utm_campaign": "весна+2026 & co",
        "utm_medium": "cpc",
        "utm_term": "seo москва",
        "gclid": GCLID,
        "landing_url": "https://agency.test/?utm_medium=cpc&utm_term=seo+москва",
        "referrer": "https://www.google.com/",
    }


def test_a_multipart_post_reads_the_same() -> None:
    delivery = raw(multipart_bytes(pairs()), content_type=multipart_type())
    [item] = accept(delivery, CFG)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.company, mapped.message) == (NAME, COMPANY, MESSAGE)
    assert mapped.attribution["gclid"] == GCLID


def test_internal_fields_never_reach_the_lead() -> None:
    [item] = post(pairs(extra_question="Да & нет"))
    mapped = lead(item, CFG)
    assert mapped.extra == {"extra_question": "Да & нет"}


def test_consent_records_the_text_version_and_the_time_received() -> None:
    [item] = post(pairs())
    assert item.consent == {
        "text_version": "privacy-2026-03",
        "given_at": "2026-03-02T09:00:00+00:00",
    }


def test_an_unchecked_consent_box_records_no_consent() -> None:
    items = [(k, v) for k, v in pairs() if k != "consent"]
    [item] = post(items)
    assert item.consent == {}


def test_the_submission_id_makes_a_double_click_one_event() -> None:
    [item] = post(pairs())
    assert item.event_id == "0b6f7f9e-4a53-4c8e-9f5e-3f8f7d7c2a11"


def test_a_filled_honeypot_is_spam() -> None:
    [item] = post(pairs(**{DEFAULT_HONEYPOT: "http://spam.example"}))
    assert item.spam == "honeypot"


def test_the_honeypot_name_is_configurable() -> None:
    cfg = source("form", secret="", config={"honeypot_field": "fax"})
    delivery = raw(form_bytes([*pairs(), ("fax", "123")]), content_type=URLENCODED)
    [item] = accept(delivery, cfg)
    assert item.spam == "honeypot"
    assert "fax" not in lead(item, cfg).extra


def test_a_form_sent_within_the_minimum_fill_time_is_spam() -> None:
    [item] = post(pairs(_lr_ts=str(int(NOW) - 1)))
    assert item.spam == "too_fast"


def test_the_minimum_fill_time_is_configurable() -> None:
    cfg = source("form", secret="", config={"min_fill_seconds": 60})
    delivery = raw(form_bytes(pairs(_lr_ts=str(int(NOW) - 40))), content_type=URLENCODED)
    [item] = accept(delivery, cfg)
    assert item.spam == "too_fast"


@pytest.mark.parametrize("stamp", ["", "not-a-number", str(int(NOW) + 600)])
def test_a_missing_garbled_or_future_timestamp_is_not_spam(stamp: str) -> None:
    [item] = post(pairs(_lr_ts=stamp))
    assert item.spam == ""


def test_a_json_body_is_the_wrong_content_type() -> None:
    with pytest.raises(Malformed) as exc:
        accept(raw(json_bytes({"name": NAME})), CFG)
    assert exc.value.status == 415


def test_a_multipart_body_without_a_boundary_is_malformed() -> None:
    with pytest.raises(Malformed):
        accept(raw(b"--x\r\n", content_type="multipart/form-data"), CFG)


def test_bytes_that_are_not_utf8_are_malformed() -> None:
    with pytest.raises(Malformed):
        accept(raw(b"name=\xff\xfe", content_type=URLENCODED), CFG)


def test_the_snippet_posts_to_the_intake_url_with_honeypot_time_and_attribution() -> None:
    html = snippet('https://crm.agency.test/in/abc?x=1&y="2"', consent_version="2026-03")
    assert 'action="https://crm.agency.test/in/abc?x=1&amp;y=&quot;2&quot;"' in html
    assert f'name="{DEFAULT_HONEYPOT}"' in html
    assert "left:-10000px" in html and 'tabindex="-1"' in html
    for name in ("_lr_ts", "_lr_sid", "_lr_consent_version", "utm_source", "gclid", "yclid"):
        assert f'name="{name}"' in html
    assert "location.search" in html and "document.referrer" in html
    assert re.search(r'name="consent"[^>]*required', html)
