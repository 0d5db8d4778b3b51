"""The SDR's work on the lead page: claiming, notes, BANT, questionnaires and returns.

Each view is one domain call (``leads.transitions``, ``qualify.answers``,
``qualify.returns``) and answers like the lead page's other forms: under HTMX the part
of the page the form belongs to (or all of ``#lead-main`` when the lead itself changed),
without JavaScript a redirect back to the lead page, and on a refusal the page again
with the error next to what the user typed, nothing saved.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadrelay.leads.errors import AlreadyTaken, InvalidInput, LeadError, LeadNotFound
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.transitions import add_note, claim
from leadrelay.qualify import fields as qf
from leadrelay.qualify.answers import (
    BANT_FIELDS,
    raw_from_post,
    save_answers,
    save_bant,
    set_service,
)
from leadrelay.qualify.models import QuestionnaireVersion, Return
from leadrelay.qualify.returns import decide, judge
from leadrelay.web.forms import NoteForm, ReturnDecisionForm, ReturnVerdictForm
from leadrelay.web.views import (
    _STALE,
    ANSWER_PREFIX,
    QUESTIONNAIRE_PLACE,
    HtmxHttpRequest,
    Posted,
    _done,
    _not_found,
    _partial,
    _render_lead,
    _user,
    questionnaire_slug,
)


@login_required
@require_POST
def lead_claim(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Take an incoming request; whoever comes second learns who has it (409)."""
    user = _user(request)
    try:
        try:
            claim(user, lead_id)
        except AlreadyTaken as exc:
            try:
                return _render_lead(
                    request, user, lead_id, status=exc.http_status, place="lead-head", error=exc
                )
            except LeadNotFound:
                # The winner's request is no longer in this SDR's view: say who has it.
                return _not_found(request, exc.message, status=exc.http_status)
        except LeadNotFound:
            raise
        except LeadError as exc:
            return _render_lead(
                request, user, lead_id, status=exc.http_status, place="lead-head", error=exc
            )
        done = _("The request is yours now.")
        if _partial(request):
            return _render_lead(request, user, lead_id, whole=True, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done)


@login_required
@require_POST
def lead_note(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    form = NoteForm(request.POST)
    text = request.POST.get("note", "")
    place = "lead-note"
    try:
        try:
            if not form.is_valid():
                raise InvalidInput(_("A note is at most 4,000 characters."), field="note")
            add_note(user, lead_id, form.cleaned_data["note"])
        except LeadNotFound:
            raise
        except LeadError as exc:
            return _render_lead(
                request,
                user,
                lead_id,
                status=exc.http_status,
                place=place,
                error=exc,
                note_text=text,
            )
        done = _("Note added.")
        if _partial(request):
            return _render_lead(request, user, lead_id, place=place, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=place)


@login_required
@require_POST
def lead_service(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Name the requested service; its questionnaire appears with the page redrawn."""
    user = _user(request)
    place = "lead-request"
    try:
        try:
            set_service(user, lead_id, request.POST.get("service", ""))
        except LeadNotFound:
            raise
        except LeadError as exc:
            return _render_lead(
                request, user, lead_id, status=exc.http_status, place=place, whole=True, error=exc
            )
        done = _("Service saved.")
        if _partial(request):
            return _render_lead(request, user, lead_id, whole=True, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=place)


@login_required
@require_POST
def lead_bant(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Save the BANT block as posted: every value checked, all saved or none."""
    user = _user(request)
    raw = {key: request.POST.get(key, "") for key in BANT_FIELDS}
    place = "bant"
    try:
        try:
            save_bant(user, lead_id, raw)
        except LeadNotFound:
            raise
        except InvalidInput as exc:
            posted = Posted(bant=raw, bant_errors=dict(exc.details.get("errors") or {}))
            return _render_lead(
                request, user, lead_id, status=422, place=place, posted=posted, error=exc
            )
        except LeadError as exc:
            # Not (or no longer) the SDR's to edit: the page as it is now says why.
            return _render_lead(
                request, user, lead_id, status=exc.http_status, place=place, whole=True, error=exc
            )
        done = _("BANT saved.")
        if _partial(request):
            return _render_lead(request, user, lead_id, place=place, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=place)


def _version(value: str | None) -> QuestionnaireVersion | None:
    if not value or not value.isdecimal() or not value.isascii() or len(value) > 18:
        return None
    return (
        QuestionnaireVersion.objects.select_related("questionnaire__service")
        .filter(pk=int(value))
        .first()
    )


@login_required
@require_POST
def lead_answers(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """Save one questionnaire's answers against the version the form was rendered with
    (its hidden ``version_id``), whatever has been published since."""
    user = _user(request)
    version = _version(request.POST.get("version_id"))
    fields = qf.fields_of(version.fields) if version is not None else []
    raw = raw_from_post(fields, request.POST, prefix=ANSWER_PREFIX)
    place = QUESTIONNAIRE_PLACE + questionnaire_slug(version.questionnaire) if version else ""
    try:
        try:
            save_answers(user, lead_id, version.pk if version is not None else 0, raw)
        except LeadNotFound:
            raise
        except InvalidInput as exc:
            posted = Posted(
                version=version, answers=raw, answer_errors=dict(exc.details.get("errors") or {})
            )
            return _render_lead(
                request, user, lead_id, status=422, place=place, posted=posted, error=exc
            )
        except LeadError as exc:
            return _render_lead(
                request, user, lead_id, status=exc.http_status, place=place, whole=True, error=exc
            )
        assert version is not None  # save_answers refuses an unknown version
        done = _("Answers saved (questionnaire version %(number)s).") % {"number": version.number}
        if _partial(request):
            return _render_lead(request, user, lead_id, place=place, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=place)


def _return_of(request: HtmxHttpRequest, lead_id: int, return_id: int) -> bool:
    """The return exists, belongs to this lead, and the user sees the lead."""
    user = _user(request)
    return (
        visible_leads(user).filter(pk=lead_id).exists()
        and Return.objects.filter(pk=return_id, lead_id=lead_id).exists()
    )


@login_required
@require_POST
def return_decide(request: HtmxHttpRequest, lead_id: int, return_id: int) -> HttpResponse:
    """The SDR accepts a return, or disputes it (a note is required)."""
    user = _user(request)
    if not _return_of(request, lead_id, return_id):
        return _not_found(request)
    form = ReturnDecisionForm(request.POST)
    note = request.POST.get("note", "")
    place = "return-panel"
    try:
        try:
            if not form.is_valid():
                raise InvalidInput(_("Accept the return or dispute it."), field="decision")
            accept = form.cleaned_data["decision"] == "accept"
            decide(user, return_id, accept=accept, note=form.cleaned_data["note"])
        except LeadNotFound:
            raise
        except LeadError as exc:
            return _render_lead(
                request,
                user,
                lead_id,
                status=exc.http_status,
                place=place,
                error=exc,
                return_note=note,
                return_id=return_id,
            )
        done = _("Return accepted.") if accept else _("Return disputed; a head will decide.")
        if _partial(request):
            return _render_lead(request, user, lead_id, whole=True, place=place, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=place)


@login_required
@require_POST
def return_judge(request: HtmxHttpRequest, lead_id: int, return_id: int) -> HttpResponse:
    """A head settles a disputed return: upheld, or overturned (the lead goes back to
    sales)."""
    user = _user(request)
    if not _return_of(request, lead_id, return_id):
        return _not_found(request)
    form = ReturnVerdictForm(request.POST)
    note = request.POST.get("note", "")
    place = "return-panel"
    try:
        try:
            if not form.is_valid():
                raise InvalidInput(_("Uphold the return or overturn it."), field="verdict")
            overturn = form.cleaned_data["verdict"] == "overturn"
            judge(user, return_id, overturn=overturn, note=form.cleaned_data["note"])
        except LeadNotFound:
            raise
        except LeadError as exc:
            return _render_lead(
                request,
                user,
                lead_id,
                status=exc.http_status,
                place=place,
                whole=exc.code in _STALE,
                error=exc,
                return_note=note,
                return_id=return_id,
            )
        done = (
            _("Return overturned: the lead is back with sales.")
            if overturn
            else _("Return upheld.")
        )
        if _partial(request):
            return _render_lead(request, user, lead_id, whole=True, place=place, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=place)
