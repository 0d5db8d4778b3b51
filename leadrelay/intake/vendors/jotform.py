"""``jotform``: Jotform's form webhook (Settings → Integrations → WebHooks).

Jotform posts ``multipart/form-data`` with ``formID``, ``submissionID``, ``formTitle``,
a human ``pretty`` summary and ``rawRequest``: a JSON string of the answers keyed
``q<N>_<uniqueName>``. Compound fields are objects: a name is ``{first, last}`` (maybe
``prefix``, ``middle``, ``suffix``), a phone ``{full}`` or ``{area, phone}``, an address
``{addr_line1, …, city, postal, country}``, a date ``{day, month, year}``.

Jotform signs nothing, so the webhook URL carries the source's secret as ``?token=…``
(``config["token_param"]`` renames it). Fields are keyed by the unique name
(``fullName``, ``email``, ``phoneNumber``…); ``submissionID`` identifies a submission.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from leadrelay.intake.vendors._common import (
    COMMON_FIELD_NAMES,
    FORM_CONTENT_TYPES,
    loads_json,
    parse_form,
    query_value,
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
_QUESTION = re.compile(r"^q(\d+)_(.+)$")
_NAME_PARTS = ("prefix", "first", "middle", "last", "suffix")
_ADDRESS_PARTS = ("addr_line1", "addr_line2", "city", "state", "postal", "country")


class JotformVendor:
    kind = "jotform"
    # Unique names are camelCase (fullName, phoneNumber): they match the common names.
    default_mapping: Mapping[str, str] = dict(COMMON_FIELD_NAMES)

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        param = str(source.config.get("token_param") or DEFAULT_TOKEN_PARAM)
        if not secret_equals(query_value(raw, param), source.secret):
            raise Unauthorized(f"Add ?{param}=<the source's secret> to the webhook URL.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST")
        if raw.content_type not in FORM_CONTENT_TYPES:
            raise Malformed("Jotform posts multipart/form-data.", 415)
        posted: dict[str, str] = {}
        for key, value in parse_form(raw):
            posted.setdefault(key, value)
        if "rawRequest" not in posted:
            raise Malformed("rawRequest is missing.", 422)
        answers = loads_json(posted["rawRequest"], "rawRequest")
        if not isinstance(answers, dict):
            raise Malformed("rawRequest must be a JSON object.", 422)

        fields: dict[str, str] = {}
        hints: dict[str, str] = {}
        for key, value in answers.items():
            match = _QUESTION.match(str(key))
            if match is None:
                continue
            name = match.group(2)
            text, hint = _answer(value)
            if not text:
                continue
            if name in fields:
                name = str(key)
            fields[name] = text
            if hint:
                hints[name] = hint
        # Uploaded files come once more at the top level, as full URLs.
        for key, value in answers.items():
            if (
                isinstance(value, list)
                and value
                and all(isinstance(v, str) and v.startswith("http") for v in value)
                and str(key) not in fields
            ):
                fields[str(key)] = ", ".join(value)

        hidden = {
            f"jotform_{name}": posted[source_key]
            for source_key, name in (("formID", "form_id"), ("formTitle", "form_title"))
            if posted.get(source_key)
        }
        return [
            Parsed(
                event_id=posted.get("submissionID", "").strip(),
                fields=fields,
                hidden=hidden,
                hints=hints,
            )
        ]


def _answer(value: Any) -> tuple[str, str]:
    """The answer's text and, for compound fields, which lead field it looks like."""
    if isinstance(value, dict):
        keys = set(value)
        if keys & {"first", "last"} and keys <= set(_NAME_PARTS):
            return _join(value, _NAME_PARTS, " "), "name"
        if "full" in keys and keys <= {"full", "country", "area", "phone"}:
            return scalar_text(value.get("full")), "phone"
        if keys & {"area", "phone"} and keys <= {"country", "area", "phone"}:
            return _join(value, ("country", "area", "phone"), " "), "phone"
        if keys & set(_ADDRESS_PARTS) and keys <= set(_ADDRESS_PARTS):
            return _join(value, _ADDRESS_PARTS, ", "), ""
        if keys == {"day", "month", "year"}:
            parts = [scalar_text(value.get(k)) for k in ("year", "month", "day")]
            return ("-".join(parts) if all(parts) else ""), ""
        return text_of(value) if any(text_of(v) for v in value.values()) else "", ""
    return text_of(value), ""


def _join(value: Mapping[str, Any], parts: tuple[str, ...], sep: str) -> str:
    return sep.join(t for t in (scalar_text(value.get(p)) for p in parts) if t.strip())


VENDOR = JotformVendor()
