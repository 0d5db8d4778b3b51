"""Notifications and outgoing messages in the admin.

Webhook endpoints can be edited here as on the Webhooks page (same URL check, a secret
generated on creation); notifications and the outbox are facts, shown read-only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from leadrelay.notify.channels import UnsafeUrl, check_url, new_webhook_secret
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint
from leadrelay.sla.admin import ReadOnlyAdmin


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    # A plain text field: check_url is the judge (a URLField would guess a scheme).
    url = forms.CharField(label=_("URL"), max_length=1000)
    events = forms.MultipleChoiceField(
        label=_("events"),
        required=False,
        choices=WebhookEndpoint.Event.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "events", "active", "disabled_reason")

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"].strip()
        try:
            check_url(
                url,
                require_https=settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS,
                allow_private=settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE,
            )
        except UnsafeUrl as exc:
            raise forms.ValidationError(
                _("Webhooks cannot be sent to this URL: %(reason)s"),
                params={"reason": str(exc)},
            ) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    form = WebhookEndpointForm
    list_display = ("url", "description", "active", "disabled_reason", "created_at")
    list_filter = ("active",)
    readonly_fields = ("secret", "created_at")

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if not obj.secret:
            obj.secret = new_webhook_secret()
        super().save_model(request, obj, form, change)


@admin.register(Outbox)
class OutboxAdmin(ReadOnlyAdmin[Outbox]):
    list_display = (
        "id",
        "channel",
        "event",
        "status",
        "attempts",
        "endpoint",
        "user",
        "lead",
        "created_at",
        "delivered_at",
        "last_status",
    )
    list_filter = ("channel", "status")
    list_select_related = ("endpoint", "user", "lead")
    raw_id_fields = ("lead", "user", "endpoint")
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin[Notification]):
    list_display = ("id", "user", "kind", "lead", "created_at", "read_at")
    list_filter = ("kind",)
    list_select_related = ("user", "lead")
    raw_id_fields = ("lead", "user")
    date_hierarchy = "created_at"
