"""The SDR queue: incoming requests by deadline, and round-robin among SDRs on shift."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.queries import SDR_INCOMING, visible_leads
from leadrelay.leads.transitions import _changed
from leadrelay.qualify.models import SdrQueueSettings

BATCH = 100


def incoming(user: User) -> QuerySet[Lead]:
    """The requests on the SDR side this user sees, the nearest deadline first.

    Requests whose clock has stopped (contacted, being qualified) come after those still
    racing it, oldest first. The partial index ``lead_sdr_queue`` holds just these rows,
    so the page stays fast however many leads have ended.
    """
    return (
        visible_leads(user)
        .filter(status__in=SDR_INCOMING)
        .order_by(F("sla_due_at").asc(nulls_last=True), "received_at", "id")
    )


def on_shift_sdrs() -> list[User]:
    return list(User.objects.filter(role=Role.SDR, is_active=True, on_shift=True).order_by("pk"))


def _next(sdrs: list[User], last_id: int | None) -> User:
    for sdr in sdrs:
        if last_id is None or sdr.pk > last_id:
            return sdr
    return sdrs[0]


def auto_assign(now: datetime | None = None, limit: int = BATCH) -> int:
    """Give unclaimed new requests to SDRs on shift in turn, oldest request first.

    Does nothing unless the queue's mode is round-robin. Safe with many workers: the
    settings row is locked for the batch, and each lead is taken only while unowned.
    """
    now = now or timezone.now()
    if SdrQueueSettings.get().mode != SdrQueueSettings.Mode.ROUND_ROBIN:
        return 0
    sdrs = on_shift_sdrs()
    if not sdrs:
        return 0
    done = 0
    with transaction.atomic():
        settings_row = SdrQueueSettings.objects.select_for_update().get(pk=1)
        candidates = Lead.objects.filter(status="new", sdr__isnull=True).order_by(
            "received_at", "id"
        )
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        last = settings_row.last_sdr_id
        for lead in list(candidates[:limit]):
            sdr = _next(sdrs, last)
            taken = Lead.objects.filter(pk=lead.pk, sdr__isnull=True, version=lead.version).update(
                sdr=sdr, version=lead.version + 1
            )
            if taken != 1:
                continue
            event = LeadEvent.objects.create(
                lead=lead,
                at=now,
                actor=None,
                kind=LeadEvent.Kind.OWNER,
                data={
                    "version": lead.version + 1,
                    "sdr": sdr.pk,
                    "sdr_before": None,
                    "why": "round_robin",
                },
            )
            _changed(lead, event, None, now, from_status=lead.status)
            last = sdr.pk
            done += 1
        if done:
            SdrQueueSettings.objects.filter(pk=1).update(last_sdr_id=last)
    return done


@dataclass(frozen=True)
class SdrMonth:
    """One SDR's month: what they handed over and how sales took it."""

    handed_off: int
    accepted: int
    returned: int
    sql: int
    sal: int


def sdr_month(user: User, start: datetime, end: datetime) -> SdrMonth:
    from leadrelay.qualify.models import Return

    mine = Lead.objects.filter(sdr=user)
    return SdrMonth(
        handed_off=mine.filter(reached_mql_at__gte=start, reached_mql_at__lt=end).count(),
        accepted=mine.filter(
            reached_mql_at__gte=start, reached_mql_at__lt=end, reached_sql_at__isnull=False
        ).count(),
        returned=Return.objects.filter(
            sdr=user, returned_at__gte=start, returned_at__lt=end
        ).count(),
        sql=mine.filter(reached_sql_at__gte=start, reached_sql_at__lt=end).count(),
        sal=mine.filter(reached_sal_at__gte=start, reached_sal_at__lt=end).count(),
    )
