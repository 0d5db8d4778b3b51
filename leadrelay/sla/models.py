"""Business calendars, SLA policies, the clocks they start on leads, and the breach ledger."""

from __future__ import annotations

import json
from datetime import date, time, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadrelay.catalog.models import Service, Source
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from leadrelay.sla.calendar import DEFAULT_WEEK, BusinessCalendar, CalendarError, Interval

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def default_hours() -> dict[str, list[list[str]]]:
    return {
        WEEKDAYS[day]: [[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in spans]
        for day, spans in DEFAULT_WEEK.items()
    }


def parse_intervals(value: Any) -> tuple[Interval, ...]:
    """``[["09:00", "18:00"], …]`` as times; CalendarError when it is not that."""
    if not isinstance(value, list):
        raise CalendarError("working hours are a list of [start, end] pairs")
    spans = []
    for pair in value:
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise CalendarError(f"not a [start, end] pair: {pair!r}")
        try:
            start, end = (time.fromisoformat(str(p)) for p in pair)
        except ValueError as exc:
            raise CalendarError(f"not a time of day: {pair!r}") from exc
        spans.append((start, end))
    return tuple(spans)


class Calendar(models.Model):
    """Working hours in a time zone, a country's public holidays and the company's own days."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    country = models.CharField(
        _("holidays of country"),
        max_length=8,
        blank=True,
        default="RU",
        help_text=_("ISO code for public holidays (the holidays package); empty for none."),
    )
    subdivision = models.CharField(_("region"), max_length=16, blank=True)
    hours = models.JSONField(
        _("working hours"),
        default=default_hours,
        help_text=_('Per weekday, e.g. {"mon": [["09:00", "18:00"]], …}; a missing day is off.'),
    )
    is_default = models.BooleanField(_("default calendar"), default=False)
    teams = models.ManyToManyField(
        "accounts.Team", blank=True, related_name="calendars", verbose_name=_("teams")
    )

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="calendar_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def business_calendar(self) -> BusinessCalendar:
        """The pure calendar this row describes, with its exception days.

        Built once per distinct content and process: a calendar keeps per-day caches,
        so reusing it makes every due-time computation after the first nearly free. The
        row is still read each time, so an edit applies at once everywhere.
        """
        days = tuple(
            sorted((d.date, d.working, json.dumps(d.hours or [])) for d in self.days.all())
        )
        return _pure_calendar(
            self.timezone,
            json.dumps(self.hours or {}, sort_keys=True),
            self.country,
            self.subdivision,
            days,
        )


@lru_cache(maxsize=64)
def _pure_calendar(
    timezone: str,
    hours: str,
    country: str,
    subdivision: str,
    days: tuple[tuple[date, bool, str], ...],
) -> BusinessCalendar:
    by_day = json.loads(hours)
    week = {day: parse_intervals(by_day[key]) for day, key in enumerate(WEEKDAYS) if key in by_day}
    days_off = frozenset(d for d, working, _ in days if not working)
    working_days = {d: parse_intervals(json.loads(h)) for d, working, h in days if working}
    return BusinessCalendar(
        timezone=timezone,
        week=week,
        country=country or None,
        subdivision=subdivision or None,
        days_off=days_off,
        working_days=working_days,
    )


class CalendarDay(models.Model):
    """A company day off, or a working day on a weekend (a transferred Saturday)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    working = models.BooleanField(
        _("working day"), default=False, help_text=_("Off: a day off. On: a working day.")
    )
    hours = models.JSONField(
        _("hours"), default=list, blank=True, help_text=_("Empty: the hours of a Monday.")
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendarday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.calendar}: {self.date}"


class ClockKind(models.TextChoices):
    FIRST_CONTACT = "first_contact", _("First contact")
    ASSIGNMENT = "assignment", _("Assignment to a manager")
    MANAGER_ACTION = "manager_action", _("Manager's first action")


# Which status starts each kind of clock.
START_STATUS = {
    ClockKind.FIRST_CONTACT: Status.NEW,
    ClockKind.ASSIGNMENT: Status.AWAITING_ASSIGNMENT,
    ClockKind.MANAGER_ACTION: Status.ASSIGNED,
}


def default_ladder() -> list[float]:
    return [0.5, 1.0, 1.5]


class Policy(models.Model):
    """A deadline in working minutes from entering a status, optionally per service/source."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("clock"), max_length=20, choices=ClockKind.choices)
    minutes = models.PositiveIntegerField(_("working minutes"))
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("service")
    )
    source = models.ForeignKey(
        Source, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("source")
    )
    ladder = models.JSONField(
        _("escalation at"),
        default=default_ladder,
        help_text=_("Fractions of the deadline at which to escalate, e.g. [0.5, 1.0, 1.5]."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.CheckConstraint(condition=Q(minutes__gt=0), name="policy_minutes_positive")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.minutes} min)"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    def steps(self) -> list[float]:
        """The escalation fractions, ascending, always with the deadline itself (1.0)."""
        fractions = {float(f) for f in (self.ladder or []) if float(f) > 0}
        return sorted(fractions | {1.0})


class Clock(models.Model):
    """One deadline running on one lead, from entering a status until stopped."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        MET = "met", _("Met")
        BREACHED = "breached", _("Breached")
        CANCELLED = "cancelled", _("Cancelled")

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="clocks")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="clocks")
    kind = models.CharField(max_length=20, choices=ClockKind.choices)
    calendar = models.ForeignKey(Calendar, on_delete=models.SET_NULL, null=True, blank=True)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.RUNNING)
    stopped_at = models.DateTimeField(null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who was responsible when the clock stopped (the SDR or the manager).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    working_seconds = models.PositiveIntegerField(null=True, blank=True)
    calendar_seconds = models.PositiveIntegerField(null=True, blank=True)
    # The worker's queue: the next escalation step and when it is due; null once done.
    next_step = models.PositiveSmallIntegerField(default=0)
    next_check_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        indexes = [
            # Only running clocks with a step to come are indexed: the worker's sweep
            # costs the same with a million closed leads as with none.
            models.Index(
                fields=["next_check_at"],
                name="clock_due",
                condition=Q(next_check_at__isnull=False),
            ),
            models.Index(fields=["lead", "kind"], name="clock_lead_kind"),
            models.Index(fields=["kind", "started_at"], name="clock_kind_started"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on lead {self.lead_id}: {self.outcome}"


class Breach(models.Model):
    """The ledger: one row per missed deadline, with its cause, to settle disputes."""

    class Cause(models.TextChoices):
        UNCLAIMED = "unclaimed", _("Nobody claimed it")
        NOT_CONTACTED = "not_contacted", _("Claimed but not contacted")
        NOT_ASSIGNED = "not_assigned", _("Not assigned to a manager")
        NO_MANAGER_ACTION = "no_manager_action", _("The manager did not act")

    clock = models.OneToOneField(Clock, on_delete=models.CASCADE, related_name="breach")
    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="breaches")
    kind = models.CharField(max_length=20, choices=ClockKind.choices)
    due_at = models.DateTimeField(_("due"))
    detected_at = models.DateTimeField(_("recorded"))
    cause = models.CharField(_("cause"), max_length=24, choices=Cause.choices)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible"),
    )
    # The request came in outside working hours: the clock only started with the day.
    off_hours = models.BooleanField(_("received outside working hours"), default=False)

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        indexes = [models.Index(fields=["detected_at"], name="breach_detected")]

    def __str__(self) -> str:
        return f"{self.kind} breach on lead {self.lead_id}: {self.cause}"
