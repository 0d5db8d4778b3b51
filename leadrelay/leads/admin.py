"""Leads are read-only in the admin: they change only through the domain functions."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from leadrelay.leads.models import Lead


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin[Lead]):
    list_display = ("id", "name", "email", "status", "received_at", "sdr", "manager")
    list_filter = ("status",)
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
