"""The JSON API, ``/api/v1/``: a thin adapter over the lead core's domain functions."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict, Field

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import Role
from leadrelay.api.auth import TokenAuth
from leadrelay.api.schemas import Error, EventOut, LeadOut, LeadPage, TouchIn, TransitionIn
from leadrelay.catalog.models import Partner
from leadrelay.intake.normalize import normalize_email, normalize_phone
from leadrelay.leads import queries, transitions
from leadrelay.leads.errors import LeadError, MissingField
from leadrelay.leads.models import Lead
from leadrelay.leads.serialize import event_dict, lead_dict
from leadrelay.leads.statuses import Stage, Status

api = NinjaAPI(
    title="Leadrelay API",
    version="1",
    description=(
        "Leads, their status machine and history. Authenticate with "
        "`Authorization: Bearer <token>` (create one with `leadrelay token create NAME`). "
        'Errors are JSON `{"code": "...", "message": "..."}`.'
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
)

ERRORS: dict[int, type[Schema]] = {401: Error, 403: Error, 404: Error, 409: Error, 422: Error}


def _error(
    request: HttpRequest,
    http_status: int,
    code: str,
    message: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body = {**(extra or {}), "code": code, "message": message}
    return api.create_response(request, body, status=http_status)


@api.exception_handler(LeadError)
def _lead_error(request: HttpRequest, exc: LeadError) -> HttpResponse:
    return _error(request, exc.http_status, exc.code, exc.message, exc.details)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    return _error(
        request, 422, "validation_error", "The request is not valid.", {"errors": exc.errors}
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthorized", "A valid Bearer token is required.")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", str(exc) or "Not found.")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "error", str(exc))


def _user(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)
    return user


class LeadFilters(Schema):
    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    phone: str | None = None
    status: Status | None = None
    stage: Stage | None = Field(None, description="Leads that reached (or passed) this stage.")
    sdr: int | None = None
    manager: int | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    cursor: str | None = None
    limit: int = Field(settings.LEADRELAY_PAGE_SIZE, ge=1, le=200)


class InvalidCursor(MissingField):
    code = "invalid_cursor"


def encode_cursor(lead_id: int) -> str:
    return base64.urlsafe_b64encode(str(lead_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        return int(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor("The cursor is not valid.", field="cursor") from None


def filter_leads(user: User, f: LeadFilters) -> Any:
    qs = queries.visible_leads(user)
    if f.email:
        qs = qs.filter(email=normalize_email(f.email))
    if f.phone:
        qs = qs.filter(phone=normalize_phone(f.phone) or f.phone.strip())
    if f.status:
        qs = qs.filter(status=f.status)
    if f.stage:
        qs = qs.filter(**{f"reached_{f.stage.value}_at__isnull": False})
    if f.sdr is not None:
        qs = qs.filter(sdr_id=f.sdr)
    if f.manager is not None:
        qs = qs.filter(manager_id=f.manager)
    if f.received_from:
        qs = qs.filter(received_at__gte=f.received_from)
    if f.received_to:
        qs = qs.filter(received_at__lt=f.received_to)
    if f.cursor:
        qs = qs.filter(id__lt=decode_cursor(f.cursor))
    return qs


@api.get("/leads", response={200: LeadPage, **ERRORS}, tags=["leads"])
def list_leads(request: HttpRequest, filters: Query[LeadFilters]) -> dict[str, Any]:
    """Leads visible to you, newest first, keyset-paginated by `cursor`."""
    unknown = sorted(set(request.GET) - set(LeadFilters.model_fields))
    if unknown:
        # A misspelt filter must not silently list every lead.
        raise MissingField(f"Unknown filter(s): {', '.join(unknown)}.", field=unknown[0])
    qs = filter_leads(_user(request), filters).select_related("sdr", "manager", "source", "service")
    page = list(qs.order_by("-id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [lead_dict(lead) for lead in page],
        "next_cursor": encode_cursor(page[-1].pk) if more else None,
    }


def _get(request: HttpRequest, lead_id: int) -> Lead:
    lead = queries.get_lead_for(_user(request), lead_id)
    return lead


@api.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, tags=["leads"])
def get_lead(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    return lead_dict(_get(request, lead_id))


@api.get("/leads/{lead_id}/events", response={200: list[EventOut], **ERRORS}, tags=["leads"])
def lead_events(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """The lead's whole history, oldest first."""
    lead = _get(request, lead_id)
    return [event_dict(e) for e in lead.events.select_related("actor").order_by("at", "id")]


def _optional(model: Any, pk: int | None, field: str, **filters: Any) -> Any:
    if pk is None:
        return None
    obj = model.objects.filter(pk=pk, **filters).first()
    if obj is None:
        raise MissingField(f"Unknown {field} {pk}.", field=field)
    return obj


@api.post("/leads/{lead_id}/transition", response={200: LeadOut, **ERRORS}, tags=["leads"])
def transition(request: HttpRequest, lead_id: int, body: TransitionIn) -> dict[str, Any]:
    """Move the lead along its path. 409: stale `version`; 422: not allowed from the
    current status or a required field is missing; 403: your role may not."""
    options = transitions.MoveOptions(
        manager=_optional(User, body.manager, "manager", role=Role.SALES),
        partner=_optional(Partner, body.partner, "partner"),
        department=_optional(Department, body.department, "department"),
    )
    lead = transitions.move_lead(
        _user(request),
        lead_id,
        body.to,
        version=body.version,
        reason=body.reason,
        options=options,
    )
    return lead_dict(lead)


@api.post("/leads/{lead_id}/touches", response={200: LeadOut, **ERRORS}, tags=["leads"])
def touch(request: HttpRequest, lead_id: int, body: TouchIn) -> dict[str, Any]:
    """Log a human contact with the lead: a call with its outcome, an e-mail sent, a
    meeting. The first one stops the 30-minute clock. 422: unknown channel, a call
    without an outcome, or a closed lead; 403: not your lead."""
    lead = transitions.log_touch(
        _user(request), lead_id, body.channel, outcome=body.outcome, note=body.note
    )
    return lead_dict(lead)
