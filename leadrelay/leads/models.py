"""The lead (an inbound request) and its append-only event log.

The event log is the truth: funnels, SLA clocks and bonuses are computed from it. The
``reached_*_at`` columns are kept current by the domain functions so that dashboards read
one row per lead instead of scanning history (PERFORMANCE.md).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from leadrelay.catalog.models import Company, Contact, Partner, Service, Source
from leadrelay.leads.statuses import STAGE_ORDER, Stage, Status, api_stage


class Lead(models.Model):
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.NEW
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    name = models.CharField(_("name"), max_length=300, blank=True)
    email = models.CharField(_("e-mail"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    company = models.CharField(_("company"), max_length=300, blank=True)
    website = models.CharField(_("website"), max_length=300, blank=True)
    message = models.TextField(_("message"), blank=True)
    attribution = models.JSONField(_("attribution"), default=dict, blank=True)

    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("service")
    )
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("source")
    )
    received_at = models.DateTimeField(_("received"))

    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sdr_leads",
        verbose_name=_("SDR"),
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_leads",
        verbose_name=_("sales manager"),
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="duplicates"
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("partner")
    )
    routed_to = models.ForeignKey(
        "accounts.Department",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("routed to"),
    )
    end_reason = models.TextField(_("reason"), blank=True)
    # The reason as a code from the configurable lists (qualify.ReasonCode): what reports
    # group disqualifications and losses by.
    end_reason_code = models.CharField(_("reason code"), max_length=40, blank=True)
    # Consent as submitted: text version and time given.
    consent = models.JSONField(_("consent"), default=dict, blank=True)
    # Submitted fields that map to nothing: kept so nothing the client typed is lost.
    extra = models.JSONField(_("other fields"), default=dict, blank=True)
    # Why a human should look at this request (no_contact, email_invalid…); empty if none.
    review = models.JSONField(_("needs review"), default=list, blank=True)

    status_changed_at = models.DateTimeField(_("in status since"))
    reached_mql_at = models.DateTimeField(null=True, blank=True)
    reached_sql_at = models.DateTimeField(null=True, blank=True)
    reached_sal_at = models.DateTimeField(null=True, blank=True)
    reached_proposal_at = models.DateTimeField(null=True, blank=True)
    reached_deal_at = models.DateTimeField(null=True, blank=True)
    # The first human touch (a call, an e-mail, a meeting): what stops the 30-minute clock.
    # Sales: the company this lead is a client's request of (set when sales accepts it),
    # the deal's value (the proposal's amount while it is expected, the contract's once
    # converted) and, for a lost lead, who won it.
    client = models.ForeignKey(
        Company,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
        verbose_name=_("client"),
    )
    deal_amount = models.DecimalField(
        _("deal value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    deal_currency = models.CharField(_("currency"), max_length=3, blank=True, default="")
    lost_to = models.CharField(_("competitor"), max_length=200, blank=True, default="")

    first_touch_at = models.DateTimeField(_("first contact"), null=True, blank=True)
    # The running SLA clock's deadline and the moment it turns amber; kept by leadrelay.sla
    # when the lead enters a status, so lists show the countdown without computing it.
    sla_due_at = models.DateTimeField(_("SLA due"), null=True, blank=True)
    sla_warn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["status", "id"], name="lead_status_id"),
            models.Index(fields=["sdr", "id"], name="lead_sdr_id"),
            models.Index(fields=["manager", "id"], name="lead_manager_id"),
            models.Index(fields=["email"], name="lead_email"),
            models.Index(fields=["phone"], name="lead_phone"),
            models.Index(fields=["received_at"], name="lead_received_at"),
            # An SDR's month (My day): what they handed over and what sales made of it.
            # Partial, so a new request costs no write here.
            *(
                models.Index(
                    fields=["sdr", f"reached_{stage}_at"],
                    name=f"lead_sdr_{stage}",
                    condition=models.Q(**{f"reached_{stage}_at__isnull": False}),
                )
                for stage in ("mql", "sql", "sal")
            ),
            # The SDR queue: only requests still on the SDR side, by deadline.
            models.Index(
                fields=["sla_due_at", "received_at", "id"],
                name="lead_sdr_queue",
                condition=models.Q(status__in=["new", "sdr_processing"]),
            ),
            # A manager's board (their open leads by status) and their month's deals and
            # losses. A full index, not a partial one: SQLite cannot use a partial index
            # for a query whose statuses are bound parameters, as Django's are.
            models.Index(
                fields=["manager", "status", "status_changed_at"], name="lead_manager_status"
            ),
            # The assignment queue: MQLs waiting for a manager, oldest first.
            models.Index(
                fields=["status_changed_at", "id"],
                name="lead_mql_queue",
                condition=models.Q(status="awaiting_assignment"),
            ),
            models.Index(fields=["client", "id"], name="lead_client_id"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.name or self.email or self.phone}".strip()

    def reached_at(self, stage: Stage) -> Any:
        return getattr(self, f"reached_{stage.value}_at")

    @property
    def stage(self) -> Stage | None:
        return api_stage({s: self.reached_at(s) is not None for s in STAGE_ORDER})

    @property
    def is_open(self) -> bool:
        from leadrelay.leads.statuses import OPEN

        return self.status in OPEN


class TouchChannel(models.TextChoices):
    """A human touch: the only things that count as contacting a lead."""

    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail sent")
    MEETING = "meeting", _("Meeting")


class CallOutcome(models.TextChoices):
    REACHED = "reached", _("Talked")
    NO_ANSWER = "no_answer", _("No answer")
    BUSY = "busy", _("Busy")
    VOICEMAIL = "voicemail", _("Left a voicemail")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


class LeadEventQuerySet(models.QuerySet["LeadEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("lead events are append-only")

    def delete(self) -> NoReturn:
        raise TypeError("lead events are append-only")


class LeadEvent(models.Model):
    """One fact in a lead's life: who, when, from, to, why, with data. Never changed."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Received")
        STATUS = "status", _("Status changed")
        NOTE = "note", _("Note")
        TOUCH = "touch", _("Contact")
        OWNER = "owner", _("Owner changed")
        QUALIFICATION = "qualification", _("Qualification updated")
        RETURN = "return", _("Return to the SDR")
        ASSIGNMENT = "assignment", _("Assigned to a manager")
        BRIEF = "brief", _("Pre-sale brief")
        DEMO = "demo", _("Demo")
        PROPOSAL = "proposal", _("Proposal")
        CONTRACT = "contract", _("Contract")
        PAYMENT = "payment", _("Payment")

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(_("at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_status = models.CharField(max_length=24, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=Status.choices, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(default=dict, blank=True)

    objects = LeadEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead event")
        verbose_name_plural = _("lead events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at", "id"], name="leadevent_lead_at")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} {self.from_status}->{self.to_status}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("lead events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("lead events are append-only")
