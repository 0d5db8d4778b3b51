"""``tally``: Tally's form webhook.

From Tally's help (tally.so/help/webhooks): each submission is a JSON ``POST``
``{eventId, eventType: "FORM_RESPONSE", createdAt, data: {responseId, submissionId,
respondentId, formId, formName, createdAt, fields: [{key, label, type, value,
options}]}}``. With a signing secret set, the request carries ``Tally-Signature``: the
base64 HMAC-SHA256 of the raw body keyed by that secret.

Fields are keyed by ``key`` with ``label`` as their human name (a mapping may use either).
``HIDDEN_FIELDS`` entries are the form's hidden fields (utm_* and friends). Choice
values are option ids, resolved here to the option text. ``responseId`` identifies the
submission for redelivery.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from leadrelay.intake.vendors._common import (
    COMMON_FIELD_NAMES,
    JSON_CONTENT_TYPES,
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

_TYPE_HINTS = {
    "INPUT_EMAIL": "email",
    "INPUT_PHONE_NUMBER": "phone",
    "INPUT_LINK": "website",
    "TEXTAREA": "message",
}


class TallyVendor:
    kind = "tally"
    default_mapping: Mapping[str, str] = dict(COMMON_FIELD_NAMES)

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        given = header(raw, "tally-signature").strip()
        if not given or not source.secret:
            raise Unauthorized("Tally-Signature is missing.")
        digest = hmac.new(source.secret.encode(), raw.body, hashlib.sha256).digest()
        if not secret_equals(given, base64.b64encode(digest).decode("ascii")):
            raise Unauthorized("Tally-Signature does not match the body.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST")
        require_content_type(raw, JSON_CONTENT_TYPES)
        payload = parse_json_object(raw)
        if payload.get("eventType", "FORM_RESPONSE") != "FORM_RESPONSE":
            return []
        data = payload.get("data")
        if not isinstance(data, dict):
            raise Malformed("data must be an object.", 422)
        items = data.get("fields")
        if not isinstance(items, list):
            raise Malformed("data.fields must be a list.", 422)
        event_id = next(
            (
                str(data[k])
                for k in ("responseId", "submissionId")
                if isinstance(data.get(k), str) and data[k]
            ),
            "",
        )
        if not event_id:
            raise Malformed("data.responseId is missing.", 422)

        fields: dict[str, str] = {}
        hidden: dict[str, str] = {}
        labels: dict[str, str] = {}
        hints: dict[str, str] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise Malformed("Each field must be an object.", 422)
            kind = item.get("type") if isinstance(item.get("type"), str) else ""
            value = item.get("value")
            if kind == "CHECKBOXES" and isinstance(value, bool):
                continue  # one per option, repeating the checkbox group's own answer
            key = item.get("key") if isinstance(item.get("key"), str) else ""
            label = item.get("label") if isinstance(item.get("label"), str) else ""
            text = _value_text(value, item.get("options"))
            if not text:
                continue
            if kind == "HIDDEN_FIELDS":
                hidden.setdefault(label or key or f"hidden_{index + 1}", text)
                continue
            key = key or label or f"field_{index + 1}"
            if key in fields:
                key = f"{key}_{index + 1}"
            fields[key] = text
            if label and label != key:
                labels[key] = label
            if kind in _TYPE_HINTS:
                hints[key] = _TYPE_HINTS[kind]

        created = data.get("createdAt") or payload.get("createdAt")
        return [
            Parsed(
                event_id=event_id,
                fields=fields,
                hidden={k: v for k, v in hidden.items() if k not in ("landing_url", "referrer")},
                landing_url=hidden.get("landing_url", ""),
                referrer=hidden.get("referrer", ""),
                labels=labels,
                hints=hints,
                submitted_at=created if isinstance(created, str) else "",
            )
        ]


def _value_text(value: Any, options: Any) -> str:
    names: dict[str, str] = {}
    if isinstance(options, list):
        for option in options:
            if isinstance(option, dict) and isinstance(option.get("id"), str):
                names[option["id"]] = scalar_text(option.get("text"))
    if isinstance(value, list):
        parts: list[str] = []
        for item in value:
            if isinstance(item, dict):
                # A file upload: keep where it is.
                parts.append(scalar_text(item.get("url") or item.get("name") or item))
            elif isinstance(item, str) and item in names:
                parts.append(names[item])
            else:
                parts.append(scalar_text(item))
        return ", ".join(p for p in parts if p)
    if isinstance(value, str) and value in names:
        return names[value]
    return text_of(value)


VENDOR = TallyVendor()
