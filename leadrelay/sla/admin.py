"""SLA settings in the admin: calendars (with their exception days) and policies.

Clocks and breaches are facts the domain records; the admin shows them read-only.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from leadrelay.sla.calendar import CalendarError
from leadrelay.sla.models import (
    WEEKDAYS,
    Breach,
    Calendar,
    CalendarDay,
    Clock,
    Policy,
    parse_intervals,
)


class CalendarForm(forms.ModelForm[Calendar]):
    class Meta:
        model = Calendar
        fields = ("name", "timezone", "country", "subdivision", "hours", "is_default", "teams")

    def clean_hours(self) -> Any:
        hours = self.cleaned_data["hours"]
        if not isinstance(hours, dict):
            raise forms.ValidationError(
                _('Working hours are an object like {"mon": [["09:00", "18:00"]]}.')
            )
        unknown = sorted(set(hours) - set(WEEKDAYS))
        if unknown:
            raise forms.ValidationError(
                _("Unknown weekdays: %(days)s (use %(known)s)."),
                params={"days": ", ".join(unknown), "known": ", ".join(WEEKDAYS)},
            )
        for day, spans in hours.items():
            try:
                parse_intervals(spans)
            except CalendarError as exc:
                raise forms.ValidationError(
                    "%(day)s: %(error)s", params={"day": day, "error": exc}
                ) from None
        return hours


class CalendarDayForm(forms.ModelForm[CalendarDay]):
    class Meta:
        model = CalendarDay
        fields = ("date", "working", "hours", "note")

    def clean_hours(self) -> Any:
        hours = self.cleaned_data["hours"]
        try:
            parse_intervals(hours or [])
        except CalendarError as exc:
            raise forms.ValidationError(str(exc)) from None
        return hours


class CalendarDayInline(admin.TabularInline[CalendarDay, Calendar]):
    model = CalendarDay
    form = CalendarDayForm
    extra = 1
    ordering = ("date",)


@admin.register(Calendar)
class CalendarAdmin(admin.ModelAdmin[Calendar]):
    form = CalendarForm
    list_display = ("name", "timezone", "country", "subdivision", "is_default")
    filter_horizontal = ("teams",)
    inlines = (CalendarDayInline,)


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin[Policy]):
    list_display = ("name", "kind", "minutes", "service", "source", "active")
    list_filter = ("kind", "active")
    list_select_related = ("service", "source")


_M = TypeVar("_M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    """Rows the domain writes: shown, never added, changed or deleted by hand."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin[Clock]):
    list_display = ("id", "lead", "kind", "started_at", "due_at", "outcome", "stopped_at", "owner")
    list_filter = ("kind", "outcome")
    list_select_related = ("lead", "owner")
    raw_id_fields = ("lead",)
    date_hierarchy = "started_at"


@admin.register(Breach)
class BreachAdmin(ReadOnlyAdmin[Breach]):
    list_display = (
        "id",
        "lead",
        "kind",
        "due_at",
        "detected_at",
        "cause",
        "responsible",
        "off_hours",
    )
    list_filter = ("kind", "cause", "off_hours")
    list_select_related = ("lead", "responsible")
    date_hierarchy = "detected_at"
