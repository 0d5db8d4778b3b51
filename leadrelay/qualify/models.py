"""What the SDR team records about a request: BANT, questionnaire answers, how it ended.

Questionnaires are versioned: a published version never changes, a lead's answers point
at the version they were given against, and editing a questionnaire publishes a new one.
Reason codes and the need taxonomy are lists admins keep; leads store the code.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from leadrelay.accounts.models import Department
from leadrelay.catalog.models import Partner, Service
from leadrelay.leads.models import Lead


def _ru() -> bool:
    return (get_language() or "").startswith("ru")


class Named(models.Model):
    """A configurable list entry with a stable code and a name in both languages."""

    code = models.SlugField(_("code"), max_length=40)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name_ru if _ru() else self.name_en


class ReasonCode(Named):
    class Kind(models.TextChoices):
        DISQUALIFY = "disqualify", _("Disqualification")
        RETURN = "return", _("Return to the SDR")
        LOST = "lost", _("Lost deal")

    kind = models.CharField(_("used for"), max_length=20, choices=Kind.choices)

    class Meta:
        verbose_name = _("reason code")
        verbose_name_plural = _("reason codes")
        ordering = ["kind", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="reason_kind_code")]


class NeedCategory(Named):
    """The client's task, from a taxonomy the agency keeps (BANT's N)."""

    class Meta:
        verbose_name = _("need")
        verbose_name_plural = _("needs")
        ordering = ["order", "code"]
        constraints = [models.UniqueConstraint(fields=["code"], name="need_code")]


class Questionnaire(models.Model):
    """The common block every request gets, or the questions of one service."""

    service = models.OneToOneField(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="questionnaire",
        verbose_name=_("service"),
    )
    # The common block: exactly one, the one with no service.
    common = models.BooleanField(_("common block"), default=False)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        constraints = [
            models.UniqueConstraint(
                fields=["common"], condition=Q(common=True), name="one_common_questionnaire"
            ),
            models.CheckConstraint(
                condition=Q(common=True, service__isnull=True)
                | Q(common=False, service__isnull=False),
                name="questionnaire_common_xor_service",
            ),
        ]

    def __str__(self) -> str:
        return str(_("Common block")) if self.common else str(self.service)

    def current(self) -> QuestionnaireVersion | None:
        return self.versions.order_by("-number").first()


class QuestionnaireVersion(models.Model):
    """One published set of questions; never changed once written."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.PROTECT, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    # [{"key", "type", "label_en", "label_ru", "help_en", "help_ru", "required",
    #   "choices": [{"value", "label_en", "label_ru"}]}] in display order.
    fields = models.JSONField(default=list)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "number"], name="qversion_number")
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("a published questionnaire version is never changed")
        super().save(*args, **kwargs)


class Answers(models.Model):
    """A lead's answers to one questionnaire, against the version they were given to."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="answers")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT, related_name="+")
    version = models.ForeignKey(QuestionnaireVersion, on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(default=dict)
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("answers")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(fields=["lead", "questionnaire"], name="answers_lead_q")
        ]

    def __str__(self) -> str:
        return f"answers of lead {self.lead_id} to {self.questionnaire_id}"


class BudgetBand(models.TextChoices):
    UNDER_100K = "lt_100k", _("under 100,000")
    FROM_100K = "100k_300k", _("100,000–300,000")
    FROM_300K = "300k_1m", _("300,000–1,000,000")
    FROM_1M = "1m_3m", _("1,000,000–3,000,000")
    OVER_3M = "gt_3m", _("over 3,000,000")


class TimeframeBand(models.TextChoices):
    NOW = "now", _("Now, within two weeks")
    MONTH = "month", _("Within a month")
    QUARTER = "quarter", _("Within a quarter")
    LATER = "later", _("Later than a quarter")
    UNKNOWN = "unknown", _("No date yet")


class Bant(models.Model):
    """Budget, authority, need, timeframe: what makes a request an MQL."""

    lead = models.OneToOneField(Lead, on_delete=models.PROTECT, related_name="bant")
    budget_amount = models.DecimalField(
        _("budget"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    budget_band = models.CharField(
        _("budget band"), max_length=12, choices=BudgetBand.choices, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="RUB")
    authority_role = models.CharField(_("contact's role"), max_length=200, blank=True)
    decision_maker = models.BooleanField(_("decision maker"), null=True, blank=True)
    need = models.ForeignKey(
        NeedCategory, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("need")
    )
    need_text = models.TextField(_("the client's task"), blank=True)
    timeframe_date = models.DateField(_("start date"), null=True, blank=True)
    timeframe_band = models.CharField(
        _("timeframe"), max_length=12, choices=TimeframeBand.choices, blank=True
    )
    updated_at = models.DateTimeField()
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("BANT")
        verbose_name_plural = _("BANT")

    def __str__(self) -> str:
        return f"BANT of lead {self.lead_id}"


class DepartmentContact(models.Model):
    """Who hears about a request routed to a group company or another department."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("department")
    )
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))

    class Meta:
        verbose_name = _("department contact")
        verbose_name_plural = _("department contacts")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class Referral(models.Model):
    """A request handed to a partner: the line the commission ledger will grow from."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="referrals")
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("partner")
    )
    reason = models.TextField(_("reason"), blank=True)
    referred_at = models.DateTimeField(_("referred"))
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Percent agreed at the time of the referral: later edits of the partner don't move it.
    commission_percent = models.DecimalField(max_digits=5, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [models.Index(fields=["partner", "referred_at"], name="referral_partner_at")]

    def __str__(self) -> str:
        return f"lead {self.lead_id} → {self.partner_id}"


class Routing(models.Model):
    """A request handed to a group company or another department."""

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="routings")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    reason = models.TextField(_("reason"), blank=True)
    routed_at = models.DateTimeField(_("routed"))
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("routing")
        verbose_name_plural = _("routings")

    def __str__(self) -> str:
        return f"lead {self.lead_id} → {self.department_id}"


class Return(models.Model):
    """Sales sent an MQL back; the SDR accepts it or disputes it, a head settles disputes."""

    class State(models.TextChoices):
        OPEN = "open", _("Awaiting the SDR")
        ACCEPTED = "accepted", _("Accepted by the SDR")
        DISPUTED = "disputed", _("Disputed, awaiting a head")
        UPHELD = "upheld", _("Return upheld")
        OVERTURNED = "overturned", _("Return overturned, back to sales")

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="returns")
    from_status = models.CharField(max_length=24)
    returned_at = models.DateTimeField(_("returned"))
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="returns_received",
    )
    reason_code = models.CharField(_("reason code"), max_length=40)
    reason = models.TextField(_("reason"), blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default="open")
    sdr_note = models.TextField(_("SDR's note"), blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    judge_note = models.TextField(_("decision"), blank=True)
    judged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("return")
        verbose_name_plural = _("returns")
        indexes = [
            models.Index(fields=["sdr", "state"], name="return_sdr_state"),
            models.Index(fields=["state"], name="return_state"),
        ]

    def __str__(self) -> str:
        return f"return of lead {self.lead_id}: {self.state}"


class SdrQueueSettings(models.Model):
    """How new requests reach SDRs: manual claims, or round-robin among those on shift."""

    class Mode(models.TextChoices):
        MANUAL = "manual", _("SDRs claim requests themselves")
        ROUND_ROBIN = "round_robin", _("Round-robin among SDRs on shift")

    mode = models.CharField(_("assignment"), max_length=12, choices=Mode.choices, default="manual")
    # The SDR who got the last request, so the next goes to the one after.
    last_sdr = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The "requests with no end" report lists those older than this many working hours.
    stale_hours = models.PositiveIntegerField(
        _("a request has no end after, working hours"), default=8
    )

    class Meta:
        verbose_name = _("SDR queue settings")
        verbose_name_plural = _("SDR queue settings")

    def __str__(self) -> str:
        return str(self.get_mode_display())

    @classmethod
    def get(cls) -> SdrQueueSettings:
        """The settings; the defaults (unsaved) until someone changes them."""
        return cls.objects.filter(pk=1).first() or cls(pk=1)
