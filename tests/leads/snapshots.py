"""What a test compares to prove that a refused action changed nothing."""

from __future__ import annotations

from typing import Any

from leadrelay.leads.models import Lead, LeadEvent


def snapshot(lead_id: int) -> dict[str, Any]:
    """The lead's stored row and its number of events, as plain data."""
    row: dict[str, Any] = dict(Lead.objects.filter(pk=lead_id).values().get())
    row["event_count"] = LeadEvent.objects.filter(lead_id=lead_id).count()
    return row
