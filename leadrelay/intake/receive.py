"""Receiving a delivery: authenticate, parse, store the raw call, then make the lead.

Accepted means stored: the raw delivery row and the lead are written in one
transaction before the caller hears 2xx. If making the lead fails for any reason the
delivery is still committed (as ``failed``) and the worker tries again, so a request we
said yes to is never lost. A vendor's own event id makes a redelivery a no-op that
answers with the original lead, also when twenty copies arrive at once (a unique index
settles the race on both databases).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from leadrelay.catalog.models import Source
from leadrelay.intake.build import lead_from_parsed, prepare_parsed
from leadrelay.intake.models import Delivery, RejectionCounter
from leadrelay.intake.vendors import get_vendor
from leadrelay.intake.vendors.base import Malformed, Parsed, RawDelivery, SourceConfig, Unauthorized
from leadrelay.leads.transitions import NewLead, create_lead

log = logging.getLogger("leadrelay.intake")

# Headers worth keeping with the raw delivery for inspection; never cookies or auth.
_KEPT_HEADERS = frozenset(
    {
        "content-type",
        "user-agent",
        "x-hub-signature-256",
        "typeform-signature",
        "tally-signature",
        "calendly-webhook-signature",
        "idempotency-key",
        "x-forwarded-for",
        "referer",
    }
)
RETRY_DELAYS = (60, 300, 900, 3600, 6 * 3600)


@dataclass
class Outcome:
    http_status: int
    body: dict[str, Any] = field(default_factory=dict)
    text: str | None = None  # a plain-text reply (Meta's verification challenge)
    lead_ids: list[int] = field(default_factory=list)


def source_config(source: Source) -> SourceConfig:
    return SourceConfig(
        kind=source.kind,
        secret=source.secret,
        mapping=dict(source.mapping or {}),
        config=dict(source.config or {}),
    )


def receive(source: Source, raw: RawDelivery, remote_addr: str = "") -> Outcome:
    vendor = get_vendor(source.kind)
    cfg = source_config(source)
    try:
        vendor.authenticate(raw, cfg)
        items = vendor.parse(raw, cfg)
    except Unauthorized as exc:
        return Outcome(401, {"code": "unauthorized", "message": str(exc) or "Bad signature."})
    except Malformed as exc:
        return Outcome(exc.status, {"code": "malformed", "message": str(exc)})
    for item in items:
        if item.reply is not None:
            return Outcome(200, text=item.reply)
    real = [i for i in items if not i.is_test]
    if items and not real:
        return Outcome(200, {"ok": True, "test": True})
    spam = [i for i in real if i.spam]
    for item in spam:
        count_rejection(source, item.spam)
    real = [i for i in real if not i.spam]
    if spam and not real:
        # A bot is told nothing useful; the refusal is counted, nothing is stored.
        return Outcome(200, {"ok": True})
    lead_ids: list[int] = []
    duplicate = False
    pending = False
    for item in real:
        delivery, created = store(source, raw, item, remote_addr)
        duplicate = duplicate or not created
        pending = pending or delivery.status != Delivery.Status.PROCESSED
        if delivery.lead_id is not None:
            lead_ids.append(delivery.lead_id)
    body: dict[str, Any] = {"ok": True, "leads": lead_ids}
    if len(lead_ids) == 1:
        body["lead"] = lead_ids[0]
    if duplicate:
        body["duplicate"] = True
    # 202: stored, but the lead is still to come (fetch or retry by the worker).
    return Outcome(202 if pending and not lead_ids else 200, body, lead_ids=lead_ids)


def store(
    source: Source, raw: RawDelivery, item: Parsed, remote_addr: str, now: datetime | None = None
) -> tuple[Delivery, bool]:
    """Store one submission and make its lead. Returns the delivery and whether it is new.

    Mapping, normalisation and the duplicate lookup only read, so they run before the
    write transaction; inside it are just the inserts (on SQLite the transaction holds
    the database's write lock, so what runs inside decides intake throughput).
    """
    now = now or timezone.now()
    if item.event_id:
        # A redelivery is answered from the first one without any further work.
        known = Delivery.objects.filter(source=source, event_id=item.event_id[:300]).first()
        if known is not None:
            return known, False
    prepared: NewLead | None = None
    problem = ""
    if not item.needs_fetch:
        try:
            prepared = prepare_parsed(source, item, received_at=now)
        except Exception as exc:  # stored is stored: the worker retries, an admin can look
            log.exception("a delivery to source %s could not be prepared", source.pk)
            problem = f"{type(exc).__name__}: {exc}"[:2000]
    delivery = Delivery(
        source=source,
        received_at=now,
        method=raw.method,
        content_type=raw.content_type,
        headers={k: v for k, v in raw.headers.items() if k in _KEPT_HEADERS},
        query=urlencode([(k, v) for k, vs in raw.query.items() for v in vs])[:4000],
        body=raw.body,
        remote_addr=remote_addr[:64],
        event_id=item.event_id[:300],
        status=Delivery.Status.PENDING,
        next_attempt_at=now,
    )
    with transaction.atomic():
        if prepared is not None:
            try:
                # One savepoint for lead and delivery: a second copy of the same vendor
                # event hits the unique index and takes its lead back with it.
                with transaction.atomic():
                    delivery.lead = create_lead(prepared, now=now)
                    delivery.status = Delivery.Status.PROCESSED
                    delivery.next_attempt_at = None
                    delivery.attempts = 1
                    delivery.save(force_insert=True)
                return delivery, True
            except IntegrityError:
                if not item.event_id:
                    raise
                return _existing(source, item.event_id), False
            except DatabaseError:
                raise
            except Exception as exc:
                log.exception("a delivery to source %s could not become a lead", source.pk)
                problem = f"{type(exc).__name__}: {exc}"[:2000]
                delivery.pk = None
                delivery.lead = None
        if problem:
            delivery.status = Delivery.Status.FAILED
            delivery.error = problem
            delivery.attempts = 1
            delivery.next_attempt_at = now + timedelta(seconds=RETRY_DELAYS[0])
        try:
            with transaction.atomic():
                delivery.save(force_insert=True)
        except IntegrityError:
            if not item.event_id:
                raise
            return _existing(source, item.event_id), False
    return delivery, True


def _existing(source: Source, event_id: str) -> Delivery:
    # Another copy of the same event won the race and is committed by now.
    return Delivery.objects.get(source=source, event_id=event_id[:300])


def make_lead(delivery: Delivery, source: Source, item: Parsed, now: datetime) -> None:
    """Turn a stored delivery into its lead; on failure keep it for the worker's retry."""
    try:
        with transaction.atomic():
            lead = lead_from_parsed(source, item, received_at=delivery.received_at, now=now)
            delivery.lead = lead
            delivery.status = Delivery.Status.PROCESSED
            delivery.error = ""
            delivery.next_attempt_at = None
    except Exception as exc:  # stored is stored: the worker retries, an admin can inspect
        log.exception("delivery %s could not become a lead", delivery.pk)
        delivery.status = Delivery.Status.FAILED
        delivery.error = f"{type(exc).__name__}: {exc}"[:2000]
        delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS) - 1)]
        delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.attempts += 1
    delivery.save(update_fields=["lead", "status", "error", "next_attempt_at", "attempts"])


def count_rejection(source: Source, reason: str) -> None:
    today = timezone.localdate()
    with transaction.atomic():
        updated = RejectionCounter.objects.filter(source=source, day=today, reason=reason).update(
            count=F("count") + 1
        )
        if not updated:
            try:
                with transaction.atomic():
                    RejectionCounter.objects.create(
                        source=source, day=today, reason=reason, count=1
                    )
            except IntegrityError:
                RejectionCounter.objects.filter(source=source, day=today, reason=reason).update(
                    count=F("count") + 1
                )
