"""``tilda``: Tilda's form webhook (Site settings → Forms → Webhook).

From Tilda's help (help-ru.tilda.cc/formsscript): form data is POSTed as
``application/x-www-form-urlencoded`` fields named by the form's variable names
(``Name``, ``Email``, ``Phone`` by default), with ``tranid`` (the submission id) and
``formid``; cookies come as one ``COOKIES`` field when that box is ticked. Right after
the webhook is connected Tilda posts ``test=test`` and expects ``200 OK``.

Tilda does not sign anything. The intake URL given to Tilda carries the source's secret
as ``?token=…`` (``config["token_param"]`` renames it); when the admin instead set an
API key in Tilda's webhook settings, ``config["api_key_name"]`` names the header or
form field it arrives in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from leadrelay.intake.vendors._common import (
    ATTRIBUTION_KEYS,
    COMMON_FIELD_NAMES,
    FORM_CONTENT_TYPES,
    JSON_CONTENT_TYPES,
    UTM_KEYS,
    header,
    parse_form,
    parse_json,
    query_value,
    require_content_type,
    require_method,
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
# Tilda's own bookkeeping fields: kept out of the lead's fields.
_SERVICE_FIELDS = frozenset({"tranid", "formid", "formname", "cookies", "test"})
# Cookies worth keeping: Tilda's UTM memory and the analytics client ids.
_KEPT_COOKIES = ("_ga", "_ym_uid", "roistat_visit")


class TildaVendor:
    kind = "tilda"
    default_mapping: Mapping[str, str] = {
        **COMMON_FIELD_NAMES,
        "input": "message",
        "comments": "message",
    }

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        param = str(source.config.get("token_param") or DEFAULT_TOKEN_PARAM)
        if secret_equals(query_value(raw, param), source.secret):
            return
        api_key_name = str(source.config.get("api_key_name") or "")
        if api_key_name:
            if secret_equals(header(raw, api_key_name), source.secret):
                return
            try:
                pairs = _pairs(raw)
            except Malformed:
                pairs = []
            if any(k == api_key_name and secret_equals(v, source.secret) for k, v in pairs):
                return
        raise Unauthorized(f"Add ?{param}=<the source's secret> to the webhook URL in Tilda.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST")
        pairs = _pairs(raw)
        api_key_name = str(source.config.get("api_key_name") or "")
        values: dict[str, str] = {}
        for key, value in pairs:
            if api_key_name and key == api_key_name:
                continue  # the secret itself is not lead data
            if key in values:
                if value:
                    values[key] = f"{values[key]}, {value}" if values[key] else value
            else:
                values[key] = value
        lowered = {k.lower(): v for k, v in values.items()}
        if lowered.get("test") == "test" and not lowered.get("tranid"):
            return [Parsed(is_test=True)]
        if not values:
            raise Malformed("The Tilda form post has no fields.", 422)

        fields: dict[str, str] = {}
        hidden: dict[str, str] = {}
        for key, value in values.items():
            low = key.lower()
            if low in _SERVICE_FIELDS:
                continue
            if low in ATTRIBUTION_KEYS:
                hidden.setdefault(low, value)
            else:
                fields[key] = value
        for name in ("formid", "formname"):
            if lowered.get(name):
                hidden[name] = lowered[name]
        for key, value in _from_cookies(lowered.get("cookies", "")).items():
            hidden.setdefault(key, value)

        return [
            Parsed(
                event_id=lowered.get("tranid", "").strip(),
                fields=fields,
                hidden={k: v for k, v in hidden.items() if k not in ("landing_url", "referrer")},
                landing_url=hidden.get("landing_url", ""),
                referrer=hidden.get("referrer", ""),
            )
        ]


def _pairs(raw: RawDelivery) -> list[tuple[str, str]]:
    require_content_type(raw, FORM_CONTENT_TYPES | JSON_CONTENT_TYPES)
    if raw.content_type in JSON_CONTENT_TYPES:
        data: Any = parse_json(raw)
        if not isinstance(data, dict):
            raise Malformed("The body must be a JSON object.", 422)
        return [(str(k), text_of(v)) for k, v in data.items()]
    return parse_form(raw)


def _from_cookies(cookies: str) -> dict[str, str]:
    """utm_* from Tilda's ``TILDAUTM`` cookie and the analytics client ids."""
    found: dict[str, str] = {}
    for part in cookies.split(";"):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name == "TILDAUTM":
            text = unquote(value)
            for item in text.replace("|||", "&").split("&"):
                key, eq, val = item.partition("=")
                key = key.strip().lower()
                if eq and key in UTM_KEYS and val.strip():
                    found.setdefault(key, val)
        elif name in _KEPT_COOKIES and value:
            found.setdefault(f"cookie_{name.lstrip('_')}", value)
    return found


VENDOR = TildaVendor()
