"""Raw deliveries: every accepted intake call, stored before we answer 2xx."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadrelay.catalog.models import Source
from leadrelay.leads.models import Lead


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # stored; the worker still has work (Meta fetch)
        PROCESSED = "processed", _("Processed")  # became a lead
        FAILED = "failed", _("Failed")  # stored, but could not become a lead yet

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="deliveries")
    received_at = models.DateTimeField(_("received"), db_index=True)
    method = models.CharField(max_length=8)
    content_type = models.CharField(max_length=200, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    query = models.CharField(max_length=4000, blank=True)
    body = models.BinaryField()
    remote_addr = models.CharField(max_length=64, blank=True)
    # The vendor's own id for this submission; a second delivery with it is a no-op.
    event_id = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lead = models.ForeignKey(
        Lead, on_delete=models.PROTECT, null=True, blank=True, related_name="deliveries"
    )

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "event_id"],
                condition=~Q(event_id=""),
                name="delivery_unique_vendor_event",
            )
        ]
        indexes = [
            # The worker's queue: only unfinished deliveries are indexed.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=Q(status__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.pk} {self.status}"


class RejectionCounter(models.Model):
    """Submissions refused as spam or abuse, counted per source, day and reason."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reason = models.CharField(max_length=40)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "day", "reason"], name="rejection_unique")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.day} {self.reason}: {self.count}"


class RateWindow(models.Model):
    """A fixed one-minute window of calls per key (e.g. per client IP), shared by every
    process through the database."""

    key = models.CharField(max_length=200)
    window = models.BigIntegerField()  # unix minute
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="ratewindow_unique")]

    def __str__(self) -> str:
        return f"{self.key}@{self.window}: {self.count}"
