"""``yandex_forms``: Yandex Forms' "Send an HTTP request" integration.

From Yandex's help (yandex.ru/support/forms/en/send-request): an action group can send
either a **JSON-RPC POST request** (the admin names the service method and its
parameters, each a fixed value or a form variable such as an answer, the answer id or a
URL parameter), or a **request with a set method** whose JSON body and headers the admin
writes, again with variables. Requests are asynchronous; nothing is signed.

So we accept a JSON body that is either ``{"jsonrpc": "2.0", "method": …, "params":
{…}, "id": …}`` or a plain object of answers. The admin puts the source's secret in the
URL (``?token=…``, ``config["token_param"]``) or in a header
(``X-Leadrelay-Token``, ``config["token_header"]``). The answer id, when the admin
passes it (``answer_id`` by default, ``config["event_id_field"]``), identifies the
submission; without it a JSON-RPC call's ``id`` is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from leadrelay.intake.vendors._common import (
    ATTRIBUTION_KEYS,
    COMMON_FIELD_NAMES,
    header,
    parse_json_object,
    query_value,
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

DEFAULT_TOKEN_PARAM = "token"
DEFAULT_TOKEN_HEADER = "X-Leadrelay-Token"
EVENT_ID_FIELDS = ("answer_id", "answerId", "answer.id", "response_id")
CONTENT_TYPES = frozenset({"application/json", "application/json-rpc", "application/jsonrequest"})
_MAX_DEPTH = 4


class YandexFormsVendor:
    kind = "yandex_forms"
    default_mapping: Mapping[str, str] = dict(COMMON_FIELD_NAMES)

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        param = str(source.config.get("token_param") or DEFAULT_TOKEN_PARAM)
        name = str(source.config.get("token_header") or DEFAULT_TOKEN_HEADER)
        if secret_equals(query_value(raw, param), source.secret):
            return
        if secret_equals(header(raw, name).strip(), source.secret):
            return
        raise Unauthorized(f"Put the source's secret in ?{param}= or the {name} header.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST", "PUT", "PATCH")
        require_content_type(raw, CONTENT_TYPES)
        data = parse_json_object(raw)
        rpc_id = ""
        if "jsonrpc" in data:
            params = data.get("params")
            if not isinstance(params, dict):
                raise Malformed("A JSON-RPC request needs params as an object.", 422)
            answers: dict[str, Any] = params
            if isinstance(data.get("id"), (str, int)) and not isinstance(data.get("id"), bool):
                rpc_id = str(data["id"])
        else:
            answers = data

        fields: dict[str, str] = {}
        labels: dict[str, str] = {}
        _flatten(answers, "", fields, labels, 0)
        wanted = source.config.get("event_id_field")
        candidates = (str(wanted),) if wanted else EVENT_ID_FIELDS
        event_id = ""
        for name in candidates:
            if fields.get(name, "").strip():
                event_id = fields.pop(name).strip()
                break
        event_id = event_id or rpc_id
        if not any(v.strip() for v in fields.values()):
            raise Malformed("The request carries no answers.", 422)

        hidden = {k: fields.pop(k) for k in list(fields) if k.lower() in ATTRIBUTION_KEYS}
        hidden = {k.lower(): v for k, v in hidden.items()}
        return [
            Parsed(
                event_id=event_id,
                fields=fields,
                hidden={k: v for k, v in hidden.items() if k not in ("landing_url", "referrer")},
                landing_url=hidden.get("landing_url", ""),
                referrer=hidden.get("referrer", ""),
                labels=labels,
            )
        ]


def _flatten(
    data: Mapping[str, Any], prefix: str, fields: dict[str, str], labels: dict[str, str], depth: int
) -> None:
    """Answers as flat text fields; an answer object ``{value, question}`` is one field."""
    for raw_key, value in data.items():
        key = f"{prefix}{raw_key}"
        if isinstance(value, dict) and "value" in value:
            text = text_of(value.get("value"))
            label = _label(value)
            if text:
                fields.setdefault(key, text)
                if label and label != key:
                    labels.setdefault(key, label)
        elif isinstance(value, dict):
            if depth < _MAX_DEPTH:
                _flatten(
                    value, "" if depth == 0 and not prefix else f"{key}.", fields, labels, depth + 1
                )
            else:
                fields.setdefault(key, text_of(value))
        else:
            text = text_of(value)
            if text:
                fields.setdefault(key, text)


def _label(answer: Mapping[str, Any]) -> str:
    question = answer.get("question")
    candidates = [
        answer.get("label"),
        question.get("label") if isinstance(question, dict) else None,
    ]
    for label in candidates:
        if isinstance(label, str):
            return label
        if isinstance(label, dict):
            for lang in ("ru", "en"):
                if isinstance(label.get(lang), str):
                    return str(label[lang])
            texts = [v for v in label.values() if isinstance(v, str)]
            if texts:
                return texts[0]
    return scalar_text(question) if isinstance(question, str) else ""


VENDOR = YandexFormsVendor()
