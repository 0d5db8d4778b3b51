"""``calendly``: Calendly's webhook subscriptions (``invitee.created``).

From Calendly's docs (developer.calendly.com/api-docs/overview/webhooks/
webhook-signatures and …/docs/webhooks/overview): each event is a JSON ``POST`` with
``Calendly-Webhook-Signature: t=<unix>,v1=<hex>``, ``v1`` being HMAC-SHA256 of
``"<t>.<raw body>"`` keyed by the subscription's signing key; an old ``t`` is refused
to stop replays (Calendly's examples allow three minutes). The body is
``{event, created_at, created_by, payload}`` where for ``invitee.*`` events ``payload``
is the Invitee: ``uri``, ``name``, ``first_name``, ``last_name``, ``email``,
``text_reminder_number``, ``timezone``, ``questions_and_answers`` (``question``,
``answer``, ``position``), ``tracking`` (``utm_*``, ``salesforce_uuid``),
``scheduled_event``.

``invitee.created`` is a lead, identified by the invitee ``uri``. ``invitee.canceled``
(also sent, with a new ``invitee.created``, on a reschedule) and every other event give
nothing to store: the delivery is answered 2xx and dropped.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from typing import Any

from leadrelay.intake.vendors._common import (
    COMMON_FIELD_NAMES,
    JSON_CONTENT_TYPES,
    UTM_KEYS,
    header,
    parse_json_object,
    require_content_type,
    require_method,
    scalar_text,
    secret_equals,
    text_of,
)
from leadrelay.intake.vendors.base import (
    Malformed,
    Parsed,
    RawDelivery,
    SourceConfig,
    Unauthorized,
)

DEFAULT_TOLERANCE_SECONDS = 180
_CONTACT = ("name", "first_name", "last_name", "email", "text_reminder_number")


class CalendlyVendor:
    kind = "calendly"
    default_mapping: Mapping[str, str] = {
        **COMMON_FIELD_NAMES,
        "text_reminder_number": "phone",
    }

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        timestamp = ""
        signatures: list[str] = []
        for part in header(raw, "calendly-webhook-signature").split(","):
            key, _, value = part.strip().partition("=")
            if key == "t":
                timestamp = value.strip()
            elif key == "v1":
                signatures.append(value.strip().lower())
        if not timestamp or not signatures or not source.secret:
            raise Unauthorized("Calendly-Webhook-Signature is missing.")
        try:
            sent_at = float(timestamp)
        except ValueError as exc:
            raise Unauthorized("Calendly-Webhook-Signature has no valid t=.") from exc
        tolerance = _seconds(source.config.get("tolerance_seconds"), DEFAULT_TOLERANCE_SECONDS)
        if not math.isfinite(sent_at) or abs(raw.received_at - sent_at) > tolerance:
            raise Unauthorized("Calendly-Webhook-Signature is too old (or from the future).")
        expected = hmac.new(
            source.secret.encode(), timestamp.encode() + b"." + raw.body, hashlib.sha256
        ).hexdigest()
        if not any(secret_equals(sig, expected) for sig in signatures):
            raise Unauthorized("Calendly-Webhook-Signature does not match the body.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST")
        require_content_type(raw, JSON_CONTENT_TYPES)
        data = parse_json_object(raw)
        event = data.get("event")
        if not isinstance(event, str):
            raise Malformed("event is missing.", 422)
        if event != "invitee.created":
            return []
        invitee = data.get("payload")
        if not isinstance(invitee, dict):
            raise Malformed("payload must be an object.", 422)
        uri = invitee.get("uri")
        if not isinstance(uri, str) or not uri:
            raise Malformed("payload.uri is missing.", 422)

        fields = {k: scalar_text(invitee.get(k)) for k in _CONTACT if _text(invitee.get(k))}
        answers = invitee.get("questions_and_answers") or []
        if not isinstance(answers, list):
            raise Malformed("questions_and_answers must be a list.", 422)
        for index, item in enumerate(answers):
            if not isinstance(item, dict):
                raise Malformed("Each question and answer must be an object.", 422)
            question = _text(item.get("question")) or f"question_{index + 1}"
            answer = text_of(item.get("answer"))
            if not answer:
                continue
            key = question if question not in fields else f"{question} ({index + 1})"
            fields[key] = answer

        hidden: dict[str, str] = {}
        tracking = invitee.get("tracking")
        if isinstance(tracking, dict):
            for key, value in tracking.items():
                if _text(value):
                    name = str(key) if str(key) in UTM_KEYS else f"calendly_{key}"
                    hidden[name] = scalar_text(value)
        if _text(invitee.get("timezone")):
            hidden["calendly_timezone"] = scalar_text(invitee.get("timezone"))
        scheduled = invitee.get("scheduled_event")
        if isinstance(scheduled, dict):
            for key in ("name", "start_time"):
                if _text(scheduled.get(key)):
                    hidden[f"calendly_event_{key}"] = scalar_text(scheduled.get(key))
        created = invitee.get("created_at") or data.get("created_at")
        return [
            Parsed(
                event_id=uri,
                fields=fields,
                hidden=hidden,
                submitted_at=created if isinstance(created, str) else "",
            )
        ]


def _text(value: Any) -> str:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return scalar_text(value).strip()
    return ""


def _seconds(value: Any, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) and number >= 0 else default


VENDOR = CalendlyVendor()
