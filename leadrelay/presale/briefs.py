"""The pre-sale brief: made from the service's template, sent to the client as a signed
link, filled in once (by the client through the link, or by the manager from a call).

Every function is one transaction that locks the lead row first and then the brief's,
so a fill, a revocation and a new link for the same lead queue behind each other; a
filled, revoked or expired brief takes nothing. A brief filled while the lead is in
``discussion`` moves it to ``brief_filled`` (SAL) in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Service
from leadrelay.intake.normalize import is_valid_email, normalize_email
from leadrelay.leads.errors import (
    Forbidden,
    InvalidInput,
    LeadError,
    LeadNotFound,
    MissingField,
    TransitionNotAllowed,
)
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import MoveOptions, move_locked
from leadrelay.notify.models import Outbox
from leadrelay.notify.outbox import enqueue, notify
from leadrelay.presale import defaults
from leadrelay.presale.models import Brief, BriefTemplate, DemoPolicy
from leadrelay.qualify import fields as qf
from leadrelay.qualify.answers import clean_answers
from leadrelay.sales import access

SALT = "leadrelay.brief"
# Where a brief can be sent or filled: from the manager's first talk with the client
# until the contract. A link to a lead that has left these is withdrawn.
BRIEF_OPEN = (Status.DISCUSSION, Status.BRIEF_FILLED, Status.PROPOSAL, Status.CONTRACT)


# The link ---------------------------------------------------------------------------


class BriefLinkError(LeadError):
    """A link that takes nothing; the message is what the client reads."""

    code = "brief_link"
    http_status = 410


class LinkTampered(BriefLinkError):
    code = "link_invalid"
    http_status = 404


class LinkExpired(BriefLinkError):
    code = "link_expired"


class LinkUsed(BriefLinkError):
    code = "link_used"


class LinkRevoked(BriefLinkError):
    code = "link_revoked"


def token_for(brief: Brief) -> str:
    """The link's token: the brief's nonce, signed (URL-safe, no secret in it)."""
    return signing.Signer(salt=SALT).sign(brief.nonce.hex)


def url_for(brief: Brief) -> str:
    """The public page's path, ``/brief/<token>/``."""
    return reverse("presale:public", args=[token_for(brief)])


def _day(at: datetime) -> str:
    return formats.date_format(timezone.localtime(at), "DATE_FORMAT")


def _check_link(brief: Brief, now: datetime) -> None:
    """Raise the reason a link takes nothing, if it does not."""
    if brief.filled_at is not None:
        raise LinkUsed(
            _("This brief was already filled in on %(day)s; thank you.")
            % {"day": _day(brief.filled_at)}
        )
    if brief.revoked_at is not None or brief.sent_at is None or brief.lead.status not in BRIEF_OPEN:
        raise LinkRevoked(_("This link was withdrawn."))
    if brief.expires_at is not None and brief.expires_at <= now:
        raise LinkExpired(
            _("This link expired on %(day)s; ask your manager for a new one.")
            % {"day": _day(brief.expires_at)}
        )


def _nonce(token: str) -> str:
    try:
        return signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        raise LinkTampered(_("This link is not valid.")) from None


def brief_for_token(token: str, now: datetime | None = None) -> Brief:
    """The brief a link opens, with its lead and service; raises a ``BriefLinkError``
    saying why it cannot be filled (tampered, expired, used, revoked)."""
    nonce = _nonce(token)
    brief = Brief.objects.select_related("lead", "service").filter(nonce=nonce).first()
    if brief is None:
        raise LinkTampered(_("This link is not valid."))
    _check_link(brief, now or timezone.now())
    return brief


def check_email(raw: str, field: str) -> str:
    """An e-mail address normalised, or ``InvalidInput`` naming ``field``."""
    if not raw.strip() or not is_valid_email(raw):
        message = _("Enter a valid e-mail address.")
        raise InvalidInput(message, errors={field: message})
    return normalize_email(raw)


# Templates --------------------------------------------------------------------------


def may_edit_templates(user: User) -> bool:
    return user.is_superuser or user.role in (Role.ADMIN, Role.HEAD_SALES)


def fields_of_template(template: BriefTemplate | None) -> list[dict[str, Any]]:
    """The fields a new brief gets from its service's template, else the generic ones."""
    if template is not None and template.fields:
        return list(template.fields)
    return list(defaults.GENERIC)


def template_fields(service: Service | None) -> list[dict[str, Any]]:
    return fields_of_template(
        BriefTemplate.objects.filter(service=service).first() if service is not None else None
    )


def open_brief(lead: Lead) -> Brief | None:
    """The brief a call fills in: the newest one not filled in nor withdrawn."""
    return (
        Brief.objects.filter(lead=lead, filled_at__isnull=True, revoked_at__isnull=True)
        .order_by("-created_at", "-id")
        .first()
    )


def fields_for_call(lead: Lead) -> list[dict[str, Any]]:
    """The questions ``fill_from_call`` will check the answers against."""
    found = open_brief(lead)
    return list(found.fields) if found is not None else template_fields(lead.service)


def check_fields(definition: Any) -> list[dict[str, Any]]:
    """A template's fields as an editor wrote them (JSON), checked; ``InvalidInput`` with
    the errors by field key otherwise."""
    if not isinstance(definition, list) or not all(
        isinstance(d, dict) and d.get("key") and d.get("type") for d in definition
    ):
        message = _("The fields are a JSON list of objects, each with a “key” and a “type”.")
        raise InvalidInput(message, errors={"fields": message})
    try:
        fields = qf.fields_of(definition)
    except (KeyError, TypeError, AttributeError):
        message = _("A choice needs a “value”.")
        raise InvalidInput(message, errors={"fields": message}) from None
    errors = qf.check_definition(fields)
    if not fields:
        errors[""] = _("A brief needs at least one question.")
    if errors:
        raise InvalidInput(_("The brief has errors; nothing was saved."), errors=errors)
    return [f.as_dict() for f in fields]


def save_template(
    actor: User,
    service: Service,
    *,
    fields: Any,
    link_days: int,
    demo_required: bool,
    now: datetime | None = None,
) -> BriefTemplate:
    """A service's brief and demo policy, as the head of sales sets them. Briefs already
    made keep the fields they were made with."""
    if not may_edit_templates(actor):
        raise Forbidden(_("Only the head of sales or an admin edits briefs."))
    data = check_fields(fields)
    if not 1 <= link_days <= 365:
        message = _("A link is valid for 1 to 365 days.")
        raise InvalidInput(message, errors={"link_days": message})
    with transaction.atomic():
        template, _created = BriefTemplate.objects.select_for_update().get_or_create(
            service=service
        )
        template.fields = data
        template.link_days = link_days
        template.updated_at = now or timezone.now()
        template.save()
        DemoPolicy.objects.update_or_create(
            service=service, defaults={"demo_required": demo_required}
        )
    return template


# Making, sending, filling ------------------------------------------------------------


def _lead_for_brief(actor: User, lead_id: int) -> Lead:
    """The lead locked, if the actor works it and it is where a brief belongs."""
    lead = access.locked_lead(actor, lead_id)
    if lead.status not in BRIEF_OPEN:
        raise TransitionNotAllowed(
            _(
                "A brief belongs to a lead from the discussion until the contract; "
                "this one is “%(status)s”."
            )
            % {"status": Status(lead.status).label}
        )
    if lead.service_id is None:
        raise MissingField(_("Name the lead's service first."), field="service")
    return lead


def _make(actor: User, lead: Lead, now: datetime) -> Brief:
    assert lead.service_id is not None  # _lead_for_brief asks for it
    service = Service.objects.get(pk=lead.service_id)
    return Brief.objects.create(
        lead=lead,
        service=service,
        fields=template_fields(service),
        created_at=now,
        created_by=actor,
    )


def make_brief(actor: User, lead_id: int, *, now: datetime | None = None) -> Brief:
    """A new, unsent brief with the service's questions as they are now."""
    now = now or timezone.now()
    with transaction.atomic():
        return _make(actor, _lead_for_brief(actor, lead_id), now)


def _link_days(service_id: int) -> int:
    days = BriefTemplate.objects.filter(service_id=service_id).values_list("link_days", flat=True)
    return days.first() or BriefTemplate._meta.get_field("link_days").get_default()


def send_brief(
    actor: User, lead_id: int, *, to: str = "", now: datetime | None = None
) -> tuple[Brief, str]:
    """Send the client a link to a new brief (e-mailed through the outbox) and return it
    with the link's path. Links sent earlier and not filled in are withdrawn."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = _lead_for_brief(actor, lead_id)
        address = check_email(to or lead.email, "to")
        Brief.objects.filter(lead=lead, filled_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        brief = _make(actor, lead, now)
        brief.sent_to = address
        brief.sent_at = now
        brief.expires_at = now + timedelta(days=_link_days(brief.service_id))
        brief.save(update_fields=["sent_to", "sent_at", "expires_at"])
        LeadEvent.objects.create(
            lead=lead,
            at=now,
            actor=actor,
            kind=LeadEvent.Kind.BRIEF,
            data={"brief": brief.pk, "action": "sent", "to": address},
        )
        url = url_for(brief)
        _email_link(lead, brief, actor, settings.LEADRELAY_BASE_URL.rstrip("/") + url, now)
    return brief, url


def _email_link(lead: Lead, brief: Brief, actor: User, link: str, now: datetime) -> None:
    """The client's e-mail, written now in the site's language (they have no account to
    keep a language in)."""
    assert brief.expires_at is not None
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("A few questions before our proposal: %(service)s") % {"service": brief.service}
        text = _(
            "Hello%(name)s,\n\nto prepare a proposal that fits, we ask you to answer a few "
            "questions about the project. It takes about ten minutes:\n\n%(link)s\n\n"
            "The link is valid until %(day)s.\n\n%(manager)s"
        ) % {
            "name": f", {lead.name}" if lead.name else "",
            "link": link,
            "day": _day(brief.expires_at),
            "manager": actor.display_name,
        }
    enqueue(
        Outbox.Channel.EMAIL,
        dedup_key=f"brief_link:{brief.pk}",
        event="brief_link",
        payload={
            "kind": "brief_link",
            "to": brief.sent_to,
            "lead": lead.pk,
            "data": {"brief": brief.pk},
            "subject": subject,
            "text": text,
        },
        now=now,
        lead=lead,
    )


def _clean(brief: Brief, raw: dict[str, Any]) -> dict[str, Any]:
    """The answers checked against the brief's own fields, required ones included."""
    fields = qf.fields_of(brief.fields)
    errors: dict[str, str] = {}
    try:
        values = clean_answers(fields, raw)
    except InvalidInput as exc:
        errors = dict(exc.details.get("errors") or {})
        # The answers that are right still count for the required check below.
        values = clean_answers(fields, {k: v for k, v in raw.items() if k not in errors})
    for f in fields:
        if f.required and f.key not in errors and values.get(f.key) in (None, "", []):
            errors[f.key] = _("This answer is required.")
    if errors:
        raise InvalidInput(
            _("Some answers are missing or not valid; nothing was saved."), errors=errors
        )
    return values


def _fill(
    brief: Brief,
    lead: Lead,
    values: dict[str, Any],
    actor: User | None,
    via: str,
    now: datetime,
) -> Brief:
    """Store the answers and their event; in ``discussion`` the lead becomes SAL."""
    brief.values = values
    brief.filled_at = now
    brief.filled_via = via
    brief.filled_by = actor
    brief.save(update_fields=["values", "filled_at", "filled_via", "filled_by"])
    LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=actor,
        kind=LeadEvent.Kind.BRIEF,
        data={"brief": brief.pk, "action": "filled", "via": via},
    )
    if lead.status == Status.DISCUSSION:
        move_locked(
            actor,
            lead,
            Status.BRIEF_FILLED,
            reason="",
            options=MoveOptions(),
            now=now,
            role_checked=True,
        )
    return brief


def fill_by_client(token: str, raw_values: dict[str, Any], *, now: datetime | None = None) -> Brief:
    """The client's answers through the link: once only, whoever submits second (another
    tab, a double click) is told it was already filled in and nothing is saved twice."""
    now = now or timezone.now()
    nonce = _nonce(token)
    with transaction.atomic():
        lead_id = Brief.objects.filter(nonce=nonce).values_list("lead_id", flat=True).first()
        lead = Lead.objects.select_for_update().filter(pk=lead_id or 0).first()
        brief = (
            Brief.objects.select_for_update().select_related("service").filter(nonce=nonce).first()
        )
        if lead is None or brief is None:
            raise LinkTampered(_("This link is not valid."))
        brief.lead = lead
        _check_link(brief, now)
        _fill(brief, lead, _clean(brief, raw_values), None, Brief.Via.CLIENT, now)
        if lead.manager_id is not None:
            notify(
                User.objects.filter(pk=lead.manager_id),
                "brief_filled",
                dedup_key=f"brief_filled:{brief.pk}",
                now=now,
                lead=lead,
                data={"company": lead.company},
            )
    return brief


def fill_from_call(
    actor: User, lead_id: int, raw_values: dict[str, Any], *, now: datetime | None = None
) -> Brief:
    """The manager types the client's answers during a call. A link already sent and not
    yet used is the brief filled: it then tells the client it was filled in."""
    now = now or timezone.now()
    with transaction.atomic():
        lead = _lead_for_brief(actor, lead_id)
        # The lead's lock is held: no other transaction changes its briefs meanwhile.
        brief = open_brief(lead) or _make(actor, lead, now)
        return _fill(brief, lead, _clean(brief, raw_values), actor, Brief.Via.CALL, now)


def revoke(actor: User, brief_id: int, *, now: datetime | None = None) -> Brief:
    """Withdraw a link not yet filled in; withdrawing it again changes nothing."""
    now = now or timezone.now()
    lead_id = Brief.objects.filter(pk=brief_id).values_list("lead_id", flat=True).first()
    if lead_id is None:
        raise LeadNotFound(_("This brief does not exist."))
    with transaction.atomic():
        lead = access.locked_lead(actor, lead_id)
        brief = Brief.objects.select_for_update().get(pk=brief_id)
        if brief.filled_at is not None:
            raise TransitionNotAllowed(_("This brief is filled in; there is no link to withdraw."))
        if brief.revoked_at is not None:
            return brief
        brief.revoked_at = now
        brief.save(update_fields=["revoked_at"])
        LeadEvent.objects.create(
            lead=lead,
            at=now,
            actor=actor,
            kind=LeadEvent.Kind.BRIEF,
            data={"brief": brief.pk, "action": "revoked"},
        )
    return brief


def answers(brief: Brief) -> list[tuple[str, str]]:
    """A filled brief as read: (question, answer) in the current language, empty left out."""
    out = []
    for f in qf.fields_of(brief.fields):
        shown = qf.display(f, (brief.values or {}).get(f.key))
        if shown:
            out.append((f.label, shown))
    return out
