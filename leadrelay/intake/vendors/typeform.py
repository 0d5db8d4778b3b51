"""``typeform``: Typeform's ``form_response`` webhook.

From Typeform's webhook docs (typeform.com/developers/webhooks): the body is JSON
``{event_id, event_type: "form_response", form_response: {form_id, token, landed_at,
submitted_at, hidden, definition: {fields}, answers}}``, signed with
``Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>`` keyed by the secret
set on the webhook. Each answer carries its ``field`` (``id``, ``ref``, ``type``) and its
value under a key named by its ``type`` (``text``, ``email``, ``phone_number``,
``number``, ``boolean``, ``choice.label``, ``choices.labels``, ``date``, ``url``,
``file_url``, ``payment``). Hidden fields are ``form_response.hidden``.

Fields are keyed by the field ``ref`` (a mapping may also name the question title). The
response ``token`` identifies the submission for redelivery.
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
    str_dict,
    text_of,
)
from leadrelay.intake.vendors.base import (
    Malformed,
    Parsed,
    RawDelivery,
    SourceConfig,
    Unauthorized,
)

# Answer types (and a long-text question type) that say which lead field they are.
_TYPE_HINTS = {"email": "email", "phone_number": "phone", "url": "website"}
_FIELD_TYPE_HINTS = {"long_text": "message"}


class TypeformVendor:
    kind = "typeform"
    default_mapping: Mapping[str, str] = dict(COMMON_FIELD_NAMES)

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        scheme, _, given = header(raw, "typeform-signature").strip().partition("=")
        if scheme != "sha256" or not source.secret:
            raise Unauthorized("Typeform-Signature is missing.")
        digest = hmac.new(source.secret.encode(), raw.body, hashlib.sha256).digest()
        if not secret_equals(given.strip(), base64.b64encode(digest).decode("ascii")):
            raise Unauthorized("Typeform-Signature does not match the body.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST")
        require_content_type(raw, JSON_CONTENT_TYPES)
        data = parse_json_object(raw)
        if data.get("event_type", "form_response") != "form_response":
            return []
        response = data.get("form_response")
        if not isinstance(response, dict):
            raise Malformed("form_response must be an object.", 422)
        token = response.get("token")
        if not isinstance(token, str) or not token:
            raise Malformed("form_response.token is missing.", 422)
        answers = response.get("answers") or []
        if not isinstance(answers, list):
            raise Malformed("form_response.answers must be a list.", 422)

        titles: dict[str, str] = {}
        definition = response.get("definition")
        if isinstance(definition, dict) and isinstance(definition.get("fields"), list):
            for item in definition["fields"]:
                if isinstance(item, dict) and isinstance(item.get("title"), str):
                    for id_key in ("id", "ref"):
                        if isinstance(item.get(id_key), str):
                            titles[item[id_key]] = item["title"]

        fields: dict[str, str] = {}
        labels: dict[str, str] = {}
        hints: dict[str, str] = {}
        for index, answer in enumerate(answers):
            if not isinstance(answer, dict):
                raise Malformed("Each answer must be an object.", 422)
            field_raw = answer.get("field")
            field_info: dict[str, Any] = field_raw if isinstance(field_raw, dict) else {}
            key = next(
                (
                    field_info[k]
                    for k in ("ref", "id")
                    if isinstance(field_info.get(k), str) and field_info[k]
                ),
                f"answer_{index + 1}",
            )
            kind = answer.get("type")
            value = _answer_text(answer, kind if isinstance(kind, str) else "")
            if not value:
                continue
            if key in fields:
                key = f"{key}_{index + 1}"
            fields[key] = value
            title = titles.get(str(field_info.get("id", ""))) or titles.get(key, "")
            if title and title != key:
                labels[key] = title
            if isinstance(kind, str) and kind in _TYPE_HINTS:
                hints[key] = _TYPE_HINTS[kind]
            elif str(field_info.get("type")) in _FIELD_TYPE_HINTS:
                hints[key] = _FIELD_TYPE_HINTS[str(field_info.get("type"))]

        hidden = str_dict(response.get("hidden"))
        submitted = response.get("submitted_at")
        return [
            Parsed(
                event_id=token,
                fields=fields,
                hidden={k: v for k, v in hidden.items() if k not in ("landing_url", "referrer")},
                landing_url=hidden.get("landing_url", ""),
                referrer=hidden.get("referrer", ""),
                labels=labels,
                hints=hints,
                submitted_at=submitted if isinstance(submitted, str) else "",
            )
        ]


def _answer_text(answer: Mapping[str, Any], kind: str) -> str:
    value = answer.get(kind) if kind else None
    if kind == "choice" and isinstance(value, dict):
        return text_of([value.get("label"), value.get("other")])
    if kind == "choices" and isinstance(value, dict):
        labels = value.get("labels")
        return text_of([*(labels if isinstance(labels, list) else []), value.get("other")])
    if kind == "payment" and isinstance(value, dict):
        return text_of([value.get("amount"), value.get("name"), value.get("last4")], " ")
    if isinstance(value, (list, dict)):
        return text_of(value)
    return scalar_text(value)


VENDOR = TypeformVendor()
