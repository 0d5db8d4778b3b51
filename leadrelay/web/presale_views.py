"""The pre-sale brief and demos on the web: the lead page's panel and its forms, the
client's public brief page (no login), the .ics download and the settings page.

Each POST is one domain call (``presale.briefs``, ``presale.demos``) answered like the
lead page's other forms: under HTMX all of ``#lead-main`` again (a fill can move the
lead), without JavaScript a redirect back to the lead page, and on a refusal the page
with the errors next to what the user typed, nothing saved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.errors import InvalidInput, LeadError, LeadNotFound
from leadrelay.leads.models import Lead
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.statuses import Status
from leadrelay.presale import briefs, demos
from leadrelay.presale.models import Brief, BriefTemplate, Demo, DemoPolicy
from leadrelay.qualify import fields as qf
from leadrelay.qualify.answers import raw_from_post
from leadrelay.sales.access import may_work
from leadrelay.web import panels
from leadrelay.web.views import (
    ANSWER_PREFIX,
    AnswerInput,
    HtmxHttpRequest,
    _answer_input,
    _done,
    _not_found,
    _partial,
    _render_lead,
    _user,
)

BRIEF_PLACE = "presale-brief"
DEMOS_PLACE = "presale-demos"
# The panel shows on these leads; only BRIEF_OPEN ones take new records.
SHOWN = (*briefs.BRIEF_OPEN, Status.CONVERTED, Status.LOST)


# The panel on the lead page -------------------------------------------------------------


@dataclass
class PresalePosted:
    """A refused form's input, shown again next to its errors: ``form`` says which
    ("send", "fill", "schedule" or "demo-<id>")."""

    form: str
    values: dict[str, Any] = dc_field(default_factory=dict)
    errors: dict[str, str] = dc_field(default_factory=dict)


@dataclass(frozen=True)
class DemoRow:
    demo: Demo
    state_label: str
    format_label: str
    ends_at: datetime
    ics_url: str
    update_url: str
    may_change: bool

    @property
    def form_id(self) -> str:
        """Which PresalePosted.form this demo's reschedule form is."""
        return f"demo-{self.demo.pk}"


def _brief_state(brief: Brief | None) -> str:
    """The brief's state in one word the template picks a sentence by."""
    if brief is None:
        return "none"
    if brief.filled_at is not None:
        return "filled"
    if brief.revoked_at is not None:
        return "revoked"
    return "sent" if brief.sent_at is not None else "draft"


def _inputs(
    fields: list[dict[str, Any]], values: dict[str, Any], errors: dict[str, str]
) -> list[AnswerInput]:
    return [
        _answer_input(f, "brief", values.get(f.key), errors.get(f.key, ""))
        for f in qf.fields_of(fields)
    ]


def presale_panel(
    user: User, lead: Lead, posted: PresalePosted | None = None
) -> panels.Panel | None:
    """The brief and the demos of a lead from the discussion on: three queries (briefs,
    demos, the service's template and policy) whatever the history."""
    if lead.status not in SHOWN:
        return None
    # The filler's name is on the panel for a brief filled from a call.
    brief_list = list(
        Brief.objects.filter(lead=lead)
        .select_related("filled_by")
        .order_by("-created_at", "-id")[:20]
    )
    demo_list = list(Demo.objects.filter(lead=lead).order_by("starts_at", "id"))
    if lead.status not in briefs.BRIEF_OPEN and not brief_list and not demo_list:
        return None
    works = may_work(user, lead) and lead.status in briefs.BRIEF_OPEN
    current = brief_list[0] if brief_list else None
    filled = next((b for b in brief_list if b.filled_at is not None), None)
    link = ""
    if current is not None and _brief_state(current) == "sent" and works:
        link = settings.LEADRELAY_BASE_URL.rstrip("/") + briefs.url_for(current)
    template = policy = None
    if lead.service_id is not None:
        template = BriefTemplate.objects.filter(service_id=lead.service_id).first()
        policy = DemoPolicy.objects.filter(service_id=lead.service_id, demo_required=True).first()
    held = any(d.state == Demo.State.HELD for d in demo_list)
    fill_inputs: list[AnswerInput] = []
    if works and lead.service_id is not None:
        # What fill_from_call will check against (briefs.fields_for_call), from the rows read.
        unfilled = current if _brief_state(current) in ("sent", "draft") else None
        fields = unfilled.fields if unfilled else briefs.fields_of_template(template)
        mine = posted if posted is not None and posted.form == "fill" else PresalePosted("")
        fill_inputs = _inputs(fields, mine.values, mine.errors)
    # Labels and links worked out once for the list, not once per demo.
    states = {str(v): str(label) for v, label in Demo.State.choices}
    formats = {str(v): str(label) for v, label in Demo.Format.choices}
    sentinel = 2_147_483_647
    ics_url = reverse("presale:demo_ics", args=[lead.pk, sentinel]).replace(str(sentinel), "{}")
    update_url = reverse("presale:demo_update", args=[lead.pk, sentinel])
    update_url = update_url.replace(str(sentinel), "{}")
    rows = [
        DemoRow(
            demo=d,
            state_label=states.get(d.state, d.state),
            format_label=formats.get(d.format, d.format),
            ends_at=d.starts_at + timedelta(minutes=d.duration_minutes),
            ics_url=ics_url.format(d.pk),
            update_url=update_url.format(d.pk),
            may_change=works and d.state in (Demo.State.SCHEDULED, Demo.State.NO_SHOW),
        )
        for d in demo_list
    ]
    context = {
        "lead": lead,
        "works": works,
        "brief": current,
        "brief_state": _brief_state(current),
        "link": link,
        "filled": filled,
        "answers": briefs.answers(filled) if filled is not None else [],
        "history": brief_list[1:],
        "fill_inputs": fill_inputs,
        "demos": rows,
        "demo_required": policy is not None,
        "demo_pending": policy is not None and not held,
        "formats": Demo.Format.choices,
        "posted": posted,
        "default_to": lead.email,
        "time_zone": settings.TIME_ZONE,
    }
    return panels.Panel("web/presale/_panel.html", context)


def _panel(user: User, lead: Lead) -> panels.Panel | None:
    return presale_panel(user, lead)


panels.register(_panel)


def _answer(
    request: HtmxHttpRequest,
    user: User,
    lead_id: int,
    place: str,
    done: str,
    call: Any,
    posted: PresalePosted,
) -> HttpResponse:
    """Run one domain call and answer as the lead page's forms do."""
    try:
        try:
            call()
        except LeadNotFound:
            raise
        except LeadError as exc:
            if isinstance(exc, InvalidInput):
                posted.errors = dict(exc.details.get("errors") or {})
            # The panel drawn with what was typed and its errors, in place of the plain one.
            lead = visible_leads(user).select_related("service").filter(pk=lead_id).first()
            again = presale_panel(user, lead, posted) if lead is not None else None
            return _render_lead(
                request,
                user,
                lead_id,
                status=exc.http_status,
                place=place,
                whole=True,
                error=exc,
                presale_again=again.context if again is not None else None,
            )
        if _partial(request):
            return _render_lead(request, user, lead_id, place=place, whole=True, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=place)


@login_required
@require_POST
def brief_send(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """E-mail the client a new link; the panel then shows it, to copy."""
    user = _user(request)
    to = request.POST.get("to", "").strip()
    return _answer(
        request,
        user,
        lead_id,
        BRIEF_PLACE,
        _("The link to the brief is sent; you can also copy it below."),
        lambda: briefs.send_brief(user, lead_id, to=to),
        PresalePosted("send", {"to": to}),
    )


@login_required
@require_POST
def brief_fill(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    """The client's answers typed in by the manager during a call."""
    user = _user(request)
    lead = visible_leads(user).filter(pk=lead_id).first()
    fields = briefs.fields_for_call(lead) if lead is not None else []
    raw = raw_from_post(qf.fields_of(fields), request.POST, prefix=ANSWER_PREFIX)
    posted = PresalePosted("fill", raw)
    return _answer(
        request,
        user,
        lead_id,
        BRIEF_PLACE,
        _("The brief is filled in."),
        lambda: briefs.fill_from_call(user, lead_id, raw),
        posted,
    )


@login_required
@require_POST
def brief_revoke(request: HtmxHttpRequest, lead_id: int, brief_id: int) -> HttpResponse:
    user = _user(request)
    if not Brief.objects.filter(pk=brief_id, lead_id=lead_id).exists():
        return _not_found(request)
    return _answer(
        request,
        user,
        lead_id,
        BRIEF_PLACE,
        _("The link is withdrawn."),
        lambda: briefs.revoke(user, brief_id),
        PresalePosted("revoke"),
    )


class DemoForm(forms.Form):
    """A demo's details as the form posts them; the domain checks the rest."""

    starts_at = forms.DateTimeField(
        label=gettext_lazy("Date and time"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    duration_minutes = forms.IntegerField(label=gettext_lazy("Duration, minutes"))
    format = forms.CharField(label=gettext_lazy("Format"))
    location = forms.CharField(label=gettext_lazy("Link or address"), required=False)
    attendees = forms.CharField(label=gettext_lazy("Attendees"), required=False)
    note = forms.CharField(label=gettext_lazy("Note"), required=False)


def _form_errors(form: forms.Form) -> InvalidInput:
    errors = {name: " ".join(str(e) for e in errs) for name, errs in form.errors.items()}
    return InvalidInput(_("The demo has errors; nothing was saved."), errors=errors)


@login_required
@require_POST
def demo_schedule(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    form = DemoForm(request.POST)
    posted = PresalePosted("schedule", dict(request.POST.items()))

    def call() -> None:
        if not form.is_valid():
            raise _form_errors(form)
        demos.schedule_demo(user, lead_id, **form.cleaned_data)

    return _answer(request, user, lead_id, DEMOS_PLACE, _("The demo is scheduled."), call, posted)


@login_required
@require_POST
def demo_update(request: HtmxHttpRequest, lead_id: int, demo_id: int) -> HttpResponse:
    """Mark a demo held, cancelled or missed (``state``), or move it (``starts_at``)."""
    user = _user(request)
    if not Demo.objects.filter(pk=demo_id, lead_id=lead_id).exists():
        return _not_found(request)
    state = request.POST.get("state", "")
    posted = PresalePosted(f"demo-{demo_id}", dict(request.POST.items()))

    def call() -> None:
        if state:
            demos.update_demo(user, demo_id, state=state)
            return
        form = DemoForm(request.POST)
        form.fields["format"].required = False
        form.fields["duration_minutes"].required = False
        if not form.is_valid():
            raise _form_errors(form)
        data = form.cleaned_data
        demos.update_demo(
            user,
            demo_id,
            starts_at=data["starts_at"],
            duration_minutes=data["duration_minutes"],
        )

    done = (
        _("The demo is marked “%(state)s”.") % {"state": Demo.State(state).label}
        if state in Demo.State.values
        else _("The demo is rescheduled; the attendees get the new time.")
    )
    return _answer(request, user, lead_id, DEMOS_PLACE, done, call, posted)


@login_required
@require_GET
def demo_ics(request: HtmxHttpRequest, lead_id: int, demo_id: int) -> HttpResponse:
    """The invitation for one's own calendar, for whoever may see the lead."""
    user = _user(request)
    lead = visible_leads(user).filter(pk=lead_id).first()
    demo = (
        Demo.objects.select_related("created_by").filter(pk=demo_id, lead_id=lead_id).first()
        if lead is not None
        else None
    )
    if lead is None or demo is None:
        return _not_found(request)
    response = HttpResponse(demos.ics(demo, lead=lead), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="demo-{demo.pk}.ics"'
    return response


# The client's page --------------------------------------------------------------------------


def _public(
    request: HttpRequest, template: str, context: dict[str, Any], status: int
) -> HttpResponse:
    response = render(request, f"web/presale/{template}", context, status=status)
    # The link is the client's key: it must not leak to other sites or search engines.
    # "same-origin", not "no-referrer": under no-referrer a browser posts the form with
    # "Origin: null", which Django's CSRF check refuses, so no client could send it.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _client_language(request: HttpRequest) -> str:
    """Russian unless the client picks English (the switch) or their browser asks for it."""
    chosen = request.POST.get("lang") or request.GET.get("lang") or ""
    if chosen in ("ru", "en"):
        return chosen
    return get_language() or settings.LANGUAGE_CODE


@never_cache
@require_http_methods(["GET", "POST"])
def public_brief(request: HttpRequest, token: str) -> HttpResponse:
    """The brief the client fills in through the link: no login, one submission."""
    language = _client_language(request)
    with translation.override(language):
        context: dict[str, Any] = {"lang": language, "token": token}
        try:
            brief = briefs.brief_for_token(token)
        except briefs.LinkUsed as exc:
            if request.method == "GET" and "thanks" in request.GET:
                return _public(request, "thanks.html", context, 200)
            return _public(request, "link_error.html", {**context, "error": exc}, exc.http_status)
        except briefs.BriefLinkError as exc:
            return _public(request, "link_error.html", {**context, "error": exc}, exc.http_status)
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        status = 200
        if request.method == "POST":
            values = raw_from_post(qf.fields_of(brief.fields), request.POST, prefix=ANSWER_PREFIX)
            try:
                briefs.fill_by_client(token, values)
            except briefs.BriefLinkError as exc:
                return _public(
                    request, "link_error.html", {**context, "error": exc}, exc.http_status
                )
            except InvalidInput as exc:
                errors = dict(exc.details.get("errors") or {})
                context["error"] = exc
                status = 422
            else:
                return redirect(
                    reverse("presale:public", args=[token]) + f"?thanks=1&lang={language}"
                )
        context.update(
            {
                "brief": brief,
                "service": str(brief.service),
                "inputs": _inputs(brief.fields, values, errors),
                "regions": [ru if language == "ru" else en for ru, en in qf.REGIONS],
            }
        )
        return _public(request, "public.html", context, status)


# Settings -----------------------------------------------------------------------------------


@dataclass
class TemplateRow:
    """One service's brief and demo policy as the settings page edits them."""

    service: Service
    fields_json: str
    questions: list[str]
    link_days: int
    demo_required: bool
    errors: dict[str, str] = dc_field(default_factory=dict)
    message: str = ""


def _rows() -> list[TemplateRow]:
    """Every active service, with its brief (or the generic one it would get): 3 queries."""
    found = {t.service_id: t for t in BriefTemplate.objects.all()}
    required = set(
        DemoPolicy.objects.filter(demo_required=True).values_list("service_id", flat=True)
    )
    rows = []
    for service in Service.objects.filter(active=True):
        template = found.get(service.pk)
        fields = briefs.fields_of_template(template)
        rows.append(
            TemplateRow(
                service=service,
                fields_json=json.dumps(fields, ensure_ascii=False, indent=2),
                questions=[f.label for f in qf.fields_of(fields)],
                link_days=template.link_days if template is not None else 14,
                demo_required=service.pk in required,
            )
        )
    return rows


def _forbidden(request: HttpRequest) -> HttpResponse:
    message = _("Only the head of sales or an admin edits briefs.")
    return render(request, "403.html", {"message": message}, status=403)


def _settings_page(
    request: HttpRequest, rows: list[TemplateRow], status: int = 200
) -> HttpResponse:
    context = {"nav": "briefs", "rows": rows, "types": qf.FieldType.choices}
    return render(request, "web/presale/settings.html", context, status=status)


@login_required
@require_GET
def templates(request: HttpRequest) -> HttpResponse:
    """Each service's brief (its questions as JSON), link validity and demo policy."""
    if not briefs.may_edit_templates(_user(request)):
        return _forbidden(request)
    return _settings_page(request, _rows())


@login_required
@require_POST
def template_save(request: HttpRequest, service_id: int) -> HttpResponse:
    user = _user(request)
    if not briefs.may_edit_templates(user):
        return _forbidden(request)
    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        return render(request, "404.html", {}, status=404)
    text = request.POST.get("fields", "")
    days = request.POST.get("link_days", "")
    required = request.POST.get("demo_required") == "on"
    try:
        try:
            definition = json.loads(text)
        except ValueError as exc:
            message = _("Not valid JSON: %(error)s") % {"error": exc}
            raise InvalidInput(message, errors={"fields": message}) from None
        if not days.isdecimal() or len(days) > 3:
            message = _("A link is valid for 1 to 365 days.")
            raise InvalidInput(message, errors={"link_days": message})
        briefs.save_template(
            user, service, fields=definition, link_days=int(days), demo_required=required
        )
    except LeadError as exc:
        rows = _rows()
        for row in rows:
            if row.service.pk == service.pk:
                row.fields_json, row.demo_required = text, required
                row.link_days = int(days) if days.isdecimal() and len(days) <= 3 else row.link_days
                row.errors = dict(exc.details.get("errors") or {})
                row.message = exc.message
        return _settings_page(request, rows, status=exc.http_status)
    messages.success(request, _("The brief for “%(service)s” is saved.") % {"service": service})
    return redirect(reverse("presale:templates") + f"#service-{service.code}")
