"""The intake pages for people: sources and how to set them up, raw deliveries, and a
lead typed in by hand.

Thin adapters, like ``leadrelay.web.views``: sources are created by
``sources.create_source``, hand-typed leads made by ``build.create_from_contact`` (the
same normalisation and duplicate link as every webhook), deliveries are retried by the
worker. Sources and deliveries are for administrators and the head of marketing; SDRs
may also type in leads.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Source
from leadrelay.intake.build import create_from_contact, find_duplicate
from leadrelay.intake.forms import (
    DeliveryPageForm,
    ManualLeadForm,
    RetryForm,
    SourceEditForm,
    SourceForm,
)
from leadrelay.intake.models import Delivery, RejectionCounter
from leadrelay.intake.sources import SourceError, create_source, intake_url
from leadrelay.intake.vendors import VENDORS
from leadrelay.intake.vendors._common import ATTRIBUTION_KEYS, LEAD_FIELDS, parse_form
from leadrelay.intake.vendors.base import Malformed, RawDelivery, Vendor
from leadrelay.intake.vendors.form import DEFAULT_HONEYPOT, DEFAULT_MIN_FILL_SECONDS, snippet
from leadrelay.leads.models import Lead
from leadrelay.leads.queries import visible_leads
from leadrelay.web.views import HtmxHttpRequest

# Who manages sources and reads raw deliveries: they hold the vendors' secrets.
SOURCE_ROLES = frozenset({Role.ADMIN, Role.HEAD_MARKETING})
# Who may type a lead in: whoever takes the calls, and the same managers.
MANUAL_ROLES = frozenset({Role.ADMIN, Role.HEAD_MARKETING, Role.SDR})
MANUAL_SOURCE_NAME = "Manual entry"
RECENT_DELIVERIES = 10
REJECTIONS_DAYS = 30
# Deliveries that still need attention come first: failed, then pending, then done.
STATUS_ORDER = (Delivery.Status.FAILED, Delivery.Status.PENDING, Delivery.Status.PROCESSED)
# A body larger than this is cut on the delivery page (the endpoint accepts 1 MiB).
BODY_SHOWN = 64 * 1024

FIELD_LABELS: dict[str, Promise] = {
    "name": gettext_lazy("Full name"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "company": gettext_lazy("Company"),
    "website": gettext_lazy("Website"),
    "message": gettext_lazy("Message"),
}


def may(user: Any, roles: frozenset[Role]) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and (user.is_superuser or user.role in roles)
    )


def _member(request: HttpRequest, roles: frozenset[Role]) -> User:
    user = request.user
    if not isinstance(user, User) or not may(user, roles):
        raise PermissionDenied(_("Your role does not allow this."))
    return user


def _partial(request: HtmxHttpRequest) -> bool:
    """An HTMX swap wants a fragment; a history restore wants the whole page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


# Sources -------------------------------------------------------------------------------


def sources_with_stats() -> QuerySet[Source]:
    """Every source with its lead count, failed deliveries and last delivery: one query."""
    leads = (
        Lead.objects.filter(source=OuterRef("pk"))
        .order_by()
        .values("source")
        .annotate(n=Count("pk"))
        .values("n")
    )
    failed = (
        Delivery.objects.filter(source=OuterRef("pk"), status=Delivery.Status.FAILED)
        .order_by()
        .values("source")
        .annotate(n=Count("pk"))
        .values("n")
    )
    last = Delivery.objects.filter(source=OuterRef("pk")).order_by("-received_at")
    return (
        Source.objects.select_related("default_service")
        .annotate(
            leads_count=Coalesce(Subquery(leads, output_field=IntegerField()), 0),
            failed_count=Coalesce(Subquery(failed, output_field=IntegerField()), 0),
            last_delivery_at=Subquery(last.values("received_at")[:1]),
        )
        .order_by("-active", "name", "pk")
    )


def _create_source(form: SourceForm) -> Source:
    data = form.cleaned_data
    with transaction.atomic():
        source = create_source(
            data["kind"],
            data["name"],
            secret=form.secret(),
            mapping=data["mapping"],
            config=form.config(),
        )
        if data["default_service"] is not None:
            source.default_service = data["default_service"]
            source.save(update_fields=["default_service"])
    return source


@login_required
@require_http_methods(["GET", "POST"])
def source_list(request: HttpRequest) -> HttpResponse:
    _member(request, SOURCE_ROLES)
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = _create_source(form)
        except SourceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Source “%(name)s” is created. Set it up at the vendor as shown below.")
                % {"name": source.name},
            )
            return redirect("intake:source", source_id=source.pk)
    context = {
        "nav": "sources",
        "sources": list(sources_with_stats()),
        "form": form,
    }
    return render(request, "intake/sources.html", context, status=400 if form.is_bound else 200)


@dataclass(frozen=True)
class DefaultField:
    """A lead field and the vendor's field names that fill it without a mapping."""

    target: str
    label: str
    names: list[str]


def default_fields(vendor: Vendor) -> list[DefaultField]:
    names: dict[str, list[str]] = {}
    for name, target in vendor.default_mapping.items():
        names.setdefault(target, []).append(name)
    return [
        DefaultField(target, str(FIELD_LABELS.get(target, target)), names[target])
        for target in LEAD_FIELDS
        if target in names
    ]


def api_curl(url: str, secret: str) -> str:
    body = {
        "name": "Иван Петров",
        "email": "ivan@example.ru",
        "phone": "+7 999 123-45-67",
        "company": "ООО «Ромашка»",
        "message": "Нужен аудит сайта",
        "utm_source": "partner_site",
    }
    data = json.dumps(body, ensure_ascii=False).replace("'", "'\\''")
    return (
        f"curl -X POST '{url}' \\\n"
        f"  -H 'Authorization: Bearer {secret}' \\\n"
        "  -H 'Content-Type: application/json; charset=utf-8' \\\n"
        "  -H 'Idempotency-Key: crm-request-1001' \\\n"
        f"  -d '{data}'"
    )


def calendly_curl(url: str, secret: str) -> str:
    body = {
        "url": url,
        "events": ["invitee.created"],
        "organization": "https://api.calendly.com/organizations/<ORGANIZATION_ID>",
        "scope": "organization",
        "signing_key": secret,
    }
    return (
        "curl -X POST https://api.calendly.com/webhook_subscriptions \\\n"
        "  -H 'Authorization: Bearer <PERSONAL_ACCESS_TOKEN>' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps(body, indent=2)}'"
    )


def _rejections(source: Source) -> list[tuple[str, int]]:
    since = timezone.localdate() - timedelta(days=REJECTIONS_DAYS)
    rows = (
        RejectionCounter.objects.filter(source=source, day__gte=since)
        .values("reason")
        .annotate(total=Sum("count"))
        .order_by("reason")
    )
    return [(row["reason"], row["total"]) for row in rows]


def _delivery_rows(deliveries: QuerySet[Delivery]) -> QuerySet[Delivery]:
    """What a list of deliveries shows; never the bodies, up to a megabyte each."""
    return deliveries.select_related("source").only(
        "id",
        "status",
        "received_at",
        "event_id",
        "error",
        "attempts",
        "next_attempt_at",
        "lead_id",
        "source_id",
        "source__name",
        "source__kind",
    )


def _render_source(
    request: HttpRequest, source: Source, edit_form: SourceEditForm, status: int = 200
) -> HttpResponse:
    vendor = VENDORS.get(source.kind)
    url = intake_url(source) if vendor is not None else ""
    config = dict(source.config or {})
    context: dict[str, Any] = {
        "nav": "sources",
        "source": source,
        "vendor": vendor,
        "url": url,
        "config": config,
        "edit_form": edit_form,
        "leads_count": Lead.objects.filter(source=source).count(),
        "deliveries": list(
            _delivery_rows(Delivery.objects.filter(source=source)).order_by("-id")[
                :RECENT_DELIVERIES
            ]
        ),
        "rejections": _rejections(source),
        "rejections_days": REJECTIONS_DAYS,
        "default_fields": default_fields(vendor) if vendor is not None else [],
        "attribution_keys": ATTRIBUTION_KEYS,
        "setup_template": f"intake/setup/{source.kind}.html",
    }
    if source.kind == "form":
        honeypot = str(config.get("honeypot_field") or DEFAULT_HONEYPOT)
        context["snippet"] = snippet(url, honeypot_field=honeypot)
        context["min_fill_seconds"] = config.get("min_fill_seconds", DEFAULT_MIN_FILL_SECONDS)
    elif source.kind == "api":
        context["curl"] = api_curl(url, source.secret)
    elif source.kind == "calendly":
        context["curl"] = calendly_curl(url, source.secret)
    return render(request, "intake/source_detail.html", context, status=status)


def _source(source_id: int) -> Source:
    return get_object_or_404(Source.objects.select_related("default_service"), pk=source_id)


@login_required
@require_GET
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    _member(request, SOURCE_ROLES)
    source = _source(source_id)
    return _render_source(request, source, SourceEditForm.for_source(source))


@login_required
@require_POST
def source_edit(request: HttpRequest, source_id: int) -> HttpResponse:
    _member(request, SOURCE_ROLES)
    source = _source(source_id)
    form = SourceEditForm(request.POST)
    if not form.is_valid():
        return _render_source(request, source, form, status=400)
    data = form.cleaned_data
    Source.objects.filter(pk=source.pk).update(
        mapping=data["mapping"], active=data["active"], default_service=data["default_service"]
    )
    messages.success(request, _("The source is saved."))
    return redirect("intake:source", source_id=source.pk)


# Deliveries ------------------------------------------------------------------------------


def delivery_page(
    source: Source | None, after: tuple[str, int] | None, size: int
) -> tuple[list[Delivery], str | None]:
    """One page of deliveries, failures first, and the cursor of the next page.

    Each status is read newest first by id, as far as the page needs, so a page costs
    at most one short query per status and never an OFFSET or a COUNT.
    """
    start, before = after if after is not None else (STATUS_ORDER[0], None)
    rows: list[Delivery] = []
    for status in STATUS_ORDER[STATUS_ORDER.index(Delivery.Status(start)) :]:
        deliveries = Delivery.objects.filter(status=status)
        if source is not None:
            deliveries = deliveries.filter(source=source)
        if before is not None and status == start:
            deliveries = deliveries.filter(id__lt=before)
        # One row more than the page shows says whether there is a next page.
        rows += _delivery_rows(deliveries).order_by("-id")[: size + 1 - len(rows)]
        if len(rows) > size:
            break
    if len(rows) <= size:
        return rows, None
    rows = rows[:size]
    return rows, f"{rows[-1].status}:{rows[-1].pk}"


def _page_query(params: QueryDict, after: str | None) -> str:
    params = params.copy()
    params.pop("after", None)
    if after is not None:
        params["after"] = after
    return params.urlencode()


@login_required
@require_GET
def delivery_list(request: HtmxHttpRequest) -> HttpResponse:
    _member(request, SOURCE_ROLES)
    form = DeliveryPageForm(request.GET)
    valid = form.is_valid()
    rows: list[Delivery] = []
    next_query = first_query = None
    if valid:
        size: int = settings.LEADRELAY_PAGE_SIZE
        rows, after = delivery_page(form.cleaned_data["source"], form.cleaned_data["after"], size)
        if after is not None:
            next_query = _page_query(request.GET, after)
        if form.cleaned_data["after"] is not None:
            first_query = _page_query(request.GET, None)
    context = {
        "nav": "deliveries",
        "form": form,
        "deliveries": rows,
        "next_query": next_query,
        "first_query": first_query,
    }
    template = "intake/_delivery_results.html" if _partial(request) else "intake/deliveries.html"
    response = render(request, template, context, status=200 if valid else 400)
    patch_vary_headers(response, ("HX-Request",))
    return response


def body_for_display(delivery: Delivery) -> tuple[str, list[tuple[str, str]], bool]:
    """The raw body as text (JSON indented), its form fields if it is a form post, and
    whether the text was cut."""
    body = bytes(delivery.body)
    cut = len(body) > BODY_SHOWN
    text = body[:BODY_SHOWN].decode("utf-8", errors="replace")
    if not cut and delivery.content_type == "application/json":
        with contextlib.suppress(ValueError, RecursionError):
            text = json.dumps(json.loads(text), ensure_ascii=False, indent=2)
    raw = RawDelivery(
        method=delivery.method,
        path="",
        query={},
        headers={str(k).lower(): str(v) for k, v in (delivery.headers or {}).items()},
        body=body,
        content_type=delivery.content_type,
    )
    try:
        fields = parse_form(raw)
    except Malformed:
        fields = []
    return text, fields, cut


def _may_retry(delivery: Delivery) -> bool:
    unfinished = (Delivery.Status.FAILED, Delivery.Status.PENDING)
    return delivery.status in unfinished and delivery.lead_id is None


@login_required
@require_GET
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    _member(request, SOURCE_ROLES)
    delivery = get_object_or_404(Delivery.objects.select_related("source"), pk=delivery_id)
    text, fields, cut = body_for_display(delivery)
    context = {
        "nav": "deliveries",
        "delivery": delivery,
        "body_text": text,
        "body_fields": fields,
        "body_cut": cut,
        "body_size": len(delivery.body),
        "headers": sorted((delivery.headers or {}).items()),
        "may_retry": _may_retry(delivery),
    }
    return render(request, "intake/delivery_detail.html", context)


@login_required
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    """Make a failed or pending delivery due now; the worker's next pass takes it.

    The worker is not called from here: a Meta fetch may take seconds, and the worker's
    claim (a conditional UPDATE) stays the one way a delivery is processed.
    """
    _member(request, SOURCE_ROLES)
    delivery = get_object_or_404(Delivery.objects.only("id", "status", "lead_id"), pk=delivery_id)
    form = RetryForm(request.POST)
    if not _may_retry(delivery) or not form.is_valid():
        messages.error(request, _("This delivery has no attempt left to make."))
        return redirect("intake:delivery", delivery_id=delivery.pk)
    seen = form.cleaned_data["seen"]
    # Unchanged since the page was shown: a delivery the worker has just claimed or
    # finished is left alone.
    updated = (
        Delivery.objects.filter(
            pk=delivery.pk,
            status__in=(Delivery.Status.FAILED, Delivery.Status.PENDING),
            lead__isnull=True,
        )
        .filter(**({"next_attempt_at": seen} if seen else {"next_attempt_at__isnull": True}))
        .update(next_attempt_at=timezone.now())
    )
    if updated:
        messages.success(request, _("The delivery is due now: the worker will try it again."))
    else:
        messages.error(
            request, _("The worker has taken this delivery meanwhile; here it is as it is now.")
        )
    return redirect("intake:delivery", delivery_id=delivery.pk)


# A lead typed in by hand -------------------------------------------------------------------


def manual_source() -> Source:
    """The source of hand-typed leads, created the first time one is entered."""
    source = Source.objects.filter(kind=Source.Kind.MANUAL).order_by("pk").first()
    if source is None:
        source = Source.objects.create(kind=Source.Kind.MANUAL, name=MANUAL_SOURCE_NAME)
    return source


@login_required
@require_http_methods(["GET", "POST"])
def new_lead(request: HttpRequest) -> HttpResponse:
    user = _member(request, MANUAL_ROLES)
    form = ManualLeadForm(request.POST or None)
    duplicate: Lead | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        now = timezone.now()
        duplicate = find_duplicate(data["email"], data["phone"], now)
        if duplicate is None or data["confirm"]:
            # create_from_contact links the lead to the earlier one as a duplicate itself.
            lead = create_from_contact(
                form.contact(),
                source=manual_source(),
                service=data["service"],
                received_at=now,
                now=now,
                actor=user,
            )
            messages.success(request, _("The lead is saved."))
            return redirect("leads:detail", lead_id=lead.pk)
    context = {
        "nav": "new_lead",
        "form": form,
        "duplicate": duplicate,
        # The warning names the earlier lead; a link only where the user may open it.
        "duplicate_visible": duplicate is not None
        and visible_leads(user).filter(pk=duplicate.pk).exists(),
    }
    status = 200 if not form.is_bound or duplicate is not None else 400
    return render(request, "intake/new_lead.html", context, status=status)
