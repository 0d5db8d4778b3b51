"""Deals test fixtures: a lead walked to a sales status, owned by the cast's ``sales``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from leadrelay.accounts.models import User
from leadrelay.deals.contracts import save_contract
from leadrelay.deals.models import Contract
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from tests.factories import walk
from tests.web.conftest import client_for  # noqa: F401  (the web tests' logged-in client)

SALES_PATH = ("assigned", "discussion", "brief_filled", "proposal", "contract", "converted")

LeadAt = Callable[..., Lead]


@pytest.fixture
def lead_at(cast: dict[str, User], make_lead: Callable[..., Lead]) -> LeadAt:
    """``lead_at("proposal")``: a new lead walked there by the SDR, then ``sales``
    (``manager="sales2"`` for another manager's lead)."""

    def make(status: str, manager: str = "sales", **fields: Any) -> Lead:
        lead = walk(make_lead(**fields), cast["sdr"], "sdr_processing", "awaiting_assignment")
        path = SALES_PATH[: SALES_PATH.index(status) + 1]
        return walk(lead, cast[manager], *path)

    return make


@pytest.fixture
def contracted(cast: dict[str, User], lead_at: LeadAt) -> Callable[..., Lead]:
    """A lead in ``contract`` with a one-off contract signed on 2026-03-01 in RUB."""

    def make(manager: str = "sales", kind: str = "one_off", **fields: Any) -> Lead:
        lead = lead_at(Status.CONTRACT, manager=manager, **fields)
        save_contract(
            cast[manager],
            lead.pk,
            number=f"D-{lead.pk}",
            kind=kind,
            signed_on=date(2026, 3, 1),
            starts_on=date(2026, 3, 1),
            ends_on=None,
            value=Decimal("300000"),
            currency="RUB",
            monthly_fee=Decimal("100000") if kind == Contract.Kind.RETAINER else None,
        )
        lead.refresh_from_db()
        return lead

    return make


@pytest.fixture
def media(settings: Any, tmp_path: Any) -> Any:
    """Uploaded files go to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
