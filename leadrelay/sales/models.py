"""Who in sales gets an MQL: the head's strategy and rules, each manager's capacity,
weight, languages and shift, absences, and a record of every assignment with its why."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead
from leadrelay.qualify.models import BudgetBand


class Strategy(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round-robin")
    WEIGHTED = "weighted", _("Weighted")
    LEAST_LOADED = "least_loaded", _("Least loaded")


class AssignmentSettings(models.Model):
    """One row: how MQLs reach sales managers. ``get()`` returns it (unsaved default
    when none exists); the worker locks it while assigning, so runs take turns."""

    class Mode(models.TextChoices):
        MANUAL = "manual", _("The head of sales assigns by hand")
        AUTO = "auto", _("Automatically, by the strategy and rules")

    mode = models.CharField(_("assignment"), max_length=12, choices=Mode.choices, default="manual")
    strategy = models.CharField(
        _("strategy"), max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN
    )
    # A manager with this many open leads gets no more (a profile's own cap wins).
    default_cap = models.PositiveIntegerField(_("open leads per manager, at most"), default=300)
    # Round-robin's cursor: the manager who got the last lead.
    last_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Weighted round-robin's running credits per manager id (smooth weighted RR).
    credits = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("assignment settings")
        verbose_name_plural = _("assignment settings")

    def __str__(self) -> str:
        return str(_("Assignment settings"))

    @classmethod
    def get(cls) -> AssignmentSettings:
        return cls.objects.order_by("pk").first() or cls()


class ManagerProfile(models.Model):
    """What the engine knows of a sales manager besides their role."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sales_profile",
        verbose_name=_("manager"),
    )
    # Takes part in automatic assignment at all (a head may keep someone manual-only).
    auto = models.BooleanField(_("gets leads automatically"), default=True)
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    cap = models.PositiveIntegerField(_("open leads, at most"), null=True, blank=True)
    # Languages the manager sells in, as codes: ["ru", "en"].
    languages = models.JSONField(_("languages"), default=list, blank=True)
    # Working hours: outside them the manager is skipped. None: always on shift.
    calendar = models.ForeignKey(
        "sla.Calendar",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("shift calendar"),
    )

    class Meta:
        verbose_name = _("sales manager profile")
        verbose_name_plural = _("sales manager profiles")

    def __str__(self) -> str:
        return str(self.user)


class Absence(models.Model):
    """A manager away: no automatic assignment from ``starts_at`` until ``ends_at``."""

    class Kind(models.TextChoices):
        VACATION = "vacation", _("Vacation")
        SICK = "sick", _("Sick leave")
        OTHER = "other", _("Away")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="absences",
        verbose_name=_("manager"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.VACATION)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["user", "ends_at"], name="absence_user_ends")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_span"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.get_kind_display()}"


class AssignmentRule(models.Model):
    """MQLs that match go to these managers (first matching rule in ``order`` wins);
    an empty condition matches anything."""

    name = models.CharField(_("name"), max_length=200)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("service")
    )
    # The common block's promotion region, as answered (e.g. "Москва").
    region = models.CharField(_("region"), max_length=100, blank=True)
    budget_band = models.CharField(
        _("budget band"), max_length=12, choices=BudgetBand.choices, blank=True
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="assignment_rules", verbose_name=_("managers")
    )
    # None: the settings' strategy.
    strategy = models.CharField(_("strategy"), max_length=16, choices=Strategy.choices, blank=True)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    """One MQL given to one manager: by whom (None: the engine), how and why."""

    class How(models.TextChoices):
        AUTO = "auto", _("Automatically")
        MANUAL = "manual", _("By the head of sales")
        REASSIGN = "reassign", _("Reassigned")
        SELF = "self", _("Taken by the manager")

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="assignments")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    previous = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    how = models.CharField(max_length=12, choices=How.choices)
    strategy = models.CharField(max_length=16, choices=Strategy.choices, blank=True)
    rule = models.ForeignKey(
        AssignmentRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Why this person: the candidates considered, who was skipped and for what, the
    # numbers the strategy compared. Shown on the lead page and in the API.
    why = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["lead", "at"], name="assignment_lead_at")]

    def __str__(self) -> str:
        return f"#{self.lead_id} → {self.manager}"
