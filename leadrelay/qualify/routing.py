"""Where a request ends: the records and messages a referral, a routing or a return leaves.

Runs as a ``leads.hooks`` hook, so the rows and the outbox messages commit with the move
that caused them, whichever door (web, API, CLI) the move came through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Partner
from leadrelay.leads.hooks import Change
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.queries import SDR_INCOMING
from leadrelay.leads.statuses import Status, find
from leadrelay.notify.models import Outbox
from leadrelay.notify.outbox import enqueue, notify
from leadrelay.qualify.handoff import is_return
from leadrelay.qualify.models import DepartmentContact, Referral, Return, Routing, SdrQueueSettings
from leadrelay.sla.calendar import SEARCH_LIMIT_DAYS, BusinessCalendar


def on_change(change: Change) -> None:
    lead, event, now = change.lead, change.event, change.now
    if event.kind == LeadEvent.Kind.OWNER:
        if event.data.get("why") in ("reassigned", "round_robin") and lead.sdr is not None:
            notify(
                [lead.sdr],
                "lead_assigned_sdr",
                dedup_key=f"event-{event.pk}",
                now=now,
                lead=lead,
                data={"why": event.data.get("why")},
            )
        return
    if event.kind != LeadEvent.Kind.STATUS:
        return
    target = lead.status
    if target == Status.REFERRED and lead.partner_id is not None:
        _referred(change)
    elif target == Status.ROUTED and lead.routed_to_id is not None:
        _routed(change)
    move = find(change.from_status, target)
    if change.actor is not None and move is not None and is_return(change.actor, move):
        _returned(change)
    if change.from_status == Status.SDR_PROCESSING and target == Status.AWAITING_ASSIGNMENT:
        _reworked(change)


def _email(address: str, kind: str, event: LeadEvent, lead: Lead, data: dict[str, str]) -> None:
    enqueue(
        Outbox.Channel.EMAIL,
        dedup_key=f"{kind}:{event.pk}:{address}",
        event=kind,
        payload={"kind": kind, "to": address, "lead": lead.pk, "data": data},
        now=event.at,
        lead=lead,
    )


def _referred(change: Change) -> None:
    lead, event = change.lead, change.event
    assert lead.partner_id is not None
    partner = Partner.objects.get(pk=lead.partner_id)
    Referral.objects.create(
        lead=lead,
        partner=partner,
        reason=event.reason,
        referred_at=event.at,
        referred_by=change.actor,
        commission_percent=partner.commission_percent,
    )
    data = {"partner": partner.name, "reason": event.reason, "company": lead.company}
    if partner.contact_email:
        _email(partner.contact_email, "lead_referred", event, lead, data)
    notify(
        User.objects.filter(role=Role.PARTNER_MANAGER, is_active=True),
        "lead_referred",
        dedup_key=f"event-{event.pk}",
        now=event.at,
        lead=lead,
        data=data,
    )


def _routed(change: Change) -> None:
    lead, event = change.lead, change.event
    assert lead.routed_to_id is not None
    Routing.objects.create(
        lead=lead,
        department_id=lead.routed_to_id,
        reason=event.reason,
        routed_at=event.at,
        routed_by=change.actor,
    )
    data = {"reason": event.reason, "company": lead.company}
    for contact in DepartmentContact.objects.filter(department_id=lead.routed_to_id):
        _email(contact.email, "lead_routed", event, lead, data)


def _returned(change: Change) -> None:
    lead, event = change.lead, change.event
    ret = Return.objects.create(
        lead=lead,
        from_status=change.from_status,
        returned_at=event.at,
        returned_by=change.actor,
        sdr_id=lead.sdr_id,
        reason_code=str(event.data.get("reason_code", "")),
        reason=event.reason,
    )
    if lead.sdr is not None:
        notify(
            [lead.sdr],
            "lead_returned",
            dedup_key=f"return-{ret.pk}",
            now=event.at,
            lead=lead,
            data={"reason_code": ret.reason_code, "reason": ret.reason},
        )


def _reworked(change: Change) -> None:
    """Handing a returned lead off again accepts the return: the rework is the answer."""
    lead, event = change.lead, change.event
    for ret in Return.objects.filter(lead=lead, state=Return.State.OPEN):
        ret.state = Return.State.ACCEPTED
        ret.decided_at = event.at
        ret.save(update_fields=["state", "decided_at"])
        LeadEvent.objects.create(
            lead=lead,
            at=event.at,
            actor=change.actor,
            kind=LeadEvent.Kind.RETURN,
            data={"return": ret.pk, "state": ret.state, "reason_code": ret.reason_code},
        )


# Requests that have not ended -----------------------------------------------------------


def working_cutoff(cal: BusinessCalendar, now: datetime, hours: float) -> datetime:
    """The latest moment from which at least ``hours`` working hours have passed by now."""
    need = timedelta(hours=hours)
    if need <= timedelta(0):
        return now
    lo, hi = now - timedelta(days=14) - need * 4, now  # elapsed(lo, now) >= need, (hi) < need
    while cal.elapsed(lo, now) < need:
        lo -= timedelta(days=30)
        if now - lo > timedelta(days=SEARCH_LIMIT_DAYS):  # a calendar with no working time
            return lo
    while hi - lo > timedelta(seconds=30):
        mid = lo + (hi - lo) / 2
        if cal.elapsed(mid, now) >= need:
            lo = mid
        else:
            hi = mid
    return lo


@dataclass(frozen=True)
class Unended:
    hours: int
    cutoff: datetime
    leads: QuerySet[Lead]


def unended(
    cal: BusinessCalendar,
    now: datetime | None = None,
    hours: int | None = None,
    visible: QuerySet[Lead] | None = None,
) -> Unended:
    """Requests still on the SDR side after ``hours`` working hours (default: settings)."""
    now = now or timezone.now()
    if hours is None:
        hours = SdrQueueSettings.get().stale_hours
    cutoff = working_cutoff(cal, now, hours)
    base = visible if visible is not None else Lead.objects.all()
    leads = base.filter(status__in=SDR_INCOMING, received_at__lte=cutoff).order_by(
        "received_at", "id"
    )
    return Unended(hours=hours, cutoff=cutoff, leads=leads)
