"""MQLs waiting for a sales manager, and the assignment settings the engine reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from leadrelay.sales.models import AssignmentSettings
from tests.factories import walk

MakeMql = Callable[..., Lead]


@pytest.fixture
def make_mql(cast: dict[str, User], make_lead: Callable[..., Lead]) -> MakeMql:
    """A qualified request handed off by the SDR: awaiting a sales manager."""

    def make(**fields: Any) -> Lead:
        lead = make_lead(**fields)
        return walk(lead, cast["sdr"], Status.SDR_PROCESSING, Status.AWAITING_ASSIGNMENT)

    return make


@pytest.fixture
def auto(db: None) -> Callable[..., AssignmentSettings]:
    """Switch the engine on with a strategy (and other settings)."""

    def switch(strategy: str = "round_robin", **fields: Any) -> AssignmentSettings:
        row, _ = AssignmentSettings.objects.update_or_create(
            pk=1, defaults={"mode": "auto", "strategy": strategy, **fields}
        )
        return row

    return switch
