"""Money: the commercial proposal (КП) and its versions, the contract, and the payments
(billing charges) that average check, LT, bonuses and partner commission come from.

Money is a Decimal with a currency, always.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from leadrelay.catalog.models import Company, Service
from leadrelay.leads.models import Lead

CURRENCIES = (("RUB", "RUB"), ("USD", "USD"), ("EUR", "EUR"), ("KZT", "KZT"), ("BYN", "BYN"))


def money(verbose: Any = None, **kwargs: Any) -> Any:
    """A money amount: 12 digits before the point, 2 after (the currency is beside it)."""
    return models.DecimalField(verbose, max_digits=14, decimal_places=2, **kwargs)


class Proposal(models.Model):
    """One version of a lead's proposal. A revision is a new row with the next
    ``version``; the highest version is the current one, earlier ones stay as sent."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="proposals")
    version = models.PositiveIntegerField(_("version"))
    amount = money(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="RUB")
    # How long the work runs, in months (a retainer's term); None: one-off work.
    term_months = models.PositiveSmallIntegerField(_("term, months"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="draft")
    note = models.TextField(_("note"), blank=True)
    attachment = models.FileField(_("file"), upload_to="proposals/%Y/%m/", blank=True)
    attachment_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["lead", "version"]
        constraints = [
            models.UniqueConstraint(fields=["lead", "version"], name="proposal_lead_version"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="proposal_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"#{self.lead_id} v{self.version}"


class ProposalItem(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="items")
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("service")
    )
    description = models.CharField(_("description"), max_length=500, blank=True)
    amount = money(_("amount"))
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("proposal item")
        verbose_name_plural = _("proposal items")
        ordering = ["proposal", "order", "id"]

    def __str__(self) -> str:
        return self.description or str(self.service or "")


class Contract(models.Model):
    class Kind(models.TextChoices):
        RETAINER = "retainer", _("Retainer (monthly)")
        ONE_OFF = "one_off", _("One-off project")

    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, related_name="contract")
    client = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    number = models.CharField(_("contract number"), max_length=64)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    signed_on = models.DateField(_("signed"))
    starts_on = models.DateField(_("work starts"))
    ends_on = models.DateField(_("work ends"), null=True, blank=True)
    value = money(_("contract value"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES, default="RUB")
    # For a retainer: the monthly fee.
    monthly_fee = money(_("monthly fee"), null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="contract_value_positive"),
            # One number, one contract, however it is capitalised.
            models.UniqueConstraint(Lower("number"), name="contract_number_ci"),
        ]

    def __str__(self) -> str:
        return self.number


class Payment(models.Model):
    """One billing charge paid by the client. A client's LT is the number of these."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        CSV = "csv", _("CSV import")
        API = "api", _("API")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="payments")
    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="payments")
    client = models.ForeignKey(
        Company, on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    paid_on = models.DateField(_("paid"))
    amount = money(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCIES)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period to"))
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    # The billing system's id: the same charge imported or posted twice is stored once.
    external_id = models.CharField(_("external id"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["paid_on", "id"]
        indexes = [
            models.Index(fields=["lead", "paid_on"], name="payment_lead_paid"),
            models.Index(fields=["client", "paid_on"], name="payment_client_paid"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="payment_period"
            ),
            models.UniqueConstraint(
                fields=["contract", "external_id"],
                condition=~Q(external_id=""),
                name="payment_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract}: {self.amount} {self.currency} ({self.paid_on})"
