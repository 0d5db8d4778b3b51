"""Recording what the SDR learns: BANT and questionnaire answers, each save checked whole.

A save either stores every value or nothing: a wrong value gives ``InvalidInput`` with a
message per field. Answers are stored against the questionnaire version the SDR opened,
so publishing a new version while someone is typing never reinterprets their answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads import queries
from leadrelay.leads.errors import Forbidden, InvalidInput, LeadNotFound, MissingField
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.qualify import fields as qf
from leadrelay.qualify.models import (
    Answers,
    Bant,
    BudgetBand,
    NeedCategory,
    Questionnaire,
    QuestionnaireVersion,
    TimeframeBand,
)

# While the SDR side works the request; after the hand-off the answers are sales' record.
EDITABLE = (Status.NEW, Status.SDR_PROCESSING)


def may_qualify(user: User, lead: Lead) -> bool:
    if lead.status not in EDITABLE:
        return False
    if user.is_superuser or user.role in (Role.ADMIN, Role.HEAD_MARKETING):
        return True
    return user.role == Role.SDR and lead.sdr_id == user.pk


def _locked_lead(actor: User, lead_id: int) -> Lead:
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None or not queries.visible_leads(actor).filter(pk=lead_id).exists():
        raise LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})
    if not may_qualify(actor, lead):
        if lead.status not in EDITABLE:
            raise Forbidden(_("The questionnaire is closed once the request leaves the SDR."))
        raise Forbidden(_("Claim the request first: only its SDR fills the questionnaire."))
    return lead


# Questionnaires ------------------------------------------------------------------------


def questionnaires_for(lead: Lead) -> list[Questionnaire]:
    """The common block and, if the lead's service has one, the service's questionnaire."""
    found = list(
        Questionnaire.objects.filter(common=True)
        if lead.service_id is None
        else Questionnaire.objects.filter(common=True)
        | Questionnaire.objects.filter(service_id=lead.service_id)
    )
    return sorted(found, key=lambda q: (not q.common, q.pk))


def version_for(lead: Lead, questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    """The version a lead's form shows: the one it was answered against, else the newest."""
    answers = (
        Answers.objects.filter(lead=lead, questionnaire=questionnaire)
        .select_related("version")
        .first()
    )
    if answers is not None:
        return answers.version
    return questionnaire.current()


def publish(
    questionnaire: Questionnaire,
    definition: list[dict[str, Any]],
    actor: User | None,
    now: datetime | None = None,
) -> QuestionnaireVersion:
    """Publish a new version; past answers keep theirs. Raises ``InvalidInput``."""
    fields = [qf.Field.of(d) for d in definition]
    errors = qf.check_definition(fields)
    for d in definition:
        if not str(d.get("label_en") or "").strip() and not str(d.get("label_ru") or "").strip():
            errors.setdefault(str(d.get("key") or ""), _("Every field needs a label."))
    if errors:
        raise InvalidInput(_("The questionnaire has errors."), errors=errors)
    with transaction.atomic():
        # Two editors publishing at once get numbers one after the other.
        Questionnaire.objects.select_for_update().filter(pk=questionnaire.pk).first()
        latest = (
            QuestionnaireVersion.objects.select_for_update()
            .filter(questionnaire=questionnaire)
            .order_by("-number")
            .first()
        )
        data = [f.as_dict() for f in fields]
        if latest is not None and latest.fields == data:
            return latest
        return QuestionnaireVersion.objects.create(
            questionnaire=questionnaire,
            number=(latest.number + 1) if latest else 1,
            fields=data,
            created_at=now or timezone.now(),
            created_by=actor,
        )


def raw_from_post(fields: list[qf.Field], post: QueryDict, prefix: str = "") -> dict[str, Any]:
    """A form post as the raw answers ``save_answers`` takes (lists, money pairs)."""
    raw: dict[str, Any] = {}
    for f in fields:
        name = f"{prefix}{f.key}"
        if f.type == qf.FieldType.MULTI_CHOICE:
            raw[f.key] = post.getlist(name)
        elif f.type == qf.FieldType.MONEY:
            raw[f.key] = {
                "amount": post.get(f"{name}__amount", ""),
                "currency": post.get(f"{name}__currency", ""),
            }
        else:
            raw[f.key] = post.get(name, "")
    return raw


def clean_answers(fields: list[qf.Field], raw: dict[str, Any]) -> dict[str, Any]:
    """Every answer checked; ``InvalidInput`` with all field errors, or the stored values."""
    known = {f.key for f in fields}
    errors = {k: _("There is no such question in this version.") for k in raw if k not in known}
    values: dict[str, Any] = {}
    for f in fields:
        if f.key not in raw:
            continue
        try:
            value = qf.clean(f, raw[f.key])
        except qf.AnswerError as exc:
            errors[f.key] = str(exc)
            continue
        if value is not None:
            values[f.key] = value
    if errors:
        raise InvalidInput(_("Some answers are not valid; nothing was saved."), errors=errors)
    return values


def save_answers(
    actor: User,
    lead_id: int,
    version_id: int,
    raw: dict[str, Any],
    *,
    now: datetime | None = None,
) -> Answers:
    """Store the lead's answers to one questionnaire, against version ``version_id``."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = _locked_lead(actor, lead_id)
        version = (
            QuestionnaireVersion.objects.select_related("questionnaire")
            .filter(pk=version_id)
            .first()
        )
        allowed = {q.pk for q in questionnaires_for(lead)}
        if version is None or version.questionnaire_id not in allowed:
            raise MissingField(
                _("This questionnaire does not apply to the lead's service."), field="version"
            )
        values = clean_answers(qf.fields_of(version.fields), raw)
        answers = Answers.objects.filter(
            lead=lead, questionnaire_id=version.questionnaire_id
        ).first()
        before: dict[str, Any] = {}
        if answers is None:
            answers = Answers(lead=lead, questionnaire_id=version.questionnaire_id)
        else:
            before = answers.values if answers.version_id == version.pk else {}
        changed = sorted(k for k in set(before) | set(values) if before.get(k) != values.get(k))
        if answers.pk is not None and answers.version_id == version.pk and not changed:
            return answers
        answers.version = version
        answers.values = values
        answers.updated_at = now
        answers.updated_by = actor
        answers.save()
        LeadEvent.objects.create(
            lead=lead,
            at=now,
            actor=actor,
            kind=LeadEvent.Kind.QUALIFICATION,
            data={
                "questionnaire": version.questionnaire_id,
                "version": version.number,
                "changed": changed,
            },
        )
    return answers


def set_service(
    actor: User, lead_id: int, service_code: str, *, now: datetime | None = None
) -> Lead:
    """Name the service the client asks for (a source without a default leaves it empty);
    its questionnaire then applies. An event records the change."""
    from leadrelay.catalog.models import Service

    now = now or timezone.now()
    service = Service.objects.filter(code=service_code or "", active=True).first()
    if service is None:
        raise InvalidInput(
            _("Choose one of the services."), errors={"service": _("Choose one of the services.")}
        )
    with transaction.atomic():
        lead = _locked_lead(actor, lead_id)
        if lead.service_id == service.pk:
            return lead
        before = lead.service.code if lead.service_id is not None and lead.service else None
        version = lead.version + 1
        Lead.objects.filter(pk=lead.pk).update(service=service, version=version)
        LeadEvent.objects.create(
            lead=lead,
            at=now,
            actor=actor,
            kind=LeadEvent.Kind.QUALIFICATION,
            data={"service": service.code, "service_before": before},
        )
        lead.refresh_from_db()
    return lead


# BANT -----------------------------------------------------------------------------------

BANT_FIELDS = (
    "budget_amount",
    "budget_band",
    "currency",
    "authority_role",
    "decision_maker",
    "need",
    "need_text",
    "timeframe_date",
    "timeframe_band",
)


def clean_bant(raw: dict[str, Any]) -> dict[str, Any]:
    """BANT values from a form or JSON; ``InvalidInput`` names each wrong field."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def text(key: str, limit: int) -> None:
        value = raw.get(key)
        if value is None:
            out[key] = ""
        elif not isinstance(value, str):
            errors[key] = _("Enter text.")
        elif len(value.strip()) > limit:
            errors[key] = _("At most %(n)s characters.") % {"n": limit}
        else:
            out[key] = value.strip()

    unknown = sorted(set(raw) - set(BANT_FIELDS))
    for key in unknown:
        errors[key] = _("Unknown field.")
    amount = raw.get("budget_amount")
    if amount in (None, ""):
        out["budget_amount"] = None
    else:
        try:
            out["budget_amount"] = Decimal(
                qf.clean(qf.Field("a", qf.FieldType.NUMBER, "", ""), amount)
            )
            out["budget_amount"] = out["budget_amount"].quantize(Decimal("0.01"))
            if out["budget_amount"] >= Decimal("1e12"):
                errors["budget_amount"] = _("At most 999,999,999,999.99.")
            if out["budget_amount"] < 0:
                errors["budget_amount"] = _("An amount cannot be negative.")
        except qf.AnswerError as exc:
            errors["budget_amount"] = str(exc)
    band = raw.get("budget_band") or ""
    if band not in ("", *BudgetBand.values):
        errors["budget_band"] = _("Choose one of the options.")
    out["budget_band"] = band
    currency = str(raw.get("currency") or "RUB").upper().strip()
    if currency not in qf.CURRENCIES:
        errors["currency"] = _("Choose a currency.")
    out["currency"] = currency
    text("authority_role", 200)
    dm = raw.get("decision_maker")
    if dm in (None, ""):
        out["decision_maker"] = None
    elif isinstance(dm, bool):
        out["decision_maker"] = dm
    elif dm in ("yes", "no", "true", "false"):
        out["decision_maker"] = dm in ("yes", "true")
    else:
        errors["decision_maker"] = _("Answer yes or no.")
    need = raw.get("need") or ""
    if need:
        category = NeedCategory.objects.filter(code=need, active=True).first()
        if category is None:
            errors["need"] = _("Choose one of the options.")
        out["need"] = category
    else:
        out["need"] = None
    text("need_text", qf.MAX_LONG_TEXT)
    when = raw.get("timeframe_date") or ""
    if when:
        try:
            out["timeframe_date"] = date.fromisoformat(str(when))
        except ValueError:
            errors["timeframe_date"] = _("Enter a date as YYYY-MM-DD.")
    else:
        out["timeframe_date"] = None
    tband = raw.get("timeframe_band") or ""
    if tband not in ("", *TimeframeBand.values):
        errors["timeframe_band"] = _("Choose one of the options.")
    out["timeframe_band"] = tband
    if errors:
        raise InvalidInput(_("Some answers are not valid; nothing was saved."), errors=errors)
    return out


def save_bant(
    actor: User, lead_id: int, raw: dict[str, Any], *, now: datetime | None = None
) -> Bant:
    now = now or timezone.now()
    values = clean_bant(raw)
    with transaction.atomic():
        lead = _locked_lead(actor, lead_id)
        bant = Bant.objects.filter(lead=lead).first() or Bant(lead=lead)
        changed = [
            k
            for k in BANT_FIELDS
            if bant.pk is None or _comparable(getattr(bant, k)) != _comparable(values[k])
        ]
        if bant.pk is not None and not changed:
            return bant
        for key, value in values.items():
            setattr(bant, key, value)
        bant.updated_at = now
        bant.updated_by = actor
        bant.save()
        LeadEvent.objects.create(
            lead=lead,
            at=now,
            actor=actor,
            kind=LeadEvent.Kind.QUALIFICATION,
            data={"bant": True, "changed": changed},
        )
    return bant


def _comparable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return value.normalize()
    if isinstance(value, str) and value and value[0].isdigit():
        try:
            return Decimal(value).normalize()
        except ArithmeticError:
            return value
    return value


# What the hand-off needs, and what sales reads ---------------------------------------


@dataclass(frozen=True)
class Item:
    field: str
    label: str
    value: str


@dataclass(frozen=True)
class Section:
    title: str
    version: int | None
    items: list[Item]


def bant_missing(bant: Bant | None) -> list[tuple[str, str]]:
    missing = []
    if bant is None or (bant.budget_amount is None and not bant.budget_band):
        missing.append(("bant.budget", _("Budget")))
    if bant is None or not bant.authority_role or bant.decision_maker is None:
        missing.append(
            ("bant.authority", _("Authority: the contact's role and whether they decide"))
        )
    if bant is None or (bant.need_id is None and not bant.need_text):
        missing.append(("bant.need", _("Need: the client's task")))
    if bant is None or (bant.timeframe_date is None and not bant.timeframe_band):
        missing.append(("bant.timeframe", _("Timeframe")))
    return missing


def handoff_missing(lead: Lead) -> list[tuple[str, str]]:
    """Everything still missing before this lead may go to sales as an MQL."""
    missing: list[tuple[str, str]] = []
    if lead.service_id is None:
        missing.append(("service", _("The service the client asks for")))
    missing.extend(bant_missing(Bant.objects.filter(lead=lead).select_related("need").first()))
    answers = {
        a.questionnaire_id: a for a in Answers.objects.filter(lead=lead).select_related("version")
    }
    for q in questionnaires_for(lead):
        given = answers.get(q.pk)
        version = given.version if given is not None else q.current()
        if version is None:
            continue
        values = given.values if given is not None else {}
        for f in qf.fields_of(version.fields):
            if f.required and values.get(f.key) in (None, "", []):
                missing.append((f"answers.{f.key}", f.label))
    return missing


def summary(lead: Lead) -> list[Section]:
    """BANT and the answers, as sales reads them on the lead page (empty answers left out)."""
    sections: list[Section] = []
    bant = Bant.objects.filter(lead=lead).select_related("need").first()
    if bant is not None:
        items = []
        if bant.budget_amount is not None:
            budget = qf.display(
                qf.Field("b", qf.FieldType.MONEY, "", ""),
                {"amount": str(bant.budget_amount), "currency": bant.currency},
            )
            items.append(Item("budget", _("Budget"), budget))
        elif bant.budget_band:
            items.append(
                Item("budget", _("Budget"), f"{bant.get_budget_band_display()} {bant.currency}")
            )
        if bant.authority_role or bant.decision_maker is not None:
            decides = {True: _("decides"), False: _("does not decide"), None: ""}[
                bant.decision_maker
            ]
            items.append(
                Item(
                    "authority",
                    _("Authority"),
                    ", ".join(x for x in (bant.authority_role, decides) if x),
                )
            )
        need = ". ".join(x for x in (str(bant.need) if bant.need else "", bant.need_text) if x)
        if need:
            items.append(Item("need", _("Need"), need))
        if bant.timeframe_date or bant.timeframe_band:
            tf = (
                bant.timeframe_date.strftime("%d.%m.%Y")
                if bant.timeframe_date
                else str(bant.get_timeframe_band_display())
            )
            items.append(Item("timeframe", _("Timeframe"), tf))
        sections.append(Section("BANT", None, items))
    for answers in (
        Answers.objects.filter(lead=lead)
        .select_related("questionnaire__service", "version")
        .order_by("-questionnaire__common", "questionnaire_id")
    ):
        items = []
        for f in qf.fields_of(answers.version.fields):
            shown = qf.display(f, answers.values.get(f.key))
            if shown:
                items.append(Item(f.key, f.label, shown))
        sections.append(Section(str(answers.questionnaire), answers.version.number, items))
    return sections
