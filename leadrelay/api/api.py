"""The JSON API, ``/api/v1/``: a thin adapter over the lead core's domain functions."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Query, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ConfigDict, Field

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import HEADS, Role
from leadrelay.api.auth import TokenAuth
from leadrelay.api.schemas import (
    AnswersIn,
    BantIn,
    Conflict,
    DecisionIn,
    Error,
    EventOut,
    JudgementIn,
    LeadOut,
    LeadPage,
    NeedOut,
    NoteIn,
    QualificationOut,
    QuestionnaireOut,
    ReasonCodeOut,
    ReassignIn,
    ReturnOut,
    ReturnPage,
    ServiceIn,
    TouchIn,
    TransitionIn,
    Unprocessable,
)
from leadrelay.catalog.models import Partner
from leadrelay.intake.normalize import normalize_email, normalize_phone
from leadrelay.leads import queries, transitions
from leadrelay.leads.errors import Forbidden, LeadError, LeadNotFound, MissingField
from leadrelay.leads.models import Lead
from leadrelay.leads.serialize import event_dict, lead_dict, user_ref
from leadrelay.leads.statuses import Stage, Status
from leadrelay.qualify import answers as qa
from leadrelay.qualify import fields as qf
from leadrelay.qualify import returns
from leadrelay.qualify.handoff import reason_codes
from leadrelay.qualify.models import (
    Answers,
    Bant,
    NeedCategory,
    Questionnaire,
    QuestionnaireVersion,
    ReasonCode,
    Return,
)

api = NinjaAPI(
    title="Leadrelay API",
    version="1",
    description=(
        "Leads, their status machine and history; the SDR workspace: claiming "
        "requests, BANT and questionnaires, and the rejection loop with sales; and the "
        "sales workspace: assignment of MQLs to managers, the pre-sale brief and demos, "
        "proposals, the contract and payments, and clients. "
        "Authenticate with `Authorization: Bearer <token>` (create one with "
        "`leadrelay token create NAME`). "
        'Errors are JSON `{"code": "...", "message": "..."}`, with details where they help: '
        "a 422 names the `field` at fault, what a move still needs (`missing`), the moves "
        "allowed (`allowed`) or a message per field (`errors`); a 409 the lead's "
        "`current_version` or the `owner` who has the request."
    ),
    auth=TokenAuth(),
    urls_namespace="api-v1",
)

ERRORS: dict[int, type[Schema]] = {
    401: Error,
    403: Error,
    404: Error,
    409: Conflict,
    422: Unprocessable,
}
# For endpoints that only read: no version to conflict on.
READ_ERRORS: dict[int, type[Schema]] = {401: Error, 404: Error, 422: Unprocessable}
LEAD_RELATED = ("sdr", "manager", "source", "service")


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
    qs = filter_leads(_user(request), filters).select_related(*LEAD_RELATED)
    page = list(qs.order_by("-id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [lead_dict(lead) for lead in page],
        "next_cursor": encode_cursor(page[-1].pk) if more else None,
    }


def _lead_not_found(lead_id: int) -> LeadNotFound:
    return LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})


def _get(request: HttpRequest, lead_id: int) -> Lead:
    """A lead in the user's scope, with what ``lead_dict`` reads, in one query."""
    lead = (
        queries.visible_leads(_user(request))
        .select_related(*LEAD_RELATED)
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise _lead_not_found(lead_id)
    return lead


def _out(lead: Lead) -> dict[str, Any]:
    """The lead as a domain function left it, read back with its relations in one query
    (whether or not the actor still sees it: the answer is about their own action)."""
    return lead_dict(Lead.objects.select_related(*LEAD_RELATED).get(pk=lead.pk))


@api.get("/leads/{lead_id}", response={200: LeadOut, **READ_ERRORS}, tags=["leads"])
def get_lead(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    return lead_dict(_get(request, lead_id))


@api.get("/leads/{lead_id}/events", response={200: list[EventOut], **READ_ERRORS}, tags=["leads"])
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
    """Move the lead along its path.

    - **409** `version_conflict`: stale `version`, or someone got there first.
    - **422** `transition_not_allowed`: not from the current status (`allowed` lists what
      is); `missing_field`: something the move needs. A gated move lists everything still
      missing in `missing` (`[{"field", "label"}]`): a hand-off to `awaiting_assignment`
      names the service, each BANT item and each required questionnaire answer; a move to
      `disqualified`, or a return by sales to `sdr_processing`, without a valid
      `reason_code` names the codes allowed (`GET /reason-codes`).
    - **403** `forbidden`: your role may not make this move on this lead.

    **Release**: an SDR gives a claimed request back to the queue by moving it from
    `sdr_processing` to `new` with a `reason`; the SDR is cleared and anyone may claim it.
    """
    options = transitions.MoveOptions(
        manager=_optional(User, body.manager, "manager", role=Role.SALES),
        partner=_optional(Partner, body.partner, "partner"),
        department=_optional(Department, body.department, "department"),
        reason_code=body.reason_code.strip(),
        competitor=body.competitor,
    )
    lead = transitions.move_lead(
        _user(request),
        lead_id,
        body.to,
        version=body.version,
        reason=body.reason,
        options=options,
    )
    return _out(lead)


@api.post("/leads/{lead_id}/claim", response={200: LeadOut, **ERRORS}, tags=["sdr"])
def claim(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """Take an incoming request: you own it and it is in `sdr_processing`. Claiming your
    own request again changes nothing.

    - **409** `already_taken`: someone else has it; `owner` is `{"id", "name"}`.
    - **422** `transition_not_allowed`: the request is no longer incoming.
    - **403** `forbidden`: only the SDR team claims requests.

    To release a request, move it to `new` (`POST /leads/{id}/transition`).
    """
    return _out(transitions.claim(_user(request), lead_id))


@api.post("/leads/{lead_id}/reassign", response={200: LeadOut, **ERRORS}, tags=["sdr"])
def reassign(request: HttpRequest, lead_id: int, body: ReassignIn) -> dict[str, Any]:
    """Give a request still with the SDR team to another SDR: the lead SDR's or the head
    of marketing's call. The new owner is notified.

    - **403** `forbidden`: you do not lead the SDR team.
    - **409** `version_conflict`: stale `version`.
    - **422** `missing_field` (`field: "sdr"`): not an active SDR;
      `transition_not_allowed`: the request has left the SDR side.
    """
    actor = _user(request)
    if not transitions.leads_sdr_team(actor):
        raise Forbidden(_("Only the lead SDR or the head of marketing reassigns requests."))
    sdr = User.objects.filter(pk=body.sdr).first()
    if sdr is None:
        raise MissingField(_("The new owner must be an active SDR."), field="sdr")
    return _out(transitions.reassign(actor, lead_id, sdr, version=body.version))


@api.post("/leads/{lead_id}/touches", response={200: LeadOut, **ERRORS}, tags=["leads"])
def touch(request: HttpRequest, lead_id: int, body: TouchIn) -> dict[str, Any]:
    """Log a human contact with the lead: a call with its outcome (and duration), an
    e-mail sent, a meeting. The first one stops the 30-minute clock. 422: unknown channel,
    a call without an outcome, a duration out of range, or a closed lead; 403: not your
    lead."""
    lead = transitions.log_touch(
        _user(request),
        lead_id,
        body.channel,
        outcome=body.outcome,
        note=body.note,
        duration_seconds=body.duration_seconds,
    )
    return _out(lead)


@api.post("/leads/{lead_id}/notes", response={201: EventOut, **ERRORS}, tags=["leads"])
def add_note(request: HttpRequest, lead_id: int, body: NoteIn) -> tuple[int, dict[str, Any]]:
    """Write a note in the lead's history: anyone who sees the lead may. 422: an empty
    note or one over 4,000 characters."""
    event = transitions.add_note(_user(request), lead_id, body.text)
    return 201, event_dict(event)


@api.put("/leads/{lead_id}/service", response={200: LeadOut, **ERRORS}, tags=["qualification"])
def put_service(request: HttpRequest, lead_id: int, body: ServiceIn) -> dict[str, Any]:
    """Name the service the client asks for (by its code): its questionnaire then
    applies to the hand-off. 422: an unknown or inactive service; 403: not the lead's
    SDR, or the request has left the SDR side."""
    return _out(qa.set_service(_user(request), lead_id, body.service))


# Qualification -------------------------------------------------------------------------


def _version_dict(version: QuestionnaireVersion) -> dict[str, Any]:
    fields = [f.as_dict() for f in qf.fields_of(version.fields)]
    return {"id": version.pk, "number": version.number, "fields": fields}


def _bant_dict(bant: Bant) -> dict[str, Any]:
    return {
        "budget_amount": str(bant.budget_amount) if bant.budget_amount is not None else None,
        "budget_band": bant.budget_band,
        "currency": bant.currency,
        "authority_role": bant.authority_role,
        "decision_maker": bant.decision_maker,
        "need": bant.need.code if bant.need else None,
        "need_text": bant.need_text,
        "timeframe_date": bant.timeframe_date,
        "timeframe_band": bant.timeframe_band,
        "updated_at": bant.updated_at,
    }


def qualification_dict(lead: Lead) -> dict[str, Any]:
    bant = Bant.objects.filter(lead=lead).select_related("need").first()
    given = {
        a.questionnaire_id: a for a in Answers.objects.filter(lead=lead).select_related("version")
    }
    items = []
    for q in qa.questionnaires_for(lead):
        answers = given.get(q.pk)
        # As ``qa.version_for``: the version answered against, else the newest.
        version = answers.version if answers is not None else q.current()
        if version is None:
            continue
        items.append(
            {
                "id": q.pk,
                "common": q.common,
                "service": lead.service.code if not q.common and lead.service else None,
                "version": _version_dict(version),
                "answers": answers.values if answers is not None else None,
                "answered_version": answers.version.number if answers is not None else None,
            }
        )
    return {
        "bant": _bant_dict(bant) if bant is not None else None,
        "questionnaires": items,
        "missing": [{"field": f, "label": label} for f, label in qa.handoff_missing(lead)],
    }


@api.get(
    "/leads/{lead_id}/qualification",
    response={200: QualificationOut, **READ_ERRORS},
    tags=["qualification"],
)
def qualification(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """BANT, the questionnaires that apply to the lead (the common block and its
    service's) with the version each is shown in and the stored answers, and what the
    hand-off to sales still needs. Anyone who sees the lead may read it."""
    return qualification_dict(_get(request, lead_id))


QUALIFY_ERRORS = """
- **422** `invalid`: `errors` maps each wrong field to its message; nothing was saved.
- **403** `forbidden`: only the request's SDR (or the head of marketing) fills it in, and
  only while the request is `new` or `sdr_processing`.
"""


@api.put(
    "/leads/{lead_id}/bant",
    response={200: QualificationOut, **READ_ERRORS, 403: Error},
    tags=["qualification"],
    description="Replace the lead's BANT: a field left out is cleared.\n" + QUALIFY_ERRORS,
)
def put_bant(request: HttpRequest, lead_id: int, body: BantIn) -> dict[str, Any]:
    raw = {**body.model_dump(exclude_unset=True), **(body.model_extra or {})}
    qa.save_bant(_user(request), lead_id, raw)
    return qualification_dict(_get(request, lead_id))


@api.put(
    "/leads/{lead_id}/answers/{version_id}",
    response={200: QualificationOut, **READ_ERRORS, 403: Error},
    tags=["qualification"],
    description=(
        "Replace the lead's answers to one questionnaire, given against version "
        "`version_id` (the `version.id` the form was opened with: a version published "
        "meanwhile does not change how these answers are read). 422 `missing_field` "
        '(`field: "version"`): the version is not of a questionnaire for this lead.\n'
        + QUALIFY_ERRORS
    ),
)
def put_answers(
    request: HttpRequest, lead_id: int, version_id: int, body: AnswersIn
) -> dict[str, Any]:
    qa.save_answers(_user(request), lead_id, version_id, body.values)
    return qualification_dict(_get(request, lead_id))


# Lists ---------------------------------------------------------------------------------


@api.get("/questionnaires", response={200: list[QuestionnaireOut], 401: Error}, tags=["lists"])
def questionnaires(request: HttpRequest) -> list[dict[str, Any]]:
    """Every questionnaire with its current version (the one a new lead is given)."""
    newest = (
        QuestionnaireVersion.objects.filter(questionnaire=OuterRef("questionnaire"))
        .order_by("-number")
        .values("pk")[:1]
    )
    latest = {
        v.questionnaire_id: v for v in QuestionnaireVersion.objects.filter(pk=Subquery(newest))
    }
    return [
        {
            "id": q.pk,
            "common": q.common,
            "service": q.service.code if q.service else None,
            "name": str(q),
            "version": _version_dict(latest[q.pk]) if q.pk in latest else None,
        }
        for q in Questionnaire.objects.select_related("service").order_by("-common", "pk")
    ]


@api.get(
    "/reason-codes",
    response={200: list[ReasonCodeOut], 401: Error, 422: Unprocessable},
    tags=["lists"],
)
def list_reason_codes(
    request: HttpRequest, kind: ReasonCode.Kind | None = None
) -> list[dict[str, Any]]:
    """The active reason codes, in order: `disqualify` (to `disqualified`), `return` (sales
    sending an MQL back), `lost`."""
    codes = reason_codes(kind) if kind else list(ReasonCode.objects.filter(active=True))
    return [
        {"kind": c.kind, "code": c.code, "name_en": c.name_en, "name_ru": c.name_ru} for c in codes
    ]


@api.get("/needs", response={200: list[NeedOut], 401: Error}, tags=["lists"])
def needs(request: HttpRequest) -> list[dict[str, Any]]:
    """The active needs (BANT's N), in order."""
    return [
        {"code": n.code, "name_en": n.name_en, "name_ru": n.name_ru}
        for n in NeedCategory.objects.filter(active=True)
    ]


# Returns -------------------------------------------------------------------------------


def returns_for(user: User) -> QuerySet[Return]:
    """An SDR sees the returns of their requests, a sales manager those they made, the
    heads and admins all of them."""
    qs = Return.objects.all()
    if not user.is_active:
        return qs.none()
    if user.is_superuser or user.role == Role.ADMIN or user.role in HEADS:
        return qs
    if user.role == Role.SDR:
        return qs.filter(sdr=user)
    if user.role == Role.SALES:
        return qs.filter(returned_by=user)
    return qs.none()


def return_dict(ret: Return) -> dict[str, Any]:
    return {
        "id": ret.pk,
        "lead": ret.lead_id,
        "state": ret.state,
        "from_status": ret.from_status,
        "returned_at": ret.returned_at,
        "returned_by": user_ref(ret.returned_by),
        "sdr": user_ref(ret.sdr),
        "reason_code": ret.reason_code,
        "reason": ret.reason,
        "sdr_note": ret.sdr_note,
        "decided_at": ret.decided_at,
        "judge": user_ref(ret.judge),
        "judge_note": ret.judge_note,
        "judged_at": ret.judged_at,
    }


class ReturnFilters(Schema):
    model_config = ConfigDict(extra="forbid")

    state: list[Return.State] = Field(
        default_factory=list, description="One or more states; all if none."
    )
    lead: int | None = Field(None, ge=1, le=2**63 - 1)
    cursor: str | None = None
    limit: int = Field(settings.LEADRELAY_PAGE_SIZE, ge=1, le=200)


RETURN_RELATED = ("returned_by", "sdr", "judge")


@api.get("/returns", response={200: ReturnPage, **READ_ERRORS}, tags=["returns"])
def list_returns(request: HttpRequest, filters: Query[ReturnFilters]) -> dict[str, Any]:
    """MQLs sales sent back, newest first: an SDR sees their own, a sales manager those
    they returned, heads all. `state=open` is what awaits the SDR; `state=disputed` what
    awaits a head."""
    unknown = sorted(set(request.GET) - set(ReturnFilters.model_fields))
    if unknown:
        raise MissingField(
            _("Unknown filter(s): %(names)s.") % {"names": ", ".join(unknown)}, field=unknown[0]
        )
    qs = returns_for(_user(request))
    if filters.state:
        qs = qs.filter(state__in=filters.state)
    if filters.lead is not None:
        qs = qs.filter(lead_id=filters.lead)
    if filters.cursor:
        qs = qs.filter(id__lt=decode_cursor(filters.cursor))
    page = list(qs.select_related(*RETURN_RELATED).order_by("-id")[: filters.limit + 1])
    more = len(page) > filters.limit
    page = page[: filters.limit]
    return {
        "items": [return_dict(r) for r in page],
        "next_cursor": encode_cursor(page[-1].pk) if more else None,
    }


def _return_out(ret: Return) -> dict[str, Any]:
    return return_dict(Return.objects.select_related(*RETURN_RELATED).get(pk=ret.pk))


@api.post("/returns/{return_id}/decision", response={200: ReturnOut, **ERRORS}, tags=["returns"])
def decide_return(request: HttpRequest, return_id: int, body: DecisionIn) -> dict[str, Any]:
    """The SDR's answer to an `open` return: accept it (rework the request) or dispute it
    (a `note` is required; the heads are notified).

    - **403** `forbidden`: not the request's SDR (or the head of marketing).
    - **422** `transition_not_allowed`: already answered; `missing_field`: a dispute
      without a note.
    """
    ret = returns.decide(_user(request), return_id, accept=body.accept, note=body.note)
    return _return_out(ret)


@api.post("/returns/{return_id}/judgement", response={200: ReturnOut, **ERRORS}, tags=["returns"])
def judge_return(request: HttpRequest, return_id: int, body: JudgementIn) -> dict[str, Any]:
    """A head settles a `disputed` return: `overturn` puts the MQL back in the sales queue
    (`awaiting_assignment`); otherwise the return stands.

    - **403** `forbidden`: only the head of marketing or sales (or an admin).
    - **422** `transition_not_allowed`: not disputed, or the request has moved on.
    """
    ret = returns.judge(_user(request), return_id, overturn=body.overturn, note=body.note)
    return _return_out(ret)


# The sales workspace's endpoints, one router per area, beside this module (they use its
# helpers, hence the import at the end).
from leadrelay.api import deals_api, presale_api, sales_api  # noqa: E402

for _router in (sales_api.router, presale_api.router, deals_api.router):
    api.add_router("", _router)
