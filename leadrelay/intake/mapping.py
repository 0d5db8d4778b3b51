"""Mapping a vendor submission onto lead fields: one step shared by every source kind.

Precedence for each vendor field (matched by its key, then by its human label, both
case-insensitively and ignoring spaces, hyphens and underscores, so ``E-mail``,
``email`` and ``EMAIL`` are one name, as are ``phoneNumber`` and ``phone_number``):

1. the source's own mapping;
2. the vendor's default mapping;
3. the lead field or attribution key of the same name (``email``, ``utm_source``…);
4. what the vendor says the field is (``Parsed.hints``: a Typeform email answer…),
   only while that lead field is still empty.

A field that maps to nothing lands in ``extra`` under its label (or key), so nothing the
client typed is lost. Values are kept exactly as sent: no trimming, no case change —
normalising email and phone is ``normalize.py``'s job, later.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, unquote_plus

from leadrelay.intake.vendors._common import ATTRIBUTION_KEYS, CLICK_IDS, LEAD_FIELDS, UTM_KEYS
from leadrelay.intake.vendors.base import Parsed

_SEPARATORS = re.compile(r"[\s_\-]+")
_TARGETS = frozenset((*LEAD_FIELDS, *ATTRIBUTION_KEYS))
# Several fields mapped to the message are kept together rather than dropped.
_JOINED = frozenset({"message"})


@dataclass
class Mapped:
    """A submission in lead terms, values as sent."""

    name: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    website: str = ""
    message: str = ""
    attribution: dict[str, str] = field(default_factory=dict)
    consent: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)


def normalize_key(key: str) -> str:
    """``"E-Mail "`` → ``"email"``: case-folded, spaces, hyphens and underscores dropped."""
    return _SEPARATORS.sub("", str(key).casefold())


# A mapping target written loosely (``"First Name"``) still names its lead field.
_CANONICAL = {normalize_key(target): target for target in _TARGETS}
_IDENTITY = dict(_CANONICAL)


def canonical_target(target: str) -> str:
    """The lead field or attribution key a mapping value names, else the value itself."""
    return _CANONICAL.get(normalize_key(target), str(target).strip())


def _normalize_table(table: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, target in table.items():
        norm = normalize_key(key)
        if norm and norm not in out:
            out[norm] = canonical_target(str(target))
    return out


def map_fields(
    parsed: Parsed,
    vendor_default: Mapping[str, str],
    source_mapping: Mapping[str, str],
) -> Mapped:
    tables = (
        _normalize_table(source_mapping),
        _normalize_table(vendor_default),
        _IDENTITY,
    )

    def target_for(key: str, label: str) -> str | None:
        names = [normalize_key(key)]
        if label:
            names.append(normalize_key(label))
        for table in tables:
            for name in names:
                if name in table:
                    return table[name]
        return None

    values: dict[str, str] = {}
    attribution: dict[str, str] = {}
    extra: dict[str, str] = {}

    def to_extra(key: str, label: str, value: str) -> None:
        name = label or key
        if name in extra and extra[name] != value:
            name = key if key not in extra else f"{name} ({key})"
        extra.setdefault(name, value)

    def assign(target: str, key: str, label: str, value: str) -> bool:
        if target in ATTRIBUTION_KEYS:
            if target in attribution:
                return False
            attribution[target] = value
            return True
        if target not in LEAD_FIELDS:
            return False
        if not values.get(target):
            values[target] = value
            return True
        if target in _JOINED:
            values[target] = f"{values[target]}\n\n{value}"
            return True
        return False

    hinted: list[tuple[str, str, str, str]] = []
    items = [(k, v) for k, v in parsed.fields.items()] + [(k, v) for k, v in parsed.hidden.items()]
    for key, raw_value in items:
        value = "" if raw_value is None else str(raw_value)
        if not value.strip():
            continue
        label = parsed.labels.get(key, "")
        target = target_for(key, label)
        if target is None:
            hint = canonical_target(parsed.hints.get(key, ""))
            if hint in _TARGETS:
                hinted.append((hint, key, label, value))
            else:
                to_extra(key, label, value)
            continue
        if not assign(target, key, label, value):
            to_extra(key, label, value)

    for target, key, label, value in hinted:
        if target in attribution or values.get(target):
            to_extra(key, label, value)
        else:
            assign(target, key, label, value)

    if parsed.landing_url.strip() and "landing_url" not in attribution:
        attribution["landing_url"] = parsed.landing_url
    if parsed.referrer.strip() and "referrer" not in attribution:
        attribution["referrer"] = parsed.referrer
    if "landing_url" in attribution:
        for key, value in params_from_url(attribution["landing_url"]).items():
            attribution.setdefault(key, value)

    mapped = Mapped(
        name=values.get("name", ""),
        first_name=values.get("first_name", ""),
        last_name=values.get("last_name", ""),
        email=values.get("email", ""),
        phone=values.get("phone", ""),
        company=values.get("company", ""),
        website=values.get("website", ""),
        message=values.get("message", ""),
        attribution=attribution,
        consent={str(k): str(v) for k, v in parsed.consent.items() if str(v).strip()},
        extra=extra,
    )
    if not mapped.name.strip():
        parts = [p for p in (mapped.first_name, mapped.last_name) if p.strip()]
        if parts:
            mapped.name = " ".join(parts)
    return mapped


def params_from_url(url: str) -> dict[str, str]:
    """utm_* and click ids from a URL's query string.

    Click ids are percent-decoded only: a ``+`` stays a ``+`` (they are opaque tokens);
    utm values are form-decoded, so ``spring+sale`` reads ``spring sale``.
    """
    query = url.split("#", 1)[0].partition("?")[2]
    found: dict[str, str] = {}
    if not query:
        return found
    for pair in query.split("&"):
        raw_key, _, raw_value = pair.partition("=")
        try:
            key = unquote_plus(raw_key, errors="strict").strip().lower()
            if key in CLICK_IDS:
                value = unquote(raw_value, errors="strict")
            elif key in UTM_KEYS:
                value = unquote_plus(raw_value, errors="strict")
            else:
                continue
        except UnicodeDecodeError:
            continue
        if value.strip() and key not in found:
            found[key] = value
    return found
