"""The registry: one adapter per source kind the contract names, found by kind."""

from __future__ import annotations

import pytest

from leadrelay.intake.vendors import VENDORS, get_vendor

CONTRACT_KINDS = {
    "api",
    "form",
    "tilda",
    "google_ads",
    "meta",
    "typeform",
    "tally",
    "jotform",
    "calendly",
    "yandex_forms",
}


def test_every_contract_kind_has_its_adapter() -> None:
    assert set(VENDORS) == CONTRACT_KINDS
    for kind in CONTRACT_KINDS:
        vendor = get_vendor(kind)
        assert vendor.kind == kind
        assert vendor.default_mapping, kind


def test_an_unknown_kind_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        get_vendor("hubspot")
