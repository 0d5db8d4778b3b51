"""The notification centre (the bell) and the webhook endpoints page.

Notifications are each user's own: every query here filters on the user, and another
user's notification is a 404, never a 403 that would confirm it exists. Webhook
endpoints are for administrators (the admin role or a superuser): they hold signing
secrets. Messages are queued and sent only by the worker (``notify.outbox``); the "send
test" button queues one like any other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.notify.channels import new_webhook_secret
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint
from leadrelay.notify.outbox import enqueue
from leadrelay.notify.texts import notification_text
from leadrelay.web.forms import PageForm, WebhookActiveForm, WebhookForm
from leadrelay.web.templatetags.leadrelay_web import when
from leadrelay.web.views import HtmxHttpRequest, _page_query, _partial, _user

# The bell says "99+" beyond this; counting stops there (an index range, not a scan).
BELL_CAP = 99
NOTIFICATIONS_PAGE = 50
DELIVERIES_SHOWN = 50
TEST_EVENT = "webhook.test"
# Tells the bell to fetch its count again (see base.html) after something was read.
CHANGED = "notifications-changed"


def unread_count(user: User, cap: int = BELL_CAP) -> int:
    """The user's unread notifications, counted up to ``cap + 1`` at most."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True).order_by()
    return unread[: cap + 1].count()


# The bell ------------------------------------------------------------------------------


@require_GET
def notification_count(request: HtmxHttpRequest) -> HttpResponse:
    """The bell's badge, polled every 30 s. Not ``login_required``: after a logout in
    another tab a redirect to the login page would be swapped into the header; 286
    tells htmx to stop polling instead."""
    user = request.user
    if not isinstance(user, User) or not user.is_active:
        return HttpResponse(status=286)
    count = unread_count(user)
    context = {"count": count, "shown": f"{BELL_CAP}+" if count > BELL_CAP else str(count)}
    response = render(request, "web/notifications/_bell.html", context)
    response["Cache-Control"] = "no-store"
    return response


# The notification centre ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    """One notification as listed, its message in the reader's language."""

    pk: int
    kind: str
    subject: str
    text: str
    lead_url: str
    created: str
    created_iso: str
    unread: bool


def _item(notification: Notification) -> Item:
    subject, text = notification_text(
        notification.kind, notification.data or {}, notification.lead_id
    )
    return Item(
        pk=notification.pk,
        kind=notification.kind,
        subject=subject,
        text=text,
        lead_url=reverse("leads:detail", args=[notification.lead_id])
        if notification.lead_id
        else "",
        created=when(notification.created_at),
        created_iso=notification.created_at.isoformat(),
        unread=notification.read_at is None,
    )


@login_required
@require_GET
def notification_list(request: HtmxHttpRequest) -> HttpResponse:
    """The user's notifications, newest first (by id: the order they were written in,
    which the (user, -id) index serves), a keyset page at a time."""
    user = _user(request)
    form = PageForm(request.GET)
    if not form.is_valid():
        return redirect("notifications:list")
    rows = Notification.objects.filter(user=user).order_by("-id")
    cursor = form.cleaned_data["cursor"]
    if cursor is not None:
        rows = rows.filter(id__lt=cursor)
    page = list(rows[: NOTIFICATIONS_PAGE + 1])
    next_query = None
    if len(page) > NOTIFICATIONS_PAGE:
        page = page[:NOTIFICATIONS_PAGE]
        next_query = _page_query(request.GET, page[-1].pk)
    count = unread_count(user)
    context = {
        "nav": "notifications",
        "items": [_item(n) for n in page],
        "unread": count,
        "unread_shown": f"{BELL_CAP}+" if count > BELL_CAP else str(count),
        "next_query": next_query,
        "first_page": cursor is None,
    }
    return render(request, "web/notifications/list.html", context)


@login_required
@require_POST
def notification_read(request: HtmxHttpRequest, notification_id: int) -> HttpResponse:
    user = _user(request)
    notification = get_object_or_404(Notification, pk=notification_id, user=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    if _partial(request):
        response = render(request, "web/notifications/_item.html", {"item": _item(notification)})
        response["HX-Trigger"] = CHANGED
        patch_vary_headers(response, ("HX-Request",))
        return response
    return redirect("notifications:list")


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if marked:
        messages.success(request, _("All notifications are marked as read."))
    return redirect("notifications:list")


# Webhook endpoints ---------------------------------------------------------------------


def _administrator(request: HttpRequest) -> User:
    user = _user(request)
    if not (user.is_superuser or user.role == Role.ADMIN):
        raise PermissionDenied(_("Only administrators manage webhook endpoints."))
    return user


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request: HttpRequest) -> HttpResponse:
    _administrator(request)
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        endpoint = WebhookEndpoint.objects.create(
            url=data["url"],
            description=data["description"],
            events=list(data["events"]),
            secret=new_webhook_secret(),
        )
        messages.success(
            request,
            _("The endpoint is created. Give its signing secret below to the receiver."),
        )
        return redirect("webhooks:detail", endpoint_id=endpoint.pk)
    context = {
        "nav": "webhooks",
        "endpoints": list(WebhookEndpoint.objects.order_by("-active", "url", "pk")),
        "event_labels": dict(WebhookEndpoint.Event.choices),
        "form": form,
    }
    return render(request, "web/webhooks/list.html", context, status=400 if form.is_bound else 200)


def _endpoint(endpoint_id: int) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise Http404(_("No such webhook endpoint."))
    return endpoint


@login_required
@require_GET
def webhook_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    _administrator(request)
    endpoint = _endpoint(endpoint_id)
    deliveries = list(
        Outbox.objects.filter(endpoint=endpoint)
        .order_by("-id")
        .only(
            "id",
            "event",
            "status",
            "attempts",
            "created_at",
            "next_attempt_at",
            "delivered_at",
            "last_status",
            "last_error",
            "lead_id",
            "message_id",
        )[:DELIVERIES_SHOWN]
    )
    labels = dict(WebhookEndpoint.Event.choices)
    context: dict[str, Any] = {
        "nav": "webhooks",
        "endpoint": endpoint,
        "events": [str(labels.get(e, e)) for e in endpoint.events or []],
        "deliveries": deliveries,
        "shown": DELIVERIES_SHOWN,
        "require_https": settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS,
    }
    return render(request, "web/webhooks/detail.html", context)


@login_required
@require_POST
def webhook_active(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    user = _administrator(request)
    endpoint = _endpoint(endpoint_id)
    form = WebhookActiveForm(request.POST)
    if not form.is_valid() or form.cleaned_data["active"] is None:
        messages.error(request, _("Choose whether to enable or disable the endpoint."))
        return redirect("webhooks:detail", endpoint_id=endpoint.pk)
    now = timezone.now()
    if form.cleaned_data["active"]:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=True, disabled_reason="")
        messages.success(request, _("The endpoint is enabled: new events will be sent to it."))
    else:
        reason = _("Disabled by %(user)s on %(when)s.") % {"user": user, "when": when(now)}
        with transaction.atomic():
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
                active=False, disabled_reason=reason[:300]
            )
            # What was waiting to be sent is not sent later (as the worker's own disable).
            Outbox.objects.filter(endpoint=endpoint, status=Outbox.Status.PENDING).update(
                status=Outbox.Status.CANCELLED, next_attempt_at=None
            )
        messages.success(request, _("The endpoint is disabled: nothing more is sent to it."))
    return redirect("webhooks:detail", endpoint_id=endpoint.pk)


@login_required
@require_POST
def webhook_test(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """Queue a ``webhook.test`` message; the worker delivers it like any other."""
    _administrator(request)
    endpoint = _endpoint(endpoint_id)
    if not endpoint.active:
        messages.error(request, _("Enable the endpoint before sending it a test."))
        return redirect("webhooks:detail", endpoint_id=endpoint.pk)
    now = timezone.now()
    enqueue(
        Outbox.Channel.WEBHOOK,
        # A new key per click: every click is its own test message.
        dedup_key=f"webhook:{endpoint.pk}:{TEST_EVENT}:{uuid.uuid4().hex}",
        event=TEST_EVENT,
        payload={"type": TEST_EVENT, "timestamp": now, "data": {}},
        now=now,
        endpoint=endpoint,
    )
    messages.success(
        request, _("A test message is queued: it is listed below, and the worker sends it shortly.")
    )
    return redirect("webhooks:detail", endpoint_id=endpoint.pk)
