"""``calendly``: the t=…,v1=… signature with its replay window, invitee.created."""

from __future__ import annotations

from typing import Any

import pytest

from leadrelay.intake.vendors.base import Malformed, Unauthorized
from tests.intake.vendors.payloads import (
    EMAIL,
    FIRST,
    LAST,
    MESSAGE,
    NAME,
    NOW,
    PHONE,
    SECRET,
    accept,
    hmac_hex,
    json_bytes,
    lead,
    raw,
    source,
)

CFG = source("calendly")
INVITEE = "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA"


def event(name: str = "invitee.created", **overrides: Any) -> dict[str, Any]:
    """An invitee.created event shaped like Calendly's webhook payload."""
    invitee: dict[str, Any] = {
        "uri": INVITEE,
        "email": EMAIL,
        "name": NAME,
        "first_name": FIRST,
        "last_name": LAST,
        "status": "active",
        "timezone": "Europe/Moscow",
        "event": "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2",
        "created_at": "2026-03-02T08:59:58.327602Z",
        "updated_at": "2026-03-02T08:59:58.341657Z",
        "text_reminder_number": PHONE,
        "rescheduled": False,
        "old_invitee": None,
        "new_invitee": None,
        "cancel_url": "https://calendly.com/cancellations/AAAAAAAAAAAAAAAA",
        "reschedule_url": "https://calendly.com/reschedulings/AAAAAAAAAAAAAAAA",
        "questions_and_answers": [
            {"question": "Компания", "answer": "Рога & Копыта+", "position": 0},
            {"question": "Комментарий", "answer": MESSAGE, "position": 1},
            {"question": "Сколько человек в команде?", "answer": "5–10", "position": 2},
        ],
        "tracking": {
            "utm_campaign": "весна & скидки+",
            "utm_source": "telegram",
            "utm_medium": None,
            "utm_content": None,
            "utm_term": None,
            "salesforce_uuid": None,
        },
        "scheduled_event": {
            "uri": "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2",
            "name": "Знакомство, 30 минут",
            "start_time": "2026-03-05T10:00:00.000000Z",
        },
    }
    invitee.update(overrides)
    return {
        "event": name,
        "created_at": "2026-03-02T09:00:00.000000Z",
        "created_by": "https://api.calendly.com/users/AAAAAAAAAAAAAAAA",
        "payload": invitee,
    }


def signed(
    data: Any, *, t: int = int(NOW) - 5, secret: str = SECRET, received_at: float = NOW
) -> Any:
    body = data if isinstance(data, bytes) else json_bytes(data)
    signature = hmac_hex(secret, f"{t}.".encode() + body)
    return raw(
        body,
        headers={"Calendly-Webhook-Signature": f"t={t},v1={signature}"},
        received_at=received_at,
    )


def test_an_invitee_becomes_a_lead() -> None:
    [item] = accept(signed(event()), CFG)
    mapped = lead(item, CFG)
    assert (mapped.name, mapped.email, mapped.phone) == (NAME, EMAIL, PHONE)
    assert mapped.company == "Рога & Копыта+"
    assert mapped.message == MESSAGE
    assert mapped.extra["Сколько человек в команде?"] == "5–10"


def test_the_invitee_uri_is_the_event_id() -> None:
    [item] = accept(signed(event()), CFG)
    assert item.event_id == INVITEE


def test_tracking_utms_are_attribution_and_the_meeting_is_kept() -> None:
    [item] = accept(signed(event()), CFG)
    mapped = lead(item, CFG)
    assert mapped.attribution == {"utm_campaign": "весна & скидки+", "utm_source": "telegram"}
    assert mapped.extra["calendly_event_name"] == "Знакомство, 30 минут"
    assert mapped.extra["calendly_event_start_time"] == "2026-03-05T10:00:00.000000Z"


def test_questions_can_be_mapped_by_their_text() -> None:
    cfg = source("calendly", mapping={"компания": "message"})
    [item] = accept(signed(event()), cfg)
    mapped = lead(item, cfg)
    assert mapped.company == ""
    assert mapped.message == f"Рога & Копыта+\n\n{MESSAGE}"


@pytest.mark.parametrize(
    "name", ["invitee.canceled", "invitee_no_show.created", "routing_form_submission.created"]
)
def test_other_events_give_nothing_to_store(name: str) -> None:
    assert accept(signed(event(name)), CFG) == []


def test_a_signature_older_than_the_window_is_a_replay() -> None:
    with pytest.raises(Unauthorized):
        accept(signed(event(), t=int(NOW) - 181), CFG)


def test_a_signature_from_the_future_is_refused_too() -> None:
    with pytest.raises(Unauthorized):
        accept(signed(event(), t=int(NOW) + 600), CFG)


def test_the_window_is_configurable() -> None:
    cfg = source("calendly", config={"tolerance_seconds": 3600})
    [item] = accept(signed(event(), t=int(NOW) - 1800), cfg)
    assert item.event_id == INVITEE


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        f"t={int(NOW)}",
        "v1=" + "0" * 64,
        f"t=yesterday,v1={'0' * 64}",
        f"t={int(NOW)},v1={'0' * 64}",
    ],
)
def test_a_missing_or_wrong_signature_is_unauthorized(header: str | None) -> None:
    headers = {"Calendly-Webhook-Signature": header} if header is not None else {}
    with pytest.raises(Unauthorized):
        accept(raw(json_bytes(event()), headers=headers), CFG)


def test_a_signature_made_with_another_key_is_unauthorized() -> None:
    with pytest.raises(Unauthorized):
        accept(signed(event(), secret="other-key"), CFG)


def test_malformed_json_is_malformed() -> None:
    with pytest.raises(Malformed):
        accept(signed(b'{"event": "invitee.created", "payload": '), CFG)


def test_an_invitee_without_its_uri_is_malformed() -> None:
    with pytest.raises(Malformed):
        accept(signed(event(uri=None)), CFG)
