"""Plain-data views of a lead and its events, shared by the API and the CLI's --json."""

from __future__ import annotations

from typing import Any

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead, LeadEvent


def user_ref(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.display_name}


def lead_dict(lead: Lead) -> dict[str, Any]:
    stage = lead.stage
    return {
        "id": lead.pk,
        "status": lead.status,
        "stage": stage.value if stage else None,
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "company": lead.company,
        "website": lead.website,
        "message": lead.message,
        "attribution": {k: v for k, v in (lead.attribution or {}).items() if v not in ("", None)},
        "source": {"id": lead.source.pk, "kind": lead.source.kind} if lead.source else None,
        "service": lead.service.code if lead.service else None,
        "received_at": lead.received_at,
        "status_changed_at": lead.status_changed_at,
        "sdr": user_ref(lead.sdr),
        "manager": user_ref(lead.manager),
        "duplicate_of": lead.duplicate_of_id,
        "version": lead.version,
        "first_touch_at": lead.first_touch_at,
        "sla_due_at": lead.sla_due_at,
        "end_reason_code": lead.end_reason_code,
    }


def event_dict(event: LeadEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "at": event.at,
        "actor": user_ref(event.actor),
        "kind": event.kind,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "reason": event.reason,
        "data": event.data,
    }
