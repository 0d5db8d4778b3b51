"""The intake endpoint ``/in/<key>/`` every vendor posts to."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from leadrelay.catalog.models import Source
from leadrelay.intake.limits import allow
from leadrelay.intake.receive import receive
from leadrelay.intake.vendors import VENDORS
from leadrelay.intake.vendors.base import RawDelivery

PUBLIC_KINDS = frozenset({"form"})


def _json(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, **extra}, status=status)


def client_ip(request: HttpRequest) -> str:
    if settings.LEADRELAY_TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return str(forwarded).split(",")[0].strip()
    return str(request.META.get("REMOTE_ADDR", ""))


def raw_delivery(request: HttpRequest, body: bytes) -> RawDelivery:
    content_type = request.content_type or ""
    return RawDelivery(
        method=request.method or "POST",
        path=request.path,
        query={k: request.GET.getlist(k) for k in request.GET},
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
        content_type=content_type.lower(),
        charset=request.encoding or (request.content_params or {}).get("charset", "utf-8"),
        received_at=time.time(),
    )


@csrf_exempt
def intake(request: HttpRequest, key: str) -> HttpResponse:
    if request.method not in ("GET", "POST"):
        return _json(405, "method_not_allowed", "Use POST (GET only for verification).")
    source = Source.objects.select_related("default_service").filter(key=key).first()
    if source is None or not source.active or source.kind not in VENDORS:
        return _json(404, "unknown_source", "No active intake source at this address.")
    ip = client_ip(request)
    # Only the public form is open to anyone with a browser; every other kind proves
    # itself with a signature or token, and a per-IP counter row would serialise a
    # vendor's bursts (they come from a few addresses) for nothing.
    public = source.kind in PUBLIC_KINDS
    if public and not allow(f"intake:{ip}", settings.LEADRELAY_INTAKE_RATE_PER_MINUTE):
        return _json(429, "rate_limited", "Too many submissions from this address; retry later.")
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > settings.LEADRELAY_INTAKE_MAX_BYTES:
        return _json(413, "too_large", "The body is larger than this endpoint accepts.")
    body = request.body
    if len(body) > settings.LEADRELAY_INTAKE_MAX_BYTES:
        return _json(413, "too_large", "The body is larger than this endpoint accepts.")
    outcome = receive(source, raw_delivery(request, body), remote_addr=ip)
    if outcome.text is not None:
        return HttpResponse(outcome.text, content_type="text/plain", status=outcome.http_status)
    return JsonResponse(outcome.body, status=outcome.http_status)
