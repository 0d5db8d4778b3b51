"""Qualification lists in the admin: reason codes, needs, department contacts, queue settings.

Leads store reason and need codes, so a code is set once and an entry is retired by
unticking "active" rather than deleted. Questionnaires are edited in the web editor
(Settings → Questionnaires), which publishes versions; here they and their versions are
read-only, as are the records the SDR work writes (BANT, answers, referrals, routings,
returns).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from leadrelay.qualify.models import (
    Answers,
    Bant,
    DepartmentContact,
    NeedCategory,
    Questionnaire,
    QuestionnaireVersion,
    ReasonCode,
    Referral,
    Return,
    Routing,
    SdrQueueSettings,
)

_M = TypeVar("_M", bound=Model)


class ReadOnlyAdmin(admin.ModelAdmin[_M]):
    """Rows the domain writes: shown, never added, changed or deleted by hand."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ListEntryAdmin(admin.ModelAdmin[_M]):
    """A configurable list: names, active and order edited in the list; the code is set
    once (leads store it) and an entry is retired, not deleted."""

    list_display_links = ("code",)
    list_editable = ("name_en", "name_ru", "active", "order")
    search_fields = ("code", "name_en", "name_ru")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("code",) if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReasonCode)
class ReasonCodeAdmin(ListEntryAdmin[ReasonCode]):
    list_display = ("code", "kind", "name_en", "name_ru", "active", "order")
    list_filter = ("kind", "active")
    ordering = ("kind", "order", "code")
    fields = ("kind", "code", "name_en", "name_ru", "active", "order")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("kind", "code") if obj is not None else ()


@admin.register(NeedCategory)
class NeedCategoryAdmin(ListEntryAdmin[NeedCategory]):
    list_display = ("code", "name_en", "name_ru", "active", "order")
    list_filter = ("active",)
    ordering = ("order", "code")
    fields = ("code", "name_en", "name_ru", "active", "order")


@admin.register(DepartmentContact)
class DepartmentContactAdmin(admin.ModelAdmin[DepartmentContact]):
    list_display = ("name", "email", "department")
    list_filter = ("department",)
    list_select_related = ("department",)
    search_fields = ("name", "email")


@admin.register(SdrQueueSettings)
class SdrQueueSettingsAdmin(admin.ModelAdmin[SdrQueueSettings]):
    """One row of settings: changed, never a second one added, never deleted."""

    list_display = ("__str__", "stale_hours", "last_sdr")
    fields = ("mode", "stale_hours", "last_sdr")
    readonly_fields = ("last_sdr",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SdrQueueSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# Questionnaires: read-only here, edited (as new versions) in the web editor -------------


def _fields_json(version: QuestionnaireVersion) -> str:
    return format_html(
        "<pre style='white-space: pre-wrap; margin: 0'>{}</pre>",
        json.dumps(version.fields, ensure_ascii=False, indent=2),
    )


class QuestionnaireVersionInline(admin.TabularInline[QuestionnaireVersion, Questionnaire]):
    model = QuestionnaireVersion
    fields = ("number", "created_at", "created_by", "field_count")
    readonly_fields = fields
    ordering = ("-number",)
    extra = 0
    show_change_link = True

    @admin.display(description=_("fields"))
    def field_count(self, obj: QuestionnaireVersion) -> int:
        return len(obj.fields or [])

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Questionnaire)
class QuestionnaireAdmin(ReadOnlyAdmin[Questionnaire]):
    list_display = ("__str__", "common", "service", "editor_link")
    list_select_related = ("service",)
    fields = ("common", "service", "editor_link")
    readonly_fields = fields
    inlines = (QuestionnaireVersionInline,)

    @admin.display(description=_("edit"))
    def editor_link(self, obj: Questionnaire) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("questionnaires:edit", args=[obj.pk]),
            _("Open the questionnaire editor"),
        )


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(ReadOnlyAdmin[QuestionnaireVersion]):
    """A published version is never changed: no add, change or delete, for anyone."""

    list_display = ("questionnaire", "number", "created_at", "created_by")
    list_filter = ("questionnaire",)
    list_select_related = ("questionnaire__service", "created_by")
    fields = ("questionnaire", "number", "created_at", "created_by", "fields_json")
    readonly_fields = fields
    ordering = ("questionnaire", "-number")

    @admin.display(description=_("fields"))
    def fields_json(self, obj: QuestionnaireVersion) -> str:
        return _fields_json(obj)


# What the SDR work records ------------------------------------------------------------


@admin.register(Bant)
class BantAdmin(ReadOnlyAdmin[Bant]):
    list_display = (
        "lead",
        "budget_amount",
        "budget_band",
        "currency",
        "decision_maker",
        "need",
        "timeframe_band",
        "updated_at",
    )
    list_select_related = ("lead", "need")
    raw_id_fields = ("lead",)
    search_fields = ("lead__id",)


@admin.register(Answers)
class AnswersAdmin(ReadOnlyAdmin[Answers]):
    list_display = ("lead", "questionnaire", "version", "updated_at", "updated_by")
    list_filter = ("questionnaire",)
    list_select_related = (
        "lead",
        "questionnaire__service",
        "version__questionnaire__service",
        "updated_by",
    )
    raw_id_fields = ("lead",)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin[Referral]):
    list_display = ("lead", "partner", "referred_at", "referred_by", "commission_percent")
    list_filter = ("partner",)
    list_select_related = ("lead", "partner", "referred_by")
    date_hierarchy = "referred_at"


@admin.register(Routing)
class RoutingAdmin(ReadOnlyAdmin[Routing]):
    list_display = ("lead", "department", "routed_at", "routed_by")
    list_filter = ("department",)
    list_select_related = ("lead", "department", "routed_by")
    date_hierarchy = "routed_at"


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin[Return]):
    list_display = ("lead", "state", "reason_code", "sdr", "returned_by", "returned_at", "judge")
    list_filter = ("state", "reason_code")
    list_select_related = ("lead", "sdr", "returned_by", "judge")
    date_hierarchy = "returned_at"
