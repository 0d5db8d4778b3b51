"""In-app notifications, outgoing webhook endpoints, and the outbox the worker delivers.

An outbox row is written in the same transaction as the change that causes it, so a
rolled-back change sends nothing and a committed one is never forgotten; the worker
delivers rows after commit, claiming each with a lease so a killed worker's rows are
picked up again. ``dedup_key`` is unique: the same cause never queues a message twice.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadrelay.leads.models import Lead


class Notification(models.Model):
    """A message in a user's notification centre (the bell)."""

    class Kind(models.TextChoices):
        SLA_WARNING = "sla_warning", _("Deadline approaching")
        SLA_BREACH = "sla_breach", _("Deadline missed")
        SLA_ESCALATION = "sla_escalation", _("Escalated")
        WEBHOOK_DEAD = "webhook_dead", _("Webhook delivery failed")
        WEBHOOK_DISABLED = "webhook_disabled", _("Webhook endpoint disabled")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, null=True, blank=True)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    # Facts to render the message in the reader's language (clock kind, due time, …).
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    dedup_key = models.CharField(max_length=200, unique=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                name="notification_unread",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(fields=["user", "-id"], name="notification_user"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class WebhookEndpoint(models.Model):
    """A URL that receives lead events, signed per the Standard Webhooks spec."""

    class Event(models.TextChoices):
        LEAD_CREATED = "lead.created", _("Lead created")
        STATUS_CHANGED = "lead.status_changed", _("Status changed")
        OWNER_CHANGED = "lead.owner_changed", _("Owner changed")
        SLA_BREACHED = "lead.sla_breached", _("SLA breached")

    url = models.URLField(_("URL"), max_length=1000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    secret = models.CharField(_("signing secret"), max_length=100)
    events = models.JSONField(_("events"), default=list)
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


class Outbox(models.Model):
    """One message to deliver: an e-mail, a Telegram message or a webhook call."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        TELEGRAM = "telegram", _("Telegram")
        WEBHOOK = "webhook", _("Webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Failed for good")
        CANCELLED = "cancelled", _("Cancelled")

    channel = models.CharField(max_length=12, choices=Channel.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    lead = models.ForeignKey(Lead, on_delete=models.SET_NULL, null=True, blank=True)
    event = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    # The webhook-id receivers deduplicate on; stays the same across retries.
    message_id = models.CharField(max_length=40, unique=True, default=new_message_id)
    dedup_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Due time while pending; a claim pushes it out by the lease.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["endpoint", "-id"], name="outbox_endpoint"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} {self.status}"
