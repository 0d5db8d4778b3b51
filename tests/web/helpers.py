"""Assertions shared by the web tests."""

from __future__ import annotations

from leadrelay.leads.models import Lead, LeadEvent


def state_of(lead: Lead) -> tuple[str, int, int]:
    """What a denied request must leave as it was: status, version, number of events."""
    fresh = Lead.objects.get(pk=lead.pk)
    return fresh.status, fresh.version, LeadEvent.objects.filter(lead_id=lead.pk).count()
