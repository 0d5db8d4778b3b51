"""Before the proposal: the pre-sale brief the client fills in through a signed link, and
demos, which a service's policy can make mandatory before ``proposal``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead


class BriefTemplate(models.Model):
    """A service's brief: fields in the questionnaire format (``qualify.fields``)."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, related_name="brief_template", verbose_name=_("service")
    )
    fields = models.JSONField(_("fields"), default=list)
    # How long a link sent to the client stays valid.
    link_days = models.PositiveSmallIntegerField(_("link valid for, days"), default=14)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("brief template")
        verbose_name_plural = _("brief templates")

    def __str__(self) -> str:
        return str(self.service)


class Brief(models.Model):
    """One brief for one lead: sent to the client as a link, or filled from a call.

    The fields are copied from the template when the brief is made, so a template edit
    never changes what a client is filling in. The link's token signs ``nonce``; a
    filled, revoked or expired brief accepts nothing.
    """

    class Via(models.TextChoices):
        CLIENT = "client", _("By the client, through the link")
        CALL = "call", _("By the manager, from a call")

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="briefs")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    fields = models.JSONField(default=list)
    values = models.JSONField(default=dict, blank=True)
    nonce = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_to = models.CharField(_("sent to"), max_length=254, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    filled_at = models.DateTimeField(_("filled in"), null=True, blank=True)
    filled_via = models.CharField(max_length=8, choices=Via.choices, blank=True)
    filled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("brief")
        verbose_name_plural = _("briefs")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["lead", "created_at"], name="brief_lead_at")]

    def __str__(self) -> str:
        return f"#{self.lead_id}: {self.service}"


class DemoPolicy(models.Model):
    """A service whose leads must have a demo held before ``proposal``."""

    service = models.OneToOneField(
        Service, on_delete=models.CASCADE, related_name="demo_policy", verbose_name=_("service")
    )
    demo_required = models.BooleanField(_("a demo is required before the proposal"), default=True)

    class Meta:
        verbose_name = _("demo policy")
        verbose_name_plural = _("demo policies")

    def __str__(self) -> str:
        return str(self.service)


class Demo(models.Model):
    class Format(models.TextChoices):
        ONLINE = "online", _("Online")
        OFFICE = "office", _("At our office")
        CLIENT = "client", _("At the client's")

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        HELD = "held", _("Held")
        CANCELLED = "cancelled", _("Cancelled")
        NO_SHOW = "no_show", _("The client did not come")

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="demos")
    starts_at = models.DateTimeField(_("starts"))
    duration_minutes = models.PositiveSmallIntegerField(_("duration, minutes"), default=60)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    # A meeting link for online demos, an address otherwise.
    location = models.CharField(_("link or address"), max_length=500, blank=True)
    # E-mail addresses invited, the client's and colleagues'.
    attendees = models.JSONField(_("attendees"), default=list, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.SCHEDULED
    )
    note = models.TextField(_("note"), blank=True)
    # The invitation's identity and revision (RFC 5545 UID and SEQUENCE).
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("demo")
        verbose_name_plural = _("demos")
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["lead", "starts_at"], name="demo_lead_starts"),
            models.Index(
                fields=["starts_at"], name="demo_scheduled", condition=Q(state="scheduled")
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.lead_id}: {self.starts_at:%Y-%m-%d %H:%M}"
