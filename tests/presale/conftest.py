"""Presale fixtures: a lead in discussion with its sales manager, the SEO brief's answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from tests.factories import walk
from tests.web.conftest import client_for  # noqa: F401  (the web tests' logged-in clients)

# Every required question of the default SEO brief answered.
SEO_ANSWERS: dict[str, Any] = {
    "goal": "leads",
    "queries": "купить цветы москва",
    "budget": {"amount": "120000", "currency": "RUB"},
}


@pytest.fixture
def discussion_lead(cast: dict[str, User], make_lead: Callable[..., Lead]) -> Callable[..., Lead]:
    """A lead the SDR handed off and ``cast["sales"]`` accepted: in ``discussion``."""

    def make(service: str = "seo", **fields: Any) -> Lead:
        fields.setdefault("company", "Ромашка")
        lead = make_lead(service=Service.objects.get(code=service), **fields)
        lead = walk(lead, cast["sdr"], Status.SDR_PROCESSING, Status.AWAITING_ASSIGNMENT)
        return walk(lead, cast["sales"], Status.ASSIGNED, Status.DISCUSSION)

    return make


def quick_demo(actor: User, lead: Lead, **details: Any) -> Any:
    """A demo on ``lead`` starting now (or as ``details`` say), with no one to invite."""
    from django.utils import timezone

    from leadrelay.presale import demos

    args: dict[str, Any] = {
        "starts_at": timezone.now(),
        "duration_minutes": 60,
        "format": "online",
        "location": "",
        "attendees": "",
    }
    args.update(details)
    return demos.schedule_demo(actor, lead.pk, **args)
