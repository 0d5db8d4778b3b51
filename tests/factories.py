"""Helpers for tests that walk leads along their path."""

from __future__ import annotations

from typing import Any

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import MoveOptions, move_lead


def walk(lead: Lead, actor: User, *path: str, reason: str = "", **options: Any) -> Lead:
    """Move ``lead`` through ``path`` as ``actor`` (reason used where one is needed)."""
    for status in path:
        lead = move_lead(
            actor,
            lead.pk,
            status,
            version=lead.version,
            reason=reason or "test",
            options=MoveOptions(**options),
        )
    return lead
