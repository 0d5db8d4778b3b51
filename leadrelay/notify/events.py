"""Outgoing webhook events for lead changes, queued with the change (``leads.hooks``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadrelay.leads.hooks import Change
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.serialize import lead_dict
from leadrelay.notify.models import Outbox, WebhookEndpoint

Event = WebhookEndpoint.Event


def subscribers(event: str) -> list[WebhookEndpoint]:
    """Active endpoints that want this event (an empty list of events means all)."""
    return [
        e for e in WebhookEndpoint.objects.filter(active=True) if not e.events or event in e.events
    ]


def publish(
    event: str, lead: Lead, now: datetime, cause: str, extra: dict[str, Any] | None = None
) -> int:
    """Queue ``event`` for every subscribed endpoint; ``cause`` makes the dedup key."""
    from leadrelay.notify.outbox import enqueue

    endpoints = subscribers(event)
    if not endpoints:
        return 0
    payload = {
        "type": event,
        "timestamp": now,
        "data": {"lead": lead_dict(lead), **(extra or {})},
    }
    for endpoint in endpoints:
        enqueue(
            Outbox.Channel.WEBHOOK,
            dedup_key=f"webhook:{endpoint.pk}:{event}:{cause}",
            event=event,
            payload=payload,
            now=now,
            endpoint=endpoint,
            lead=lead,
        )
    return len(endpoints)


def on_change(change: Change) -> None:
    lead, event = change.lead, change.event
    cause = f"event-{event.pk}"
    if event.kind == LeadEvent.Kind.CREATED:
        publish(Event.LEAD_CREATED, lead, change.now, cause)
        return
    if event.kind == LeadEvent.Kind.STATUS:
        publish(
            Event.STATUS_CHANGED,
            lead,
            change.now,
            cause,
            {"from": change.from_status, "to": lead.status, "reason": event.reason},
        )
    if (lead.sdr_id, lead.manager_id) != (change.sdr_before, change.manager_before) and (
        event.kind
        in (
            LeadEvent.Kind.STATUS,
            LeadEvent.Kind.TOUCH,
            LeadEvent.Kind.OWNER,
            LeadEvent.Kind.ASSIGNMENT,  # the head reassigning a lead in sales
        )
    ):
        publish(
            Event.OWNER_CHANGED,
            lead,
            change.now,
            cause,
            {
                "sdr": {"from": change.sdr_before, "to": lead.sdr_id},
                "manager": {"from": change.manager_before, "to": lead.manager_id},
            },
        )
