"""Queueing messages in the outbox (inside the caller's transaction) and delivering them.

``deliver_due`` is the worker's job. It claims due rows with a lease — ``SELECT … FOR
UPDATE SKIP LOCKED`` on PostgreSQL, a conditional UPDATE on SQLite — sends them outside
any transaction, and records the outcome. A worker killed after sending but before
recording leaves the row to be claimed again when the lease runs out, so a receiver may
see a message twice, never lose it; webhooks carry a stable ``webhook-id`` to dedupe on.
"""

from __future__ import annotations

import json
import logging
import os
import random
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone, translation

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead
from leadrelay.notify import channels
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint

log = logging.getLogger("leadrelay.notify")

# How long a claimed row is a worker's: after that another worker sends it again.
LEASE = timedelta(seconds=float(os.environ.get("LEADRELAY_OUTBOX_LEASE_SECONDS", "120")))
BATCH = 100
SENDERS = 8
_rng = random.Random()


def plain(data: Any) -> Any:
    """JSON-safe data (datetimes as ISO 8601) for a JSONField."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def enqueue(
    channel: str,
    *,
    dedup_key: str,
    event: str,
    payload: dict[str, Any],
    now: datetime,
    user: User | None = None,
    endpoint: WebhookEndpoint | None = None,
    lead: Lead | None = None,
) -> None:
    """Queue one message in the current transaction; the same ``dedup_key`` queues nothing."""
    Outbox.objects.bulk_create(
        [
            Outbox(
                channel=channel,
                user=user,
                endpoint=endpoint,
                lead=lead,
                event=event,
                payload=plain(payload),
                dedup_key=dedup_key[:200],
                created_at=now,
                next_attempt_at=now,
            )
        ],
        ignore_conflicts=True,
    )


def notify(
    users: Iterable[User],
    kind: str,
    *,
    dedup_key: str,
    now: datetime,
    lead: Lead | None = None,
    data: dict[str, Any] | None = None,
) -> int:
    """Tell users something: in the app always, by e-mail and Telegram where they can be
    reached. Three INSERTs whatever the number of people. Returns how many were told."""
    data = plain(data or {})
    people = [u for u in {u.pk: u for u in users}.values() if u.is_active]
    payload = {"kind": kind, "lead": lead.pk if lead else None, "data": data}
    telegram = bool(settings.LEADRELAY_TELEGRAM_BOT_TOKEN)
    notes, messages = [], []
    for user in people:
        key = f"{dedup_key}:{user.pk}"
        notes.append(
            Notification(user=user, lead=lead, kind=kind, data=data, created_at=now, dedup_key=key)
        )
        channels_of_user = [(Outbox.Channel.EMAIL, bool(user.email))]
        channels_of_user.append((Outbox.Channel.TELEGRAM, telegram and bool(user.telegram_chat_id)))
        for channel, reachable in channels_of_user:
            if reachable:
                messages.append(
                    Outbox(
                        channel=channel,
                        user=user,
                        lead=lead,
                        event=kind,
                        payload=payload,
                        dedup_key=f"{channel}:{key}"[:200],
                        created_at=now,
                        next_attempt_at=now,
                    )
                )
    Notification.objects.bulk_create(notes, ignore_conflicts=True)
    Outbox.objects.bulk_create(messages, ignore_conflicts=True)
    return len(people)


def admins() -> list[User]:
    return list(User.objects.filter(is_active=True, role=Role.ADMIN)) or list(
        User.objects.filter(is_active=True, is_superuser=True)
    )


# Delivery ------------------------------------------------------------------------------


def claim(now: datetime, limit: int = BATCH) -> list[Outbox]:
    due = Outbox.objects.filter(status=Outbox.Status.PENDING, next_attempt_at__lte=now)
    lease_end = now + LEASE
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            rows = list(
                due.order_by("next_attempt_at")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:limit]
            )
            Outbox.objects.filter(pk__in=rows).update(next_attempt_at=lease_end)
    else:
        rows = []
        for pk, seen in due.order_by("next_attempt_at").values_list("pk", "next_attempt_at")[
            :limit
        ]:
            won = Outbox.objects.filter(
                pk=pk, status=Outbox.Status.PENDING, next_attempt_at=seen
            ).update(next_attempt_at=lease_end)
            if won:
                rows.append(pk)
    return list(
        Outbox.objects.filter(pk__in=rows).select_related("user", "endpoint", "lead").order_by("pk")
    )


def render(row: Outbox) -> tuple[str, str]:
    """Subject and text of a message to a person, in the site's language (or as written
    when it was queued: a client's brief link, a demo invitation)."""
    from leadrelay.notify.texts import notification_text

    if "subject" in row.payload and "text" in row.payload:
        return str(row.payload["subject"]), str(row.payload["text"])
    with translation.override(settings.LANGUAGE_CODE):
        return notification_text(row.event, row.payload.get("data") or {}, row.payload.get("lead"))


def send(row: Outbox) -> channels.SendResult:
    """Deliver one row; never raises for a failure on the other side."""
    try:
        if row.channel == Outbox.Channel.WEBHOOK:
            endpoint = row.endpoint
            if endpoint is None or not endpoint.active:
                return channels.SendResult(
                    ok=False, status=None, retry_after=None, error="endpoint gone", gone=True
                )
            body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
            return channels.post_webhook(
                endpoint.url,
                endpoint.secret,
                row.message_id,
                body,
                timestamp=int(timezone.now().timestamp()),
                timeout=settings.LEADRELAY_WEBHOOK_TIMEOUT,
                require_https=settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS,
                allow_private=settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE,
            )
        subject, text = render(row)
        user = row.user
        # A message to someone outside the app (a partner, a group company's contact)
        # carries its address; everyone else is reached through their account.
        address = user.email if user is not None else str(row.payload.get("to") or "")
        if user is None and not (row.channel == Outbox.Channel.EMAIL and address):
            return channels.SendResult(
                ok=False, status=None, retry_after=None, error="no recipient", gone=True
            )
        if row.channel == Outbox.Channel.EMAIL and row.payload.get("attachments"):
            # Files written when the message was queued, e.g. a demo's .ics invitation.
            email = EmailMessage(subject, text, None, [address])
            for item in row.payload["attachments"]:
                email.attach(item["filename"], item["content"], item["content_type"])
            email.send()
            return channels.SendResult(ok=True, status=None, retry_after=None, error="", gone=False)
        if row.channel == Outbox.Channel.EMAIL:
            send_mail(subject, text, None, [address])
            return channels.SendResult(ok=True, status=None, retry_after=None, error="", gone=False)
        assert user is not None
        return channels.send_telegram(
            settings.LEADRELAY_TELEGRAM_API,
            settings.LEADRELAY_TELEGRAM_BOT_TOKEN,
            user.telegram_chat_id,
            f"{subject}\n{text}",
        )
    except Exception as exc:  # a sender bug must not kill the worker: retry, then dead letter
        log.exception("sending outbox row %s failed", row.pk)
        return channels.SendResult(
            ok=False,
            status=None,
            retry_after=None,
            error=f"{type(exc).__name__}: {exc}",
            gone=False,
        )


def record(row: Outbox, result: channels.SendResult, now: datetime) -> None:
    attempts = row.attempts + 1
    base = Outbox.objects.filter(pk=row.pk, status=Outbox.Status.PENDING)
    if result.ok:
        base.update(
            status=Outbox.Status.DELIVERED,
            attempts=attempts,
            delivered_at=now,
            next_attempt_at=None,
            last_status=result.status,
            last_error="",
        )
        return
    error = (result.error or f"HTTP {result.status}")[:2000]
    if result.gone and row.channel == Outbox.Channel.WEBHOOK and row.endpoint is not None:
        disable_endpoint(row.endpoint, f"HTTP 410 Gone at {now:%Y-%m-%d %H:%M} UTC", now)
        base.update(
            status=Outbox.Status.CANCELLED,
            attempts=attempts,
            next_attempt_at=None,
            last_status=result.status,
            last_error=error,
        )
        return
    delay = channels.next_retry_delay(attempts, result.retry_after, _rng)
    if delay is None or result.gone:
        with transaction.atomic():
            updated = base.update(
                status=Outbox.Status.DEAD,
                attempts=attempts,
                next_attempt_at=None,
                last_status=result.status,
                last_error=error,
            )
            if updated and row.channel == Outbox.Channel.WEBHOOK:
                notify(
                    admins(),
                    Notification.Kind.WEBHOOK_DEAD,
                    dedup_key=f"dead:{row.pk}",
                    now=now,
                    lead=row.lead,
                    data={"url": row.endpoint.url if row.endpoint else "", "error": error},
                )
        return
    base.update(
        attempts=attempts,
        next_attempt_at=now + timedelta(seconds=delay),
        last_status=result.status,
        last_error=error,
    )


def disable_endpoint(endpoint: WebhookEndpoint, reason: str, now: datetime) -> None:
    with transaction.atomic():
        updated = WebhookEndpoint.objects.filter(pk=endpoint.pk, active=True).update(
            active=False, disabled_reason=reason[:300]
        )
        Outbox.objects.filter(endpoint=endpoint, status=Outbox.Status.PENDING).update(
            status=Outbox.Status.CANCELLED, next_attempt_at=None
        )
        if updated:
            notify(
                admins(),
                Notification.Kind.WEBHOOK_DISABLED,
                dedup_key=f"disabled:{endpoint.pk}:{now.timestamp()}",
                now=now,
                data={"url": endpoint.url, "reason": reason},
            )


def deliver_due(now: datetime | None = None) -> int:
    """The worker's job: one batch of due messages, sent in parallel."""
    rows = claim(now or timezone.now())
    if not rows:
        return 0
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(rows))) as pool:
        results = list(pool.map(send, rows))
    done = timezone.now() if now is None else now
    # One commit for the batch: on PostgreSQL a commit per row costs a WAL flush each.
    with transaction.atomic():
        for row, result in zip(rows, results, strict=True):
            record(row, result, done)
    return len(rows)


def next_due() -> datetime | None:
    """When the next pending message falls due (its retry time, or now)."""
    return (
        Outbox.objects.filter(status=Outbox.Status.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
