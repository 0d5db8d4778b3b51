"""The JSON API of the deal: proposal versions and their state, the contract, payments
(with the billing system's ``external_id`` making a repeated post harmless), the CSV
import of payments, and a client with its leads, contracts, payments and LT.

Writing is for the lead's manager, the head of sales and admins (403 for others who see
the lead, 404 for who does not); reading for whoever may see the lead. Amounts are
decimal strings ("150000.00") with their currency. A proposal's file is uploaded on the
lead page; here its download link (``file_url``, a signed-in web page) is given.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from leadrelay.accounts.roles import Role
from leadrelay.api.api import ERRORS, READ_ERRORS, _get, _user
from leadrelay.api.schemas import Error, UserRef
from leadrelay.catalog.models import Company
from leadrelay.deals import contracts, proposals
from leadrelay.deals.models import Contract, Payment, Proposal
from leadrelay.leads.errors import Forbidden, LeadNotFound
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.serialize import user_ref
from leadrelay.sales import access

router: Router = Router(tags=["deals"])

Currency = Literal["RUB", "USD", "EUR", "KZT", "BYN"]


# Schemas ------------------------------------------------------------------------------


class ItemIn(Schema):
    model_config = ConfigDict(extra="forbid")

    service: str | None = Field(None, description="A service's code, e.g. `seo`.")
    description: str = ""
    amount: Decimal = Field(description="Not negative, at most two decimals.")


class ProposalIn(Schema):
    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(description="The proposal's total; equals the items' sum if any.")
    currency: Currency = "RUB"
    term_months: int | None = Field(None, description="1 to 120; none for one-off work.")
    items: list[ItemIn] = []
    note: str = ""


class ItemOut(Schema):
    service: str | None
    description: str
    amount: Decimal


class ProposalOut(Schema):
    id: int
    lead: int
    version: int
    current: bool = Field(description="The highest version: the only one whose state changes.")
    amount: Decimal
    currency: str
    term_months: int | None
    state: Literal["draft", "sent", "accepted", "rejected"]
    note: str
    items: list[ItemOut]
    file_name: str
    file_url: str | None = Field(description="The file's download page (web sign-in).")
    created_at: datetime
    created_by: UserRef | None
    sent_at: datetime | None
    decided_at: datetime | None


class StateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    state: Literal["sent", "accepted", "rejected"] = Field(
        description="draft → sent → accepted or rejected; a draft may be accepted directly."
    )


class ContractIn(Schema):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(description="Unique among contracts, whatever its case.")
    kind: Literal["retainer", "one_off"]
    signed_on: date
    starts_on: date
    ends_on: date | None = None
    value: Decimal
    currency: Currency = "RUB"
    monthly_fee: Decimal | None = Field(
        None, description="Required (above zero) for a retainer; none for a one-off."
    )


class ContractOut(Schema):
    id: int
    lead: int
    client: int | None
    number: str
    kind: str
    signed_on: date
    starts_on: date
    ends_on: date | None
    value: Decimal
    currency: str
    monthly_fee: Decimal | None
    created_at: datetime
    updated_at: datetime


class PaymentIn(Schema):
    model_config = ConfigDict(extra="forbid")

    paid_on: date = Field(description="Not before the contract was signed.")
    amount: Decimal = Field(description="Above zero, at most two decimals.")
    currency: Currency = Field(description="The contract's currency.")
    period_start: date
    period_end: date
    external_id: str = Field(
        "", description="The billing system's id: posting it again returns the stored one."
    )
    note: str = ""


class PaymentOut(Schema):
    id: int
    lead: int
    contract: str = Field(description="The contract's number.")
    paid_on: date
    amount: Decimal
    currency: str
    period_start: date
    period_end: date
    source: Literal["manual", "csv", "api"]
    external_id: str
    note: str
    created_at: datetime


class PaymentsOut(Schema):
    lifetime: int = Field(description="LT: the number of charges paid on this lead's contract.")
    totals: dict[str, Decimal] = Field(description="The sum paid, per currency.")
    payments: list[PaymentOut]


class ImportRowOut(Schema):
    row: int = Field(description="The line in the file (the header is line 1).")
    state: Literal["created", "duplicate", "rejected"]
    contract: str
    lead: int | None
    payment: int | None
    errors: dict[str, str]


class ImportOut(Schema):
    dry_run: bool
    written: bool
    file_errors: list[str]
    created: int
    duplicates: int
    rejected: int
    rows: list[ImportRowOut]


class ImportRefused(Error):
    """A 422 of the import: nothing was written; the rows say why."""

    dry_run: bool = False
    written: bool = False
    file_errors: list[str] = []
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    rows: list[ImportRowOut] = []


class ClientLeadOut(Schema):
    id: int
    status: str
    manager: UserRef | None
    deal_amount: Decimal | None
    deal_currency: str
    lost_to: str


class ClientOut(Schema):
    id: int
    name: str
    website: str
    lifetime: int = Field(description="LT: the number of charges the client has paid.")
    first_paid: date | None
    last_paid: date | None
    totals: dict[str, Decimal]
    leads: list[ClientLeadOut] = Field(description="The client's leads you may see.")
    contracts: list[ContractOut]
    payments: list[PaymentOut]


# Serialising --------------------------------------------------------------------------


def proposal_dict(p: Proposal, current: bool) -> dict[str, Any]:
    return {
        "id": p.pk,
        "lead": p.lead_id,
        "version": p.version,
        "current": current,
        "amount": p.amount,
        "currency": p.currency,
        "term_months": p.term_months,
        "state": p.state,
        "note": p.note,
        "items": [
            {
                "service": i.service.code if i.service else None,
                "description": i.description,
                "amount": i.amount,
            }
            for i in p.items.all()
        ],
        "file_name": p.attachment_name,
        "file_url": reverse("deals:proposal_file", args=[p.lead_id, p.pk])
        if p.attachment
        else None,
        "created_at": p.created_at,
        "created_by": user_ref(p.created_by),
        "sent_at": p.sent_at,
        "decided_at": p.decided_at,
    }


def _proposals(lead_id: int) -> list[dict[str, Any]]:
    found = proposals.versions(lead_id)
    return [proposal_dict(p, i == len(found) - 1) for i, p in enumerate(found)]


def contract_dict(c: Contract) -> dict[str, Any]:
    return {
        "id": c.pk,
        "lead": c.lead_id,
        "client": c.client_id,
        "number": c.number,
        "kind": c.kind,
        "signed_on": c.signed_on,
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
        "value": c.value,
        "currency": c.currency,
        "monthly_fee": c.monthly_fee,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }


def payment_dict(p: Payment) -> dict[str, Any]:
    return {
        "id": p.pk,
        "lead": p.lead_id,
        "contract": p.contract.number,
        "paid_on": p.paid_on,
        "amount": p.amount,
        "currency": p.currency,
        "period_start": p.period_start,
        "period_end": p.period_end,
        "source": p.source,
        "external_id": p.external_id,
        "note": p.note,
        "created_at": p.created_at,
    }


# Proposals ----------------------------------------------------------------------------


@router.post("/leads/{lead_id}/proposals", response={201: ProposalOut, **ERRORS})
def create_proposal(
    request: HttpRequest, lead_id: int, body: ProposalIn
) -> tuple[int, dict[str, Any]]:
    """A new version of the lead's proposal, as a draft; its amount becomes the deal's
    expected value. Only from `brief_filled` to `contract` (422 before the brief);
    `invalid` (422) names each wrong field (`items.0.amount`…), nothing saved."""
    p = proposals.save_proposal(
        _user(request),
        lead_id,
        amount=body.amount,
        currency=body.currency,
        term_months=body.term_months,
        items=[i.model_dump() for i in body.items],
        note=body.note,
    )
    return 201, proposal_dict(Proposal.objects.select_related("created_by").get(pk=p.pk), True)


@router.get("/leads/{lead_id}/proposals", response={200: list[ProposalOut], **READ_ERRORS})
def list_proposals(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """Every version of the lead's proposal, oldest first; the last is the current one."""
    return _proposals(_get(request, lead_id).pk)


@router.post("/proposals/{proposal_id}/state", response={200: ProposalOut, **ERRORS})
def proposal_state(request: HttpRequest, proposal_id: int, body: StateIn) -> dict[str, Any]:
    """Mark the current version sent, accepted or rejected (a contract needs an accepted
    one). An earlier version, or a move its state does not allow, is a 422 with the
    states `allowed`."""
    p = proposals.set_proposal_state(_user(request), proposal_id, body.state)
    return proposal_dict(Proposal.objects.select_related("created_by").get(pk=p.pk), True)


# The contract -------------------------------------------------------------------------


@router.put("/leads/{lead_id}/contract", response={200: ContractOut, 201: ContractOut, **ERRORS})
def put_contract(
    request: HttpRequest, lead_id: int, body: ContractIn
) -> tuple[int, dict[str, Any]]:
    """Create the lead's contract (201) or update it (200); its value becomes the deal's.
    In `proposal` or `contract` (a converted lead's by the head of sales). `invalid`
    (422) names each wrong field: a taken number, a retainer without its monthly fee…"""
    existed = Contract.objects.filter(lead_id=lead_id).exists()
    c = contracts.save_contract(_user(request), lead_id, **body.model_dump())
    return (200 if existed else 201), contract_dict(c)


@router.get("/leads/{lead_id}/contract", response={200: ContractOut, **READ_ERRORS})
def get_contract(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """The lead's contract; 404 when it has none yet."""
    lead = _get(request, lead_id)
    c = Contract.objects.filter(lead=lead).first()
    if c is None:
        raise LeadNotFound(_("The lead has no contract yet."))
    return contract_dict(c)


# Payments -----------------------------------------------------------------------------


@router.post("/leads/{lead_id}/payments", response={200: PaymentOut, 201: PaymentOut, **ERRORS})
def create_payment(
    request: HttpRequest, lead_id: int, body: PaymentIn
) -> tuple[int, dict[str, Any]]:
    """Record a charge the client paid: 201. With an `external_id` already on the
    contract, the stored charge comes back unchanged: 200. A lead in `contract` or
    `converted` with its contract; `invalid` (422) names each wrong field (amount not
    above zero, a currency other than the contract's, a date before the contract,
    a period that ends before it starts), nothing saved."""
    payment, created = contracts.record_payment(
        _user(request), lead_id, source=Payment.Source.API, **body.model_dump()
    )
    payment = Payment.objects.select_related("contract").get(pk=payment.pk)
    return (201 if created else 200), payment_dict(payment)


@router.get("/leads/{lead_id}/payments", response={200: PaymentsOut, **READ_ERRORS})
def list_payments(request: HttpRequest, lead_id: int) -> dict[str, Any]:
    """The lead's payments, oldest first, with LT and the totals per currency."""
    lead = _get(request, lead_id)
    payments = list(
        Payment.objects.filter(lead=lead).select_related("contract").order_by("paid_on", "id")
    )
    return {
        "lifetime": len(payments),
        "totals": contracts.totals(payments),
        "payments": [payment_dict(p) for p in payments],
    }


@router.post(
    "/payments/import",
    response={200: ImportOut, 401: Error, 403: Error, 422: ImportRefused},
)
def import_payments(request: HttpRequest, dry_run: bool = False) -> Any:
    """Import the billing system's CSV: the request body (`text/csv`) or a multipart
    `file`. Columns `contract` (number) or `lead` (id), `paid_on`, `amount`, `currency`,
    `period_start`, `period_end`, optional `external_id` and `note`; `;` or `,`; UTF-8 or
    Windows-1251. Every row is checked first; all are written, or none when any is
    refused (422, each row's errors). Rows whose `external_id` is already stored are
    `duplicate`, not written twice. `dry_run` only checks."""
    user = _user(request)
    if not access.works_sales(user):
        raise Forbidden(_("Payments are imported by sales managers and the head of sales."))
    upload = request.FILES.get("file")
    # A raw body is read from the stream, up to the import's own 5 MB: ``request.body``
    # stops at Django's 2.5 MB for form data and answers a bare HTML 400 above it.
    source: Any = upload if upload is not None else request
    result = contracts.import_payments_csv(user, source, dry_run=dry_run)
    body = result.as_dict()
    if result.ok:
        return 200, body
    message = _("Nothing was imported: %(n)s rows refused.") % {"n": len(result.rejected)}
    if result.file_errors:
        message = " ".join(result.file_errors)
    return 422, {"code": "invalid", "message": message, **body}


# Clients ------------------------------------------------------------------------------


@router.get("/clients/{client_id}", response={200: ClientOut, **READ_ERRORS})
def get_client(request: HttpRequest, client_id: int) -> dict[str, Any]:
    """A client: its leads you may see, their contracts and payments, the totals per
    currency, and LT (every charge the client paid)."""
    user = _user(request)
    leads = list(
        visible_leads(user).filter(client_id=client_id).select_related("manager").order_by("id")
    )
    admin = user.is_superuser or user.role == Role.ADMIN
    company = Company.objects.filter(pk=client_id).first() if (leads or admin) else None
    if company is None:
        raise LeadNotFound(_("Client %(id)s not found") % {"id": client_id})
    ids = [lead.pk for lead in leads]
    payments = list(
        Payment.objects.filter(lead_id__in=ids).select_related("contract").order_by("paid_on")
    )
    return {
        "id": company.pk,
        "name": company.name,
        "website": company.website,
        "lifetime": contracts.client_lifetime(company),
        "first_paid": payments[0].paid_on if payments else None,
        "last_paid": payments[-1].paid_on if payments else None,
        "totals": contracts.totals(payments),
        "leads": [
            {
                "id": lead.pk,
                "status": lead.status,
                "manager": user_ref(lead.manager),
                "deal_amount": lead.deal_amount,
                "deal_currency": lead.deal_currency,
                "lost_to": lead.lost_to,
            }
            for lead in leads
        ],
        "contracts": [
            contract_dict(c) for c in Contract.objects.filter(lead_id__in=ids).order_by("id")
        ],
        "payments": [payment_dict(p) for p in payments],
    }
