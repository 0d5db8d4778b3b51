"""Vendor adapters, one per source kind, and the registry the receiver looks them up in."""

from __future__ import annotations

from leadrelay.intake.vendors import (
    api,
    calendly,
    form,
    google_ads,
    jotform,
    meta,
    tally,
    tilda,
    typeform,
    yandex_forms,
)
from leadrelay.intake.vendors.base import Vendor

VENDORS: dict[str, Vendor] = {
    vendor.kind: vendor
    for vendor in (
        api.VENDOR,
        form.VENDOR,
        tilda.VENDOR,
        google_ads.VENDOR,
        meta.VENDOR,
        typeform.VENDOR,
        tally.VENDOR,
        jotform.VENDOR,
        calendly.VENDOR,
        yandex_forms.VENDOR,
    )
}


def get_vendor(kind: str) -> Vendor:
    """The adapter for a source kind; ``KeyError`` for a kind we do not know."""
    try:
        return VENDORS[kind]
    except KeyError:
        raise KeyError(f"Unknown source kind: {kind!r}") from None


__all__ = ["VENDORS", "Vendor", "get_vendor"]
