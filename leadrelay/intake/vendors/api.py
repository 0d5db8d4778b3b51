"""``api``: Leadrelay's own JSON intake, for a client's backend or a script.

``POST`` a JSON object with ``Authorization: Bearer <source secret>``::

    {"name": "…", "email": "…", "phone": "…", "company": "…", "website": "…",
     "message": "…", "utm_source": "…", "gclid": "…",
     "attribution": {"utm_campaign": "…", "landing_url": "…"},
     "consent": {"text_version": "2026-03", "given_at": "2026-03-02T09:00:00+03:00"},
     "extra": {"budget": "…"}}

Strict at the edge: an unknown key, a non-string value or a bad ``given_at`` is a 422,
so a typo is reported rather than silently dropped. ``Idempotency-Key`` makes a retry of
the same call a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from leadrelay.intake.vendors._common import (
    ATTRIBUTION_KEYS,
    JSON_CONTENT_TYPES,
    LEAD_FIELDS,
    header,
    parse_json_object,
    require_content_type,
    require_method,
    secret_equals,
)
from leadrelay.intake.vendors.base import (
    Malformed,
    Parsed,
    RawDelivery,
    SourceConfig,
    Unauthorized,
)

CONSENT_KEYS = ("text_version", "given_at")
MAX_IDEMPOTENCY_KEY = 255


class ApiVendor:
    kind = "api"
    default_mapping: Mapping[str, str] = {name: name for name in LEAD_FIELDS}

    def authenticate(self, raw: RawDelivery, source: SourceConfig) -> None:
        scheme, _, token = header(raw, "authorization").strip().partition(" ")
        if scheme.lower() != "bearer" or not secret_equals(token.strip(), source.secret):
            raise Unauthorized("Send Authorization: Bearer <the source's secret>.")

    def parse(self, raw: RawDelivery, source: SourceConfig) -> list[Parsed]:
        require_method(raw, "POST")
        require_content_type(raw, JSON_CONTENT_TYPES)
        data = parse_json_object(raw)
        allowed = {*LEAD_FIELDS, *ATTRIBUTION_KEYS, "attribution", "consent", "extra"}
        unknown = sorted(str(k) for k in data if k not in allowed)
        if unknown:
            raise Malformed(f"Unknown field(s): {', '.join(unknown)}.", 422)

        fields = {k: _string(data[k], k) for k in LEAD_FIELDS if data.get(k) is not None}
        hidden = {k: _string(data[k], k) for k in ATTRIBUTION_KEYS if data.get(k) is not None}
        for key, value in _object(data.get("attribution"), "attribution").items():
            if key not in ATTRIBUTION_KEYS:
                raise Malformed(f"Unknown attribution key: {key}.", 422)
            if value is not None:
                hidden.setdefault(key, _string(value, f"attribution.{key}"))
        extra = {
            f"extra:{key}": _string(value, f"extra.{key}")
            for key, value in _object(data.get("extra"), "extra").items()
            if value is not None
        }
        labels = {f"extra:{key}": key for key in _object(data.get("extra"), "extra")}

        consent: dict[str, str] = {}
        for key, value in _object(data.get("consent"), "consent").items():
            if key not in CONSENT_KEYS:
                raise Malformed(f"Unknown consent key: {key}.", 422)
            if value is not None:
                consent[key] = _string(value, f"consent.{key}")
        if consent.get("given_at"):
            try:
                datetime.fromisoformat(consent["given_at"])
            except ValueError as exc:
                raise Malformed("consent.given_at must be an ISO 8601 date-time.", 422) from exc

        key = header(raw, "idempotency-key").strip()
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise Malformed(f"Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY}.", 422)
        if not any(v.strip() for v in fields.values()):
            raise Malformed("A lead needs at least one of its contact fields.", 422)
        return [
            Parsed(
                event_id=key,
                fields={**fields, **extra},
                hidden={k: v for k, v in hidden.items() if k not in ("landing_url", "referrer")},
                landing_url=hidden.get("landing_url", ""),
                referrer=hidden.get("referrer", ""),
                consent=consent,
                labels=labels,
            )
        ]


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise Malformed(f"{name} must be a string.", 422)
    return value


def _object(value: Any, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Malformed(f"{name} must be an object.", 422)
    return value


VENDOR = ApiVendor()
