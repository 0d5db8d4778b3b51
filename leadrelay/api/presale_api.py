"""The JSON API of the pre-sale brief and demos: sending the brief's link, filling it in
from a call, reading a lead's briefs; scheduling, rescheduling and closing demos, and
their .ics invitation.

Writing is for the lead's manager, the head of sales and admins (403 for others who see
the lead, 404 for who does not); reading for whoever may see the lead. The client's own
page is a web page (``/brief/<token>/``), not an endpoint.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from leadrelay.api.api import ERRORS, READ_ERRORS, _get, _user
from leadrelay.api.schemas import UserRef
from leadrelay.leads.errors import LeadNotFound
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.serialize import user_ref
from leadrelay.presale import briefs, demos
from leadrelay.presale.models import Brief, Demo

router: Router = Router(tags=["presale"])

DemoFormat = Literal["online", "office", "client"]
DemoOutcome = Literal["held", "cancelled", "no_show"]


# Schemas ------------------------------------------------------------------------------


class BriefOut(Schema):
    id: int
    lead: int
    service: str = Field(description="The service's code.")
    state: Literal["draft", "sent", "filled", "revoked", "expired"]
    sent_to: str
    sent_at: datetime | None
    expires_at: datetime | None
    filled_at: datetime | None
    filled_via: Literal["client", "call", ""]
    filled_by: UserRef | None
    revoked_at: datetime | None
    fields: list[dict[str, Any]] = Field(
        description="The questions, as copied from the service's template when the brief "
        "was made (the questionnaire format)."
    )
    values: dict[str, Any] = Field(description="The answers by field key, once filled in.")


class SentOut(Schema):
    brief: BriefOut
    url: str = Field(description="The link to give the client: /brief/<token>/ in full.")


class SendIn(Schema):
    model_config = ConfigDict(extra="forbid")

    to: str = Field("", description="The client's e-mail; the lead's e-mail if left out.")


class FillIn(Schema):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any] = Field(
        description="Answers by field key, in the questionnaire format (`money` as "
        "{`amount`, `currency`}, `multi_choice` as a list, `date` as YYYY-MM-DD, `yes_no` "
        "as a boolean). Every required question must be answered."
    )


class DemoOut(Schema):
    id: int
    lead: int
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    format: DemoFormat
    location: str
    attendees: list[str]
    state: Literal["scheduled", "held", "cancelled", "no_show"]
    note: str
    uid: str = Field(description="The invitation's iCalendar UID.")
    sequence: int = Field(description="The invitation's revision (iCalendar SEQUENCE).")
    created_by: UserRef | None


class DemoIn(Schema):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime = Field(description="ISO 8601 with an offset.")
    duration_minutes: int = 60
    format: DemoFormat = "online"
    location: str = Field("", description="A meeting link, or the address.")
    attendees: list[str] = Field(
        default_factory=list, description="E-mail addresses to send the invitation to."
    )
    note: str = ""


class DemoPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    state: DemoOutcome | None = Field(
        None, description="How a scheduled demo went; not together with new details."
    )
    starts_at: datetime | None = None
    duration_minutes: int | None = None
    format: DemoFormat | None = None
    location: str | None = None
    attendees: list[str] | None = None
    note: str | None = None


# Shapes ------------------------------------------------------------------------------------


def brief_dict(brief: Brief, now: datetime | None = None) -> dict[str, Any]:
    state = "draft"
    if brief.filled_at is not None:
        state = "filled"
    elif brief.revoked_at is not None:
        state = "revoked"
    elif brief.expires_at is not None and brief.expires_at <= (now or timezone.now()):
        state = "expired"
    elif brief.sent_at is not None:
        state = "sent"
    return {
        "id": brief.pk,
        "lead": brief.lead_id,
        "service": brief.service.code,
        "state": state,
        "sent_to": brief.sent_to,
        "sent_at": brief.sent_at,
        "expires_at": brief.expires_at,
        "filled_at": brief.filled_at,
        "filled_via": brief.filled_via,
        "filled_by": user_ref(brief.filled_by),
        "revoked_at": brief.revoked_at,
        "fields": brief.fields,
        "values": brief.values,
    }


def _brief_out(brief: Brief) -> dict[str, Any]:
    return brief_dict(Brief.objects.select_related("service", "filled_by").get(pk=brief.pk))


def demo_dict(demo: Demo) -> dict[str, Any]:
    return {
        "id": demo.pk,
        "lead": demo.lead_id,
        "starts_at": demo.starts_at,
        "ends_at": demo.starts_at + timedelta(minutes=demo.duration_minutes),
        "duration_minutes": demo.duration_minutes,
        "format": demo.format,
        "location": demo.location,
        "attendees": demo.attendees,
        "state": demo.state,
        "note": demo.note,
        "uid": str(demo.uid),
        "sequence": demo.sequence,
        "created_by": user_ref(demo.created_by),
    }


def _demo_out(demo: Demo) -> dict[str, Any]:
    return demo_dict(Demo.objects.select_related("created_by").get(pk=demo.pk))


def _visible_demo(request: HttpRequest, demo_id: int) -> Demo:
    """A demo of a lead the user may see, else 404 (whether or not it exists)."""
    demo = Demo.objects.select_related("created_by", "lead").filter(pk=demo_id).first()
    if demo is None or not visible_leads(_user(request)).filter(pk=demo.lead_id).exists():
        raise LeadNotFound(_("Demo %(id)s not found") % {"id": demo_id})
    return demo


# The brief ----------------------------------------------------------------------------------


@router.post("/leads/{lead_id}/brief/send", response={200: SentOut, **ERRORS})
def send_brief(request: HttpRequest, lead_id: int, body: SendIn) -> dict[str, Any]:
    """E-mail the client a link to a new brief of the lead's service, and return it.
    Links sent earlier and not yet filled in stop working.

    - **422** `invalid` (`errors.to`): not a valid address; `transition_not_allowed`: the
      lead is not between `discussion` and `contract`.
    """
    brief, path = briefs.send_brief(_user(request), lead_id, to=body.to)
    return {"brief": _brief_out(brief), "url": settings.LEADRELAY_BASE_URL.rstrip("/") + path}


@router.post("/leads/{lead_id}/brief/fill", response={200: BriefOut, **ERRORS})
def fill_brief(request: HttpRequest, lead_id: int, body: FillIn) -> dict[str, Any]:
    """Fill in the brief from a call (the link already sent, if any, is the one filled).
    A lead in `discussion` moves to `brief_filled` (SAL).

    - **422** `invalid`: `errors` has a message per question; nothing was saved.
    """
    return _brief_out(briefs.fill_from_call(_user(request), lead_id, body.values))


@router.get("/leads/{lead_id}/briefs", response={200: list[BriefOut], **READ_ERRORS})
def list_briefs(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """The lead's briefs, newest first."""
    lead = _get(request, lead_id)
    found = Brief.objects.filter(lead=lead).select_related("service", "filled_by")
    return [brief_dict(b) for b in found.order_by("-created_at", "-id")]


@router.post("/briefs/{brief_id}/revoke", response={200: BriefOut, **ERRORS})
def revoke_brief(request: HttpRequest, brief_id: int) -> dict[str, Any]:
    """Withdraw a link not filled in yet (again: no change).

    - **422** `transition_not_allowed`: the brief is filled in.
    """
    return _brief_out(briefs.revoke(_user(request), brief_id))


# Demos ---------------------------------------------------------------------------------------


@router.post("/leads/{lead_id}/demos", response={201: DemoOut, **ERRORS})
def schedule_demo(request: HttpRequest, lead_id: int, body: DemoIn) -> tuple[int, dict[str, Any]]:
    """Schedule a demo; each attendee is e-mailed the invitation (.ics attached).

    - **422** `invalid`: `errors` per field (`attendees` lists the addresses that are not
      valid); nothing was saved or sent.
    """
    demo = demos.schedule_demo(_user(request), lead_id, **body.model_dump())
    return 201, _demo_out(demo)


@router.patch("/demos/{demo_id}", response={200: DemoOut, **ERRORS})
def update_demo(request: HttpRequest, demo_id: int, body: DemoPatch) -> dict[str, Any]:
    """Record the outcome (`state`: held, cancelled, no_show) or change the details (a
    new `starts_at` is a reschedule: SEQUENCE + 1, the attendees get the update).

    - **422** `transition_not_allowed`: the demo is already held or cancelled; `invalid`:
      an outcome together with new details, or a detail that is not valid.
    """
    _visible_demo(request, demo_id)
    demo = demos.update_demo(_user(request), demo_id, **body.model_dump(exclude_none=True))
    return _demo_out(demo)


@router.get("/leads/{lead_id}/demos", response={200: list[DemoOut], **READ_ERRORS})
def list_demos(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """The lead's demos, by start time."""
    lead = _get(request, lead_id)
    return [demo_dict(d) for d in Demo.objects.filter(lead=lead).select_related("created_by")]


@router.get(
    "/demos/{demo_id}/ics",
    response={200: None, **READ_ERRORS},
    openapi_extra={"responses": {200: {"content": {"text/calendar": {}}}}},
)
def demo_ics(request: HttpRequest, demo_id: int) -> HttpResponse:
    """The demo's invitation as an RFC 5545 calendar (`text/calendar`)."""
    demo = _visible_demo(request, demo_id)
    response = HttpResponse(demos.ics(demo), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="demo-{demo.pk}.ics"'
    return response
