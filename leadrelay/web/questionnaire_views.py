"""The questionnaire editor: admins and the head of marketing define questions without code.

The editor is one plain HTML form holding a draft: every button (add a field or an
option, remove, move up or down, preview) posts the whole draft back and gets it
re-rendered, so it works without JavaScript; with HTMX the same POST swaps only the
editor. Nothing is stored until "Publish", which goes through ``qualify.answers.publish``:
a new immutable version, or the current one when nothing changed. Answers already given
keep the version they were given against.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Service
from leadrelay.qualify import fields as qf
from leadrelay.qualify.answers import publish
from leadrelay.qualify.models import Questionnaire, QuestionnaireVersion
from leadrelay.web.templatetags.leadrelay_web import when
from leadrelay.web.views import HtmxHttpRequest, _partial, _user

EDITOR_ROLES = frozenset({Role.ADMIN, Role.HEAD_MARKETING})
MAX_FIELDS = 100
MAX_OPTIONS = 100
LABEL_MAX = 200
HELP_MAX = 1000
VALUE_MAX = 60


def may_edit_questionnaires(user: User) -> bool:
    return bool(user.is_superuser or user.role in EDITOR_ROLES)


def _editor(request: HttpRequest) -> User:
    user = _user(request)
    if not may_edit_questionnaires(user):
        raise PermissionDenied(
            _("Only administrators and the head of marketing edit questionnaires.")
        )
    return user


# The draft --------------------------------------------------------------------------


@dataclass
class Option:
    value: str = ""
    label_en: str = ""
    label_ru: str = ""

    @property
    def blank(self) -> bool:
        return not (self.value or self.label_en or self.label_ru)


@dataclass
class Row:
    """One field of the draft as the form shows it, with its errors."""

    key: str = ""
    type: str = qf.FieldType.TEXT.value
    label_en: str = ""
    label_ru: str = ""
    help_en: str = ""
    help_ru: str = ""
    required: bool = False
    options: list[Option] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    focus: str = ""  # the input to focus after a round trip ("key", "option")

    @property
    def blank(self) -> bool:
        return not (
            self.key
            or self.label_en
            or self.label_ru
            or self.help_en
            or self.help_ru
            or any(not o.blank for o in self.options)
        )

    @property
    def is_choice(self) -> bool:
        return self.type in qf.CHOICE_TYPES

    def definition(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "type": self.type,
            "label_en": self.label_en,
            "label_ru": self.label_ru,
            "help_en": self.help_en,
            "help_ru": self.help_ru,
            "required": self.required,
        }
        if self.is_choice:
            data["choices"] = [
                {"value": o.value, "label_en": o.label_en, "label_ru": o.label_ru}
                for o in self.options
                if not o.blank
            ]
        return data


class DraftError(ValueError):
    """The posted form is not one this page rendered (a count out of range)."""


def rows_of(definition: list[dict[str, Any]]) -> list[Row]:
    rows = []
    for f in qf.fields_of(definition):
        rows.append(
            Row(
                key=f.key,
                type=f.type,
                label_en=f.label_en,
                label_ru=f.label_ru,
                help_en=f.help_en,
                help_ru=f.help_ru,
                required=f.required,
                options=[Option(v, en, ru) for v, en, ru in f.choices],
            )
        )
    return rows


def _count(post: QueryDict, name: str, limit: int) -> int:
    raw = post.get(name, "0")
    try:
        count = int(raw)
    except ValueError:
        raise DraftError(name) from None
    if not 0 <= count <= limit:
        raise DraftError(name)
    return count


def _text(post: QueryDict, name: str) -> str:
    return post.get(name, "").strip()


def rows_from_post(post: QueryDict) -> list[Row]:
    """The draft the form posted; ``DraftError`` when its counts are out of range."""
    rows = []
    for i in range(_count(post, "fields", MAX_FIELDS)):
        p = f"f-{i}-"
        options = [
            Option(
                value=_text(post, f"{p}o-{j}-value"),
                label_en=_text(post, f"{p}o-{j}-label_en"),
                label_ru=_text(post, f"{p}o-{j}-label_ru"),
            )
            for j in range(_count(post, f"{p}options", MAX_OPTIONS))
        ]
        rows.append(
            Row(
                key=_text(post, f"{p}key"),
                type=_text(post, f"{p}type") or qf.FieldType.TEXT.value,
                label_en=_text(post, f"{p}label_en"),
                label_ru=_text(post, f"{p}label_ru"),
                help_en=_text(post, f"{p}help_en"),
                help_ru=_text(post, f"{p}help_ru"),
                required=post.get(f"{p}required") in ("on", "1", "true"),
                options=options,
            )
        )
    return rows


def check_rows(rows: list[Row]) -> bool:
    """What the form asks beyond ``fields.check_definition``: both labels, lengths, option
    values. Puts messages on the rows; True when there were none."""
    ok = True
    for row in rows:
        found: list[str] = []
        if not row.label_en or not row.label_ru:
            found.append(_("Give the label in English and in Russian."))
        if max(len(row.label_en), len(row.label_ru)) > LABEL_MAX:
            found.append(_("A label is at most %(n)s characters.") % {"n": LABEL_MAX})
        if max(len(row.help_en), len(row.help_ru)) > HELP_MAX:
            found.append(_("A help text is at most %(n)s characters.") % {"n": HELP_MAX})
        if row.is_choice:
            options = [o for o in row.options if not o.blank]
            if any(not o.value for o in options):
                found.append(_("Every option needs a value."))
            if any(len(o.value) > VALUE_MAX for o in options):
                found.append(_("An option's value is at most %(n)s characters.") % {"n": VALUE_MAX})
            if any(not o.label_en or not o.label_ru for o in options):
                found.append(_("Give each option a label in English and in Russian."))
            if any(max(len(o.label_en), len(o.label_ru)) > LABEL_MAX for o in options):
                found.append(_("A label is at most %(n)s characters.") % {"n": LABEL_MAX})
        row.errors.extend(found)
        ok = ok and not found
    return ok


def _put_errors(rows: list[Row], errors: dict[str, str]) -> None:
    """``check_definition``'s errors are by field key: put each on the rows with that key."""
    placed = set()
    for row in rows:
        if row.key in errors:
            row.errors.append(errors[row.key])
            placed.add(row.key)
    for key, message in errors.items():
        if key not in placed and rows:
            rows[0].errors.append(message)


def _apply_action(rows: list[Row], action: str) -> bool:
    """Change the draft as a button asks; False for an action this page never offers."""
    name, _sep, rest = action.partition(":")
    if name == "preview":
        return True
    if name == "add_field":
        if len(rows) >= MAX_FIELDS:
            return False
        rows.append(Row(focus="key"))
        return True
    parts = rest.split(":")
    try:
        numbers = [int(p) for p in parts]
    except ValueError:
        return False
    i = numbers[0]
    if not 0 <= i < len(rows):
        return False
    if name == "remove" and len(numbers) == 1:
        del rows[i]
    elif name == "up" and len(numbers) == 1 and i > 0:
        rows[i - 1], rows[i] = rows[i], rows[i - 1]
    elif name == "down" and len(numbers) == 1 and i < len(rows) - 1:
        rows[i + 1], rows[i] = rows[i], rows[i + 1]
    elif name == "add_option" and len(numbers) == 1:
        if len(rows[i].options) >= MAX_OPTIONS:
            return False
        rows[i].options.append(Option())
        rows[i].focus = "option"
    elif name == "remove_option" and len(numbers) == 2:
        j = numbers[1]
        if not 0 <= j < len(rows[i].options):
            return False
        del rows[i].options[j]
    else:
        return False
    return True


# The page ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryLine:
    number: int
    created: str
    by: str
    fields: int
    url: str
    current: bool


def _history(questionnaire: Questionnaire) -> list[QuestionnaireVersion]:
    return list(
        QuestionnaireVersion.objects.filter(questionnaire=questionnaire)
        .select_related("created_by")
        .order_by("-number")
    )


def _history_lines(
    questionnaire: Questionnaire, versions: list[QuestionnaireVersion]
) -> list[HistoryLine]:
    system = _("system (installation)")
    return [
        HistoryLine(
            number=v.number,
            created=when(v.created_at),
            by=str(v.created_by) if v.created_by else system,
            fields=len(v.fields or []),
            url=reverse("questionnaires:version", args=[questionnaire.pk, v.number]),
            current=i == 0,
        )
        for i, v in enumerate(versions)
    ]


def _ru() -> bool:
    return (get_language() or "").startswith("ru")


def preview_fields(definition: list[dict[str, Any]]) -> list[qf.Field]:
    return qf.fields_of(definition)


def _preview_context() -> dict[str, Any]:
    ru = _ru()
    return {
        "currencies": qf.CURRENCIES,
        "regions": [r if ru else e for r, e in qf.REGIONS],
        "preview_note": _("As the SDR sees it on a lead, in Russian (switch to EN at the top).")
        if ru
        else _("As the SDR sees it on a lead, in English (switch to RU at the top)."),
    }


def _editor_context(
    *,
    questionnaire: Questionnaire | None,
    service: Service | None,
    versions: list[QuestionnaireVersion],
    rows: list[Row],
    base: int,
    action_url: str,
    **extra: Any,
) -> dict[str, Any]:
    definition = [r.definition() for r in rows if not r.blank and r.key]
    for row in rows:
        # One empty option row to type into when the type is turned into a choice.
        if not row.options:
            row.options.append(Option())
    title = (
        str(questionnaire)
        if questionnaire is not None
        else str(service)
        if service is not None
        else gettext("Common block")
    )
    context: dict[str, Any] = {
        "nav": "questionnaires",
        "questionnaire": questionnaire,
        "service": service,
        "title": title,
        "rows": rows,
        "base": base,
        "next_number": base + 1,
        "history": _history_lines(questionnaire, versions) if questionnaire else [],
        "types": qf.FieldType.choices,
        "choice_types": [t.value for t in qf.CHOICE_TYPES],
        "action_url": action_url,
        "preview": preview_fields(definition),
        "max_fields": MAX_FIELDS,
        "label_max": LABEL_MAX,
        "help_max": HELP_MAX,
        "value_max": VALUE_MAX,
        "row_errors": [(i, r) for i, r in enumerate(rows) if r.errors],
        **_preview_context(),
    }
    context.update(extra)
    return context


def _render_editor(
    request: HtmxHttpRequest, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    template = (
        "web/questionnaires/_editor.html" if _partial(request) else "web/questionnaires/editor.html"
    )
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def _questionnaire(questionnaire_id: int) -> Questionnaire:
    questionnaire = (
        Questionnaire.objects.select_related("service").filter(pk=questionnaire_id).first()
    )
    if questionnaire is None:
        raise Http404(_("No such questionnaire."))
    return questionnaire


# Views ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListLine:
    title: str
    common: bool
    active: bool
    questionnaire_id: int | None
    create_url: str
    number: int | None
    fields: int
    published: str
    by: str


@login_required
@require_GET
def questionnaire_list(request: HttpRequest) -> HttpResponse:
    _editor(request)
    latest = QuestionnaireVersion.objects.filter(questionnaire=OuterRef("pk")).order_by("-number")
    questionnaires = list(
        Questionnaire.objects.select_related("service").annotate(
            latest_id=Subquery(latest.values("pk")[:1])
        )
    )
    versions = {
        v.pk: v
        for v in QuestionnaireVersion.objects.select_related("created_by").filter(
            pk__in=[q.latest_id for q in questionnaires if q.latest_id]
        )
    }
    by_service = {q.service_id: q for q in questionnaires if not q.common}
    common = next((q for q in questionnaires if q.common), None)
    system = _("system (installation)")

    def line(title: str, q: Questionnaire | None, create_url: str, active: bool) -> ListLine:
        v = versions.get(q.latest_id) if q is not None else None  # type: ignore[attr-defined]
        return ListLine(
            title=title,
            common=q is not None and q.common,
            active=active,
            questionnaire_id=q.pk if q is not None else None,
            create_url=create_url,
            number=v.number if v else None,
            fields=len(v.fields or []) if v else 0,
            published=when(v.created_at) if v else "",
            by=(str(v.created_by) if v.created_by else system) if v else "",
        )

    services = sorted(Service.objects.all(), key=lambda s: (not s.active, str(s).lower()))
    lines = [line(gettext("Common block"), common, reverse("questionnaires:new_common"), True)]
    lines += [
        line(
            str(s),
            by_service.get(s.pk),
            reverse("questionnaires:new", args=[s.pk]),
            s.active,
        )
        for s in services
    ]
    return render(
        request, "web/questionnaires/list.html", {"nav": "questionnaires", "lines": lines}
    )


def _handle_post(
    request: HtmxHttpRequest,
    user: User,
    *,
    questionnaire: Questionnaire | None,
    service: Service | None,
    action_url: str,
) -> HttpResponse:
    versions = _history(questionnaire) if questionnaire is not None else []
    current = versions[0].number if versions else 0

    def page(rows: list[Row], base: int, status: int = 200, **extra: Any) -> HttpResponse:
        context = _editor_context(
            questionnaire=questionnaire,
            service=service,
            versions=versions,
            rows=rows,
            base=base,
            action_url=action_url,
            draft=True,
            **extra,
        )
        return _render_editor(request, context, status)

    try:
        rows = rows_from_post(request.POST)
        base = _count(request.POST, "base", 10**9)
    except DraftError:
        return page(
            rows_of(versions[0].fields) if versions else [],
            current,
            status=400,
            error=_("The form was not one this page sent; it is reloaded, nothing was published."),
        )
    action = request.POST.get("action", "publish")
    if action != "publish":
        if not _apply_action(rows, action):
            return page(rows, base, status=400, error=_("Unknown action; nothing was changed."))
        return page(rows, base, previewed=action == "preview")

    rows = [r for r in rows if not r.blank]
    if len(rows) > MAX_FIELDS:
        return page(rows, base, status=422, error=_("At most %(n)s fields.") % {"n": MAX_FIELDS})
    if not check_rows(rows):
        return page(
            rows, base, status=422, error=_("The questionnaire has errors; nothing was published.")
        )
    definition = [r.definition() for r in rows]
    errors = qf.check_definition(qf.fields_of(definition))
    if errors:
        _put_errors(rows, errors)
        return page(
            rows, base, status=422, error=_("The questionnaire has errors; nothing was published.")
        )
    with transaction.atomic():
        if questionnaire is None:
            questionnaire = _create(service)
            action_url = reverse("questionnaires:edit", args=[questionnaire.pk])
        # Whoever publishes second sees the version published meanwhile instead of
        # silently replacing it: the questionnaire's row is the lock.
        Questionnaire.objects.select_for_update().filter(pk=questionnaire.pk).first()
        latest = questionnaire.current()
        current = latest.number if latest else 0
        if current != base:
            assert latest is not None
            versions = _history(questionnaire)
            return page(
                rows,
                current,
                status=409,
                conflict=latest,
                conflict_by=str(latest.created_by or _("system (installation)")),
                conflict_at=when(latest.created_at),
            )
        version = publish(questionnaire, definition, user)
    if version.number == current:
        messages.info(
            request,
            _("Nothing changed: version %(n)s stays the current one.") % {"n": version.number},
        )
    else:
        messages.success(
            request,
            _(
                "Version %(n)s is published. Requests answered before keep the version "
                "they were answered against."
            )
            % {"n": version.number},
        )
    return redirect("questionnaires:edit", questionnaire_id=questionnaire.pk)


def _create(service: Service | None) -> Questionnaire:
    """The questionnaire a first publish creates (or the one someone created meanwhile)."""
    if service is None:
        q, _created = Questionnaire.objects.get_or_create(common=True, service=None)
    else:
        q, _created = Questionnaire.objects.get_or_create(
            service=service, defaults={"common": False}
        )
    return q


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_edit(request: HtmxHttpRequest, questionnaire_id: int) -> HttpResponse:
    user = _editor(request)
    questionnaire = _questionnaire(questionnaire_id)
    action_url = reverse("questionnaires:edit", args=[questionnaire.pk])
    if request.method == "POST":
        return _handle_post(
            request,
            user,
            questionnaire=questionnaire,
            service=questionnaire.service,
            action_url=action_url,
        )
    versions = _history(questionnaire)
    current = versions[0].number if versions else 0
    source = versions[0] if versions else None
    started_from = None
    wanted = request.GET.get("from", "")
    if wanted:
        source = next((v for v in versions if str(v.number) == wanted), None)
        if source is None:
            raise Http404(_("No such version."))
        started_from = source.number if source.number != current else None
    rows = rows_of(source.fields) if source else [Row(focus="key")]
    context = _editor_context(
        questionnaire=questionnaire,
        service=questionnaire.service,
        versions=versions,
        rows=rows,
        base=current,
        action_url=action_url,
        started_from=started_from,
    )
    return _render_editor(request, context)


def _new(request: HtmxHttpRequest, service: Service | None, action_url: str) -> HttpResponse:
    user = _editor(request)
    existing = (
        Questionnaire.objects.filter(common=True).first()
        if service is None
        else Questionnaire.objects.filter(service=service).first()
    )
    if existing is not None:
        return redirect("questionnaires:edit", questionnaire_id=existing.pk)
    if request.method == "POST":
        return _handle_post(
            request, user, questionnaire=None, service=service, action_url=action_url
        )
    context = _editor_context(
        questionnaire=None,
        service=service,
        versions=[],
        rows=[Row(focus="key")],
        base=0,
        action_url=action_url,
    )
    return _render_editor(request, context)


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_new(request: HtmxHttpRequest, service_id: int) -> HttpResponse:
    _editor(request)
    service = Service.objects.filter(pk=service_id).first()
    if service is None:
        raise Http404(_("No such service."))
    return _new(request, service, reverse("questionnaires:new", args=[service.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def questionnaire_new_common(request: HtmxHttpRequest) -> HttpResponse:
    return _new(request, None, reverse("questionnaires:new_common"))


@login_required
@require_GET
def version_detail(request: HttpRequest, questionnaire_id: int, number: int) -> HttpResponse:
    """One published version, read-only, with the form it gave the SDR."""
    _editor(request)
    questionnaire = _questionnaire(questionnaire_id)
    version = (
        QuestionnaireVersion.objects.select_related("created_by")
        .filter(questionnaire=questionnaire, number=number)
        .first()
    )
    if version is None:
        raise Http404(_("No such version."))
    current = questionnaire.current()
    type_labels = dict(qf.FieldType.choices)
    fields = qf.fields_of(version.fields)
    context = {
        "nav": "questionnaires",
        "questionnaire": questionnaire,
        "version": version,
        "by": str(version.created_by) if version.created_by else _("system (installation)"),
        "is_current": current is not None and current.pk == version.pk,
        "current": current,
        "fields": [(f, type_labels.get(f.type, f.type)) for f in fields],
        "preview": fields,
        **_preview_context(),
    }
    return render(request, "web/questionnaires/version.html", context)


@login_required
@require_GET
def questionnaire_preview(request: HttpRequest, questionnaire_id: int) -> HttpResponse:
    """The current version as the SDR sees it on a lead, in the current language."""
    _editor(request)
    questionnaire = _questionnaire(questionnaire_id)
    version = questionnaire.current()
    context = {
        "nav": "questionnaires",
        "questionnaire": questionnaire,
        "version": version,
        "preview": qf.fields_of(version.fields) if version else [],
        **_preview_context(),
    }
    return render(request, "web/questionnaires/preview.html", context)
