"""Small pure helpers the vendor adapters share: reading bodies, headers and secrets.

Every reader here turns bad input into ``Malformed`` (never a stray ``ValueError`` or
``UnicodeDecodeError``), so an adapter built on them can only fail the way the receiver
expects.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from leadrelay.intake.vendors.base import Malformed, RawDelivery

LEAD_FIELDS = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "website",
    "message",
)
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id")
CLICK_IDS = ("gclid", "fbclid", "yclid")
ATTRIBUTION_KEYS = (*UTM_KEYS, *CLICK_IDS, "referrer", "landing_url")

FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
JSON_CONTENT_TYPES = frozenset({"application/json"})

# Field names people give contact fields on forms in the wild, English and Russian.
# Keys are matched ignoring case, spaces, hyphens and underscores (``mapping.normalize_key``),
# so ``full_name`` also matches ``FullName`` and ``Full name``.
COMMON_FIELD_NAMES: dict[str, str] = {
    "name": "name",
    "full_name": "name",
    "your_name": "name",
    "fio": "name",
    "фио": "name",
    "имя": "name",
    "ваше_имя": "name",
    "first_name": "first_name",
    "given_name": "first_name",
    "last_name": "last_name",
    "surname": "last_name",
    "family_name": "last_name",
    "фамилия": "last_name",
    "email": "email",
    "mail": "email",
    "your_email": "email",
    "email_address": "email",
    "work_email": "email",
    "почта": "email",
    "электронная_почта": "email",
    "phone": "phone",
    "phone_number": "phone",
    "telephone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "your_phone": "phone",
    "телефон": "phone",
    "номер_телефона": "phone",
    "company": "company",
    "company_name": "company",
    "organization": "company",
    "organisation": "company",
    "компания": "company",
    "организация": "company",
    "website": "website",
    "site": "website",
    "url": "website",
    "company_website": "website",
    "сайт": "website",
    "message": "message",
    "comment": "message",
    "comments": "message",
    "question": "message",
    "your_message": "message",
    "textarea": "message",
    "сообщение": "message",
    "комментарий": "message",
    "вопрос": "message",
}


def header(raw: RawDelivery, name: str) -> str:
    """A request header's value, "" when absent (names compared case-insensitively)."""
    wanted = name.lower()
    value = raw.headers.get(wanted)
    if value is not None:
        return str(value)
    for key, val in raw.headers.items():
        if str(key).lower() == wanted:
            return str(val)
    return ""


def query_value(raw: RawDelivery, name: str) -> str:
    """The first value of a URL query parameter, "" when absent."""
    values = raw.query.get(name) or []
    return str(values[0]) if values else ""


def secret_equals(given: str, expected: str) -> bool:
    """Constant-time comparison; an unset expected secret never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def require_method(raw: RawDelivery, *methods: str) -> None:
    if raw.method.upper() not in methods:
        raise Malformed(f"Method {raw.method} is not accepted here.", 405)


def require_content_type(raw: RawDelivery, allowed: Iterable[str]) -> None:
    allowed_set = frozenset(allowed)
    if raw.content_type not in allowed_set:
        raise Malformed(
            f"Content type {raw.content_type or '(none)'!r} is not accepted; "
            f"send one of {', '.join(sorted(allowed_set))}.",
            415,
        )


def body_text(raw: RawDelivery, charset: str | None = None) -> str:
    """The body decoded with the declared charset; undecodable bytes are Malformed."""
    encoding = charset or raw.charset or "utf-8"
    try:
        return raw.body.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise Malformed(f"The body is not valid {encoding} text.", 400) from exc


def parse_json(raw: RawDelivery) -> Any:
    return loads_json(body_text(raw), "The body")


def loads_json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Malformed(f"{what} is not valid JSON.", 400) from exc


def parse_json_object(raw: RawDelivery) -> dict[str, Any]:
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise Malformed("The body must be a JSON object.", 422)
    return data


def parse_urlencoded(body: bytes, charset: str = "utf-8") -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    try:
        text = body.decode(charset or "utf-8")
        return parse_qsl(
            text,
            keep_blank_values=True,
            encoding=charset or "utf-8",
            errors="strict",
            max_num_fields=2000,
        )
    except (LookupError, UnicodeDecodeError, ValueError) as exc:
        raise Malformed("The form body cannot be decoded.", 400) from exc


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``type; a=1; b="x;y"`` into ``("type", {"a": "1", "b": "x;y"})``."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    escaped = False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    main = parts[0].strip().lower()
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, val = part.partition("=")
        if sep:
            params[key.strip().lower()] = val.strip()
    return main, params


def parse_multipart(raw: RawDelivery) -> list[tuple[str, str]]:
    """Text parts of a multipart/form-data body; for a file part, its file name."""
    _, params = header_params(header(raw, "content-type"))
    boundary = params.get("boundary", "")
    if not boundary or len(boundary) > 200:
        raise Malformed("A multipart body needs a boundary in its Content-Type.", 400)
    try:
        delimiter = b"--" + boundary.encode("ascii")
    except UnicodeEncodeError as exc:
        raise Malformed("The multipart boundary is not ASCII.", 400) from exc
    chunks = raw.body.split(delimiter)
    if len(chunks) < 3:
        raise Malformed("The multipart body has no parts.", 400)
    out: list[tuple[str, str]] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        elif chunk.startswith(b"\n"):
            chunk = chunk[1:]
        crlf, lf = chunk.find(b"\r\n\r\n"), chunk.find(b"\n\n")
        if crlf < 0 and lf < 0:
            raise Malformed("A multipart part has no header block.", 400)
        if crlf >= 0 and (lf < 0 or crlf <= lf):
            head, content = chunk[:crlf], chunk[crlf + 4 :]
        else:
            head, content = chunk[:lf], chunk[lf + 2 :]
        if content.endswith(b"\r\n"):
            content = content[:-2]
        elif content.endswith(b"\n"):
            content = content[:-1]
        try:
            head_text = head.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Malformed("A multipart part header is not UTF-8.", 400) from exc
        headers: dict[str, str] = {}
        for line in head_text.replace("\r\n", "\n").split("\n"):
            key, sep, val = line.partition(":")
            if sep:
                headers[key.strip().lower()] = val.strip()
        _, disposition = header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        name = _unquote_param(name)
        if "filename" in disposition:
            out.append((name, _unquote_param(disposition["filename"])))
            continue
        _, part_params = header_params(headers.get("content-type", ""))
        encoding = _unquote_param(part_params.get("charset", "")) or raw.charset or "utf-8"
        try:
            out.append((name, content.decode(encoding)))
        except (LookupError, UnicodeDecodeError) as exc:
            raise Malformed(f"The multipart field {name!r} is not valid text.", 400) from exc
    return out


def _unquote_param(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def parse_form(raw: RawDelivery) -> list[tuple[str, str]]:
    """Fields of an HTML form post, urlencoded or multipart; anything else is Malformed."""
    require_content_type(raw, FORM_CONTENT_TYPES)
    if raw.content_type == "multipart/form-data":
        return parse_multipart(raw)
    return parse_urlencoded(raw.body, raw.charset or "utf-8")


def scalar_text(value: Any) -> str:
    """A JSON scalar as the text a person would read; "" for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return str(value)


def text_of(value: Any, sep: str = ", ") -> str:
    """Scalars as text, lists joined, objects as JSON text."""
    if isinstance(value, list):
        return sep.join(t for t in (text_of(v, sep) for v in value) if t)
    return scalar_text(value)


def str_dict(data: Any) -> dict[str, str]:
    """A JSON object as a dict of non-empty texts (anything else gives {})."""
    if not isinstance(data, Mapping):
        return {}
    out: dict[str, str] = {}
    for key, value in data.items():
        text = text_of(value)
        if text:
            out[str(key)] = text
    return out


def iso_from_unix(value: Any) -> str:
    """Unix seconds (int, float or digits) as ISO 8601 UTC; "" when not a time."""
    try:
        seconds = float(value)
    except (TypeError, ValueError, OverflowError):
        return ""
    if not math.isfinite(seconds):
        return ""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return ""
