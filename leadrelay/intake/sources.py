"""Creating intake sources and telling the admin where the vendor must send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from leadrelay.catalog.models import Source
from leadrelay.intake.vendors import VENDORS
from leadrelay.intake.vendors._common import ATTRIBUTION_KEYS, LEAD_FIELDS

MAPPING_TARGETS = frozenset({*LEAD_FIELDS, *ATTRIBUTION_KEYS})


class SourceError(ValueError):
    """A source definition that cannot be accepted; the message says why."""


def load_mapping(path: str | Path) -> dict[str, str]:
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"no mapping file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"the mapping file is not valid JSON: {exc}") from None
    return validate_mapping(data)


def validate_mapping(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise SourceError("a mapping is a JSON object from vendor field name to lead field")
    mapping: dict[str, str] = {}
    for key, target in data.items():
        if not isinstance(key, str) or not isinstance(target, str) or not key.strip():
            raise SourceError("mapping keys and values must be non-empty strings")
        if target not in MAPPING_TARGETS:
            raise SourceError(
                f"unknown lead field {target!r} for {key!r}; one of: "
                + ", ".join(sorted(MAPPING_TARGETS))
            )
        mapping[key] = target
    return mapping


def create_source(
    kind: str,
    name: str,
    *,
    secret: str | None = None,
    mapping: dict[str, str] | None = None,
    config: dict[str, Any] | None = None,
) -> Source:
    if kind not in VENDORS:
        raise SourceError(f"unknown source kind {kind!r}; one of: {', '.join(sorted(VENDORS))}")
    if not name.strip():
        raise SourceError("a source needs a name")
    fields: dict[str, Any] = {
        "kind": kind,
        "name": name.strip(),
        "mapping": validate_mapping(mapping or {}),
        "config": dict(config or {}),
    }
    if secret is not None:
        if not secret.strip():
            raise SourceError("the secret may not be empty")
        fields["secret"] = secret
    with transaction.atomic():
        return Source.objects.create(**fields)


def intake_url(source: Source) -> str:
    """The full URL to give the vendor (Tilda and Jotform carry the secret in it)."""
    base = settings.LEADRELAY_BASE_URL.rstrip("/")
    url = base + reverse("intake", kwargs={"key": source.key})
    if source.kind in ("tilda", "jotform", "yandex_forms"):
        url += "?token=" + source.secret
    return url


def source_dict(source: Source) -> dict[str, Any]:
    return {
        "id": source.pk,
        "kind": source.kind,
        "name": source.name,
        "url": intake_url(source),
        "secret": source.secret,
    }
