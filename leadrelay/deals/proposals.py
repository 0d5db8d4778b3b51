"""The commercial proposal (КП): versions, items, the attached file and its state.

Every save is a new version; the highest is the current one and only it changes state
(draft → sent → accepted or rejected; draft → accepted when the client agreed on a
call). Earlier versions stay as they were sent: they are the negotiation's history.
The current version's amount is the deal's expected value (``lead.deal_amount``).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.deals import values as v
from leadrelay.deals.models import Proposal, ProposalItem
from leadrelay.leads.errors import InvalidInput, LeadNotFound, TransitionNotAllowed
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.sales import access

# A proposal is prepared once the brief is in, and revised until the contract is signed.
PROPOSAL_OPEN = (Status.BRIEF_FILLED, Status.PROPOSAL, Status.CONTRACT)
MAX_ITEMS = 50
MAX_NOTE = 4000
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
# What a proposal is sent as, by extension, and how such a file begins: a renamed
# executable is refused even with a harmless name. The Office and OpenDocument formats
# are ZIP archives.
_ZIP = (b"PK\x03\x04",)
ATTACHMENT_TYPES: dict[str, tuple[bytes, ...]] = {
    ".pdf": (b"%PDF",),
    ".docx": _ZIP,
    ".xlsx": _ZIP,
    ".pptx": _ZIP,
    ".odt": _ZIP,
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
}
# Allowed moves of the current version's state.
NEXT_STATES: dict[str, tuple[str, ...]] = {
    Proposal.State.DRAFT: (Proposal.State.SENT, Proposal.State.ACCEPTED),
    Proposal.State.SENT: (Proposal.State.ACCEPTED, Proposal.State.REJECTED),
}


@dataclass(frozen=True)
class ItemIn:
    service: Service | None
    description: str
    amount: Any


def _require_open(lead: Lead) -> None:
    if lead.status not in PROPOSAL_OPEN:
        raise TransitionNotAllowed(_("Prepare the proposal once the brief is filled in."))


def _service(value: Any) -> Service | None:
    """An item's service by its code or id; blank is no service."""
    if value in (None, ""):
        return None
    if isinstance(value, Service):
        return value
    found = Service.objects.filter(code=str(value)).first()
    if found is None and str(value).isdecimal():
        found = Service.objects.filter(pk=int(value)).first()
    if found is None:
        raise ValueError(_("Choose one of the services."))
    return found


def clean_items(raw: list[dict[str, Any]], fields: v.Fields) -> list[ItemIn]:
    """The items as entered; a row with nothing in it is skipped (a form's spare rows)."""
    if not isinstance(raw, list):
        fields.error("items", _("Items must be a list."))
        return []
    rows = [r for r in raw if isinstance(r, dict) and any(str(x or "").strip() for x in r.values())]
    if len(rows) > MAX_ITEMS:
        fields.error("items", _("At most %(n)s items.") % {"n": MAX_ITEMS})
    items = []
    for i, row in enumerate(rows[:MAX_ITEMS]):
        service = fields.get(f"items.{i}.service", _service, row.get("service"))
        description = fields.get(f"items.{i}.description", v.text, row.get("description"), 500)
        amount = fields.get(f"items.{i}.amount", v.amount, row.get("amount"))
        if service is None and not description and f"items.{i}.service" not in fields.errors:
            fields.error(f"items.{i}.description", _("Describe the item or choose a service."))
        items.append(ItemIn(service, description or "", amount))
    return items


def check_attachment(upload: UploadedFile[bytes] | None) -> str | None:
    """Why this file cannot be attached, or None when it may."""
    if upload is None:
        return None
    ext = os.path.splitext(upload.name or "")[1].lower()
    if ext not in ATTACHMENT_TYPES:
        return _("Attach a PDF, DOCX, XLSX, PPTX, ODT, PNG or JPG file.")
    if (upload.size or 0) > MAX_ATTACHMENT_BYTES:
        return _("A file is at most 20 MB.")
    if not upload.size:
        return _("The file is empty.")
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if not head.startswith(ATTACHMENT_TYPES[ext]):
        return _("The file's content is not a %(type)s file.") % {"type": ext[1:].upper()}
    return None


def _store(upload: UploadedFile[bytes], now: datetime) -> str:
    """Keep the file under a random name: what the client called it is only shown."""
    ext = os.path.splitext(upload.name or "")[1].lower()
    name = f"proposals/{now:%Y/%m}/{uuid.uuid4().hex}{ext}"
    return str(default_storage.save(name, upload))


def _event(lead: Lead, actor: User, proposal: Proposal, action: str, now: datetime) -> None:
    LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=actor,
        kind=LeadEvent.Kind.PROPOSAL,
        data={
            "proposal": proposal.pk,
            "version": proposal.version,
            "action": action,
            "amount": v.plain(proposal.amount),
            "currency": proposal.currency,
        },
    )


def save_proposal(
    actor: User,
    lead_id: int,
    *,
    amount: Any,
    currency: Any,
    term_months: Any = None,
    items: list[dict[str, Any]] | None = None,
    note: str = "",
    attachment: UploadedFile[bytes] | None = None,
    now: datetime | None = None,
) -> Proposal:
    """A new version of the lead's proposal (a draft), its amount the deal's expected
    value. Raises ``InvalidInput`` naming each wrong field; nothing is saved then."""
    now = now or timezone.now()
    fields = v.Fields()
    total = fields.get("amount", v.amount, amount)
    code = fields.get("currency", v.currency, currency or "RUB")
    term = None
    if term_months not in (None, ""):
        try:
            term = int(str(term_months).strip())
        except ValueError:
            term = 0
        if not 1 <= term <= 120:
            fields.error("term_months", _("A term is from 1 to 120 months."))
    rows = clean_items(items or [], fields)
    note = fields.get("note", v.text, note, MAX_NOTE) or ""
    problem = check_attachment(attachment)
    if problem:
        fields.error("attachment", problem)
    if rows and total is not None and not fields.errors:
        summed = sum((r.amount for r in rows), start=v.CENT * 0)
        if summed != total:
            fields.error(
                "amount",
                _("The amount must equal the items' sum, %(sum)s.") % {"sum": v.plain(summed)},
            )
    with transaction.atomic():
        lead = access.locked_lead(actor, lead_id)
        _require_open(lead)
        if fields.errors:
            raise InvalidInput(
                _("The proposal has errors; nothing was saved."), errors=fields.errors
            )
        latest = Proposal.objects.filter(lead=lead).aggregate(n=Max("version"))["n"] or 0
        proposal = Proposal(
            lead=lead,
            version=latest + 1,
            amount=total,
            currency=code,
            term_months=term,
            note=note,
            created_at=now,
            created_by=actor,
        )
        if attachment is not None:
            proposal.attachment.name = _store(attachment, now)
            proposal.attachment_name = os.path.basename(attachment.name or "")[:255]
        proposal.save()
        ProposalItem.objects.bulk_create(
            ProposalItem(
                proposal=proposal,
                service=r.service,
                description=r.description,
                amount=r.amount,
                order=i,
            )
            for i, r in enumerate(rows)
        )
        Lead.objects.filter(pk=lead.pk).update(deal_amount=total, deal_currency=code)
        _event(lead, actor, proposal, "created", now)
    return proposal


def set_proposal_state(
    actor: User, proposal_id: int, state: str, *, now: datetime | None = None
) -> Proposal:
    """Mark the current version sent, accepted or rejected. Earlier versions are
    history and do not change (``TransitionNotAllowed``)."""
    now = now or timezone.now()
    lead_id = Proposal.objects.filter(pk=proposal_id).values_list("lead_id", flat=True).first()
    if lead_id is None:
        raise LeadNotFound(_("Proposal %(id)s not found") % {"id": proposal_id})
    with transaction.atomic():
        lead = access.locked_lead(actor, lead_id)
        _require_open(lead)
        proposal = Proposal.objects.get(pk=proposal_id)
        latest = Proposal.objects.filter(lead=lead).aggregate(n=Max("version"))["n"]
        if proposal.version != latest:
            raise TransitionNotAllowed(
                _("Version %(n)s is history: only the current version changes.")
                % {"n": proposal.version}
            )
        allowed = NEXT_STATES.get(proposal.state, ())
        if state not in allowed:
            raise TransitionNotAllowed(
                _("A proposal that is “%(state)s” cannot become “%(to)s”.")
                % {
                    "state": proposal.get_state_display(),
                    "to": Proposal.State(state).label if state in Proposal.State.values else state,
                },
                allowed=list(allowed),
            )
        proposal.state = state
        if state == Proposal.State.SENT:
            proposal.sent_at = now
        else:
            proposal.decided_at = now
        proposal.save(update_fields=["state", "sent_at", "decided_at"])
        _event(lead, actor, proposal, state, now)
    return proposal


def versions(lead_id: int) -> list[Proposal]:
    """Every version of a lead's proposal, oldest first, with its author, items and their
    services: three queries however many versions (the lead page, the API)."""
    items = Prefetch("items", queryset=ProposalItem.objects.select_related("service"))
    return list(
        Proposal.objects.filter(lead_id=lead_id)
        .select_related("created_by")
        .prefetch_related(items)
        .order_by("version")
    )
