"""The worker's intake job: finish stored deliveries that have no lead yet.

A delivery waits here when its vendor sends only ids (Meta: the lead's fields are
fetched from the Graph API) or when making its lead failed. Each due row is claimed
with a conditional UPDATE that pushes its ``next_attempt_at`` out by a lease, so any
number of workers can run this at once and a killed worker's claim simply expires.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from leadrelay.catalog.models import Source
from leadrelay.intake.models import Delivery
from leadrelay.intake.receive import RETRY_DELAYS, make_lead, source_config
from leadrelay.intake.vendors import get_vendor, meta
from leadrelay.intake.vendors.base import Malformed, Parsed, RawDelivery

log = logging.getLogger("leadrelay.intake")

LEASE = timedelta(minutes=5)
BATCH = 50
FETCH_TIMEOUT = 10


def claim_due(now: datetime, limit: int = BATCH) -> list[Delivery]:
    due = list(
        Delivery.objects.filter(
            status__in=[Delivery.Status.PENDING, Delivery.Status.FAILED], next_attempt_at__lte=now
        )
        .order_by("next_attempt_at")
        .values_list("pk", "next_attempt_at")[:limit]
    )
    claimed: list[int] = []
    for pk, seen in due:
        won = Delivery.objects.filter(pk=pk, next_attempt_at=seen, lead__isnull=True).update(
            next_attempt_at=now + LEASE
        )
        if won:
            claimed.append(pk)
    return list(Delivery.objects.select_related("source").filter(pk__in=claimed).order_by("pk"))


def _raw(delivery: Delivery) -> RawDelivery:
    from urllib.parse import parse_qs

    return RawDelivery(
        method=delivery.method,
        path="",
        query=parse_qs(delivery.query),
        headers=dict(delivery.headers or {}),
        body=bytes(delivery.body),
        content_type=delivery.content_type,
        received_at=delivery.received_at.timestamp(),
    )


def fetch_meta_lead(source: Source, leadgen_id: str) -> Parsed:
    cfg = source_config(source)
    url = meta.graph_request_url(cfg.config, leadgen_id, app_secret=cfg.secret)
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:
        payload = json.loads(response.read().decode("utf-8"))
    return meta.parse_graph_lead(payload, leadgen_id)


def item_for(delivery: Delivery) -> Parsed:
    """The submission a stored delivery carries, fetched from the vendor if need be."""
    source = delivery.source
    if source.kind == "meta":
        return fetch_meta_lead(source, delivery.event_id)
    items = get_vendor(source.kind).parse(_raw(delivery), source_config(source))
    for item in items:
        if not delivery.event_id or item.event_id == delivery.event_id:
            return item
    raise Malformed("the stored delivery no longer yields its submission")


def process(delivery: Delivery, now: datetime) -> bool:
    try:
        item = item_for(delivery)
    except (OSError, urllib.error.URLError, ValueError, Malformed) as exc:
        delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS) - 1)]
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.FAILED if delivery.attempts else delivery.status,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            attempts=delivery.attempts + 1,
            next_attempt_at=now + timedelta(seconds=delay),
        )
        return False
    with transaction.atomic():
        # Re-read under lock: an admin's "retry now" may have let a second worker claim
        # the same delivery while this one was fetching; only one makes the lead.
        current = Delivery.objects.select_for_update().select_related("source").get(pk=delivery.pk)
        if current.lead_id is not None:
            return True
        make_lead(current, current.source, item, now)
    return current.lead_id is not None


def process_due_deliveries(now: datetime | None = None) -> int:
    now = now or timezone.now()
    handled = 0
    for delivery in claim_due(now):
        process(delivery, now)
        handled += 1
    return handled
