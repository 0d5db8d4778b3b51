from django.contrib import admin

from leadrelay.sales.models import (
    Absence,
    Assignment,
    AssignmentRule,
    AssignmentSettings,
    ManagerProfile,
)


@admin.register(AssignmentSettings)
class AssignmentSettingsAdmin(admin.ModelAdmin[AssignmentSettings]):
    list_display = ("mode", "strategy", "default_cap", "updated_at")


@admin.register(ManagerProfile)
class ManagerProfileAdmin(admin.ModelAdmin[ManagerProfile]):
    list_display = ("user", "auto", "weight", "cap", "calendar")


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin[Absence]):
    list_display = ("user", "kind", "starts_at", "ends_at")
    list_filter = ("kind",)


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(admin.ModelAdmin[AssignmentRule]):
    list_display = ("name", "order", "active", "service", "region", "budget_band", "language")
    filter_horizontal = ("managers",)


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin[Assignment]):
    """Read-only: the record of who got a lead is written by the engine alone."""

    list_display = ("lead", "manager", "how", "strategy", "at", "by")
    list_filter = ("how", "strategy")
    raw_id_fields = ("lead",)

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
