"""Proposal to payment on the web: the lead page's deal panel, the proposal file, the
payments import page and the client pages.

The panel's forms answer like the lead page's other forms (``qualify_views``): under
HTMX the whole ``#lead-main`` (a proposal or a payment changes the lead's value, its
gates and its history), without JavaScript a redirect back to the lead page, and on a
refusal the page again with the message at the top and each field's error beside what
the user typed, nothing saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Company, Service
from leadrelay.deals import contracts, proposals
from leadrelay.deals.models import Contract, Payment, Proposal
from leadrelay.deals.values import CURRENCY_CODES
from leadrelay.leads.errors import InvalidInput, LeadError, LeadNotFound
from leadrelay.leads.models import Lead
from leadrelay.leads.queries import visible_leads
from leadrelay.leads.statuses import Status
from leadrelay.sales import access
from leadrelay.web import panels
from leadrelay.web.views import (
    HtmxHttpRequest,
    _done,
    _not_found,
    _partial,
    _render_lead,
    _user,
)

PLACE = "deals-panel"
ITEM_ROWS = 5
# Where the panel is shown: from the brief on, and a lost deal that got as far as a
# proposal (its value is set) — a check on the lead row, so other leads cost nothing.
SHOWN = (Status.BRIEF_FILLED, Status.PROPOSAL, Status.CONTRACT, Status.CONVERTED)
PROPOSAL_FIELDS = ("amount", "currency", "term_months", "note")
CONTRACT_FIELDS = (
    "number",
    "kind",
    "signed_on",
    "starts_on",
    "ends_on",
    "value",
    "currency",
    "monthly_fee",
)
# The import's columns less the row's contract or lead: the lead page names it.
PAYMENT_FIELDS = contracts.COLUMNS[2:]


@dataclass
class Posted:
    """A refused form's values and errors, to draw it again as the user left it."""

    form: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProposalRow:
    proposal: Proposal
    current: bool
    next_states: list[tuple[str, str]]


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def _proposal_rows(lead: Lead, works: bool) -> list[ProposalRow]:
    found = proposals.versions(lead.pk)[::-1]
    rows = []
    for i, p in enumerate(found):
        states = proposals.NEXT_STATES.get(p.state, ()) if works and i == 0 else ()
        rows.append(ProposalRow(p, i == 0, [(s, str(Proposal.State(s).label)) for s in states]))
    return rows


def _contract_values(contract: Contract | None, latest: Proposal | None) -> dict[str, str]:
    """The contract form's values: the contract's, else what the accepted proposal says."""
    if contract is not None:
        return {
            "number": contract.number,
            "kind": contract.kind,
            "signed_on": contract.signed_on.isoformat(),
            "starts_on": contract.starts_on.isoformat(),
            "ends_on": contract.ends_on.isoformat() if contract.ends_on else "",
            "value": _plain(contract.value),
            "currency": contract.currency,
            "monthly_fee": _plain(contract.monthly_fee),
        }
    today = timezone.localdate().isoformat()
    values = {"kind": Contract.Kind.ONE_OFF, "signed_on": today, "starts_on": today}
    if latest is not None:
        values.update(value=_plain(latest.amount), currency=latest.currency)
        if latest.term_months and latest.term_months > 1:
            values.update(
                kind=Contract.Kind.RETAINER,
                monthly_fee=_plain((latest.amount / latest.term_months).quantize(Decimal("0.01"))),
            )
    return values


def _payment_values(contract: Contract, payments: list[Payment]) -> dict[str, str]:
    """A new payment's defaults: today, the monthly fee (a retainer) or what is left of
    the value (a one-off), the next period."""
    today = timezone.localdate()
    start, end = contracts.next_period(contract, payments[-1] if payments else None, today)
    if contract.kind == Contract.Kind.RETAINER and contract.monthly_fee:
        amount = contract.monthly_fee
    else:
        amount = max(contract.value - sum((p.amount for p in payments), Decimal(0)), Decimal(0))
    return {
        "paid_on": today.isoformat(),
        "amount": _plain(amount) if amount else "",
        "currency": contract.currency,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
    }


def _item_error(posted: Posted, index: int) -> str:
    """What is wrong with one item row, its fields' messages together."""
    if posted.form != "proposal":
        return ""
    prefix = f"items.{index}."
    return " ".join(m for k, m in posted.errors.items() if k.startswith(prefix))


def deals_context(user: User, lead: Lead, posted: Posted | None = None) -> dict[str, Any]:
    """Everything the deal panel shows: proposal versions, the contract, the payments,
    LT and the three forms, with what a refused form held."""
    posted = posted or Posted()
    works = access.may_work(user, lead)
    rows = _proposal_rows(lead, works and lead.status in proposals.PROPOSAL_OPEN)
    latest = rows[0].proposal if rows else None
    contract = Contract.objects.filter(lead=lead).first()
    payments = list(Payment.objects.filter(lead=lead).order_by("paid_on", "id"))
    head = user.is_superuser or user.role in (Role.HEAD_SALES, Role.ADMIN)
    may_contract = works and (
        lead.status in contracts.CONTRACT_OPEN or (lead.status == Status.CONVERTED and head)
    )
    may_pay = works and contract is not None and lead.status in access.PAYABLE

    def form(name: str, defaults: dict[str, Any]) -> dict[str, Any]:
        if posted.form == name:
            return {"values": posted.values, "errors": posted.errors, "open": True}
        return {"values": defaults, "errors": {}, "open": False}

    item_values = posted.values.get("items") if posted.form == "proposal" else None
    items = list(item_values or [])
    items += [{}] * max(ITEM_ROWS - len(items), 0)
    proposal_defaults = {"currency": latest.currency if latest else "RUB"}
    return {
        "lead": lead,
        "works": works,
        "may_propose": works and lead.status in proposals.PROPOSAL_OPEN,
        "may_contract": may_contract,
        "may_pay": may_pay,
        "proposals": rows,
        "contract": contract,
        "payments": payments,
        "totals": sorted(contracts.totals(payments).items()),
        "lt": len(payments),
        "client_lt": contracts.client_lifetime(lead.client) if lead.client else None,
        "currencies": CURRENCY_CODES,
        "kinds": Contract.Kind.choices,
        "services": list(Service.objects.filter(active=True)) if works else [],
        "items": [(i, row, _item_error(posted, i)) for i, row in enumerate(items)],
        "items_error": posted.errors.get("items", "") if posted.form == "proposal" else "",
        "proposal_form": form("proposal", proposal_defaults),
        "contract_form": form("contract", _contract_values(contract, latest)),
        "payment_form": form(
            "payment", _payment_values(contract, payments) if contract is not None else {}
        ),
    }


def deals_panel(user: User, lead: Lead) -> panels.Panel | None:
    if lead.status not in SHOWN and not (lead.status == Status.LOST and lead.deal_amount):
        return None
    return panels.Panel("web/deals/_panel.html", deals_context(user, lead))


panels.register(deals_panel)


# The panel's forms --------------------------------------------------------------------


def _answer(
    request: HtmxHttpRequest,
    lead_id: int,
    posted: Posted,
    act: Callable[[User], str],
) -> HttpResponse:
    """Run one record function and answer the lead page's way (see the module doc)."""
    user = _user(request)
    try:
        try:
            done = act(user)
        except LeadNotFound:
            raise
        except InvalidInput as exc:
            posted.errors = dict(exc.details.get("errors") or {})
            lead = visible_leads(user).filter(pk=lead_id).first()
            if lead is None:
                raise
            again = deals_context(user, lead, posted)
            return _render_lead(
                request,
                user,
                lead_id,
                status=422,
                place=PLACE,
                whole=True,
                error=exc,
                deals_again=again,
            )
        except LeadError as exc:
            return _render_lead(
                request, user, lead_id, status=exc.http_status, place=PLACE, whole=True, error=exc
            )
        if _partial(request):
            return _render_lead(request, user, lead_id, whole=True, success=done)
    except LeadNotFound:
        return _not_found(request)
    return _done(request, lead_id, done, anchor=PLACE)


def _items_from_post(request: HttpRequest) -> list[dict[str, str]]:
    post = request.POST
    return [
        {
            "service": post.get(f"item-{i}-service", ""),
            "description": post.get(f"item-{i}-description", ""),
            "amount": post.get(f"item-{i}-amount", ""),
        }
        for i in range(proposals.MAX_ITEMS)
        if f"item-{i}-amount" in post or f"item-{i}-description" in post
    ]


@login_required
@require_POST
def proposal_new(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    values: dict[str, Any] = {k: request.POST.get(k, "") for k in PROPOSAL_FIELDS}
    values["items"] = _items_from_post(request)
    upload = request.FILES.get("attachment")

    def act(user: User) -> str:
        p = proposals.save_proposal(
            user,
            lead_id,
            amount=values["amount"],
            currency=values["currency"],
            term_months=values["term_months"],
            items=values["items"],
            note=values["note"],
            attachment=upload,
        )
        return _("Proposal version %(n)s saved as a draft.") % {"n": p.version}

    return _answer(request, lead_id, Posted("proposal", values), act)


@login_required
@require_POST
def proposal_state(request: HtmxHttpRequest, lead_id: int, proposal_id: int) -> HttpResponse:
    state = request.POST.get("state", "")

    def act(user: User) -> str:
        if not Proposal.objects.filter(pk=proposal_id, lead_id=lead_id).exists():
            raise LeadNotFound(_("This proposal does not exist."))
        p = proposals.set_proposal_state(user, proposal_id, state)
        return _("Proposal version %(n)s: %(state)s.") % {
            "n": p.version,
            "state": p.get_state_display(),
        }

    return _answer(request, lead_id, Posted("state"), act)


@login_required
@require_POST
def contract_save(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    values: dict[str, Any] = {k: request.POST.get(k, "") for k in CONTRACT_FIELDS}

    def act(user: User) -> str:
        c = contracts.save_contract(user, lead_id, **values)
        return _("Contract %(number)s saved.") % {"number": c.number}

    return _answer(request, lead_id, Posted("contract", values), act)


@login_required
@require_POST
def payment_new(request: HtmxHttpRequest, lead_id: int) -> HttpResponse:
    values: dict[str, Any] = {k: request.POST.get(k, "") for k in PAYMENT_FIELDS}

    def act(user: User) -> str:
        payment, created = contracts.record_payment(user, lead_id, **values)
        if not created:
            return _("This payment (%(id)s) was already recorded.") % {"id": payment.external_id}
        return _("Payment recorded.")

    return _answer(request, lead_id, Posted("payment", values), act)


@login_required
@require_GET
def proposal_file(
    request: HtmxHttpRequest, lead_id: int, proposal_id: int
) -> HttpResponse | FileResponse:
    """The proposal's file, to whoever may see the lead; as a download, never shown
    inline (an uploaded file must not run in the app's origin)."""
    user = _user(request)
    proposal = (
        Proposal.objects.filter(pk=proposal_id, lead_id=lead_id).exclude(attachment="").first()
    )
    if proposal is None or not visible_leads(user).filter(pk=lead_id).exists():
        raise Http404
    try:
        handle = default_storage.open(str(proposal.attachment.name), "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=proposal.attachment_name or "proposal"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Payments import ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def payments_import(request: HtmxHttpRequest) -> HttpResponse:
    """Upload the billing system's CSV: "Check" shows what would happen, "Import" writes
    it — every row or, when any row is refused, none (fix the file and import it again;
    rows already stored come back as duplicates)."""
    user = _user(request)
    if not access.works_sales(user):
        message = _("Payments are imported by sales managers and the head of sales.")
        return render(request, "403.html", {"message": message}, status=403)
    context: dict[str, Any] = {"nav": "payments", "columns": contracts.COLUMNS}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = _("Choose a CSV file.")
            status = 422
        else:
            dry = request.POST.get("action") != "import"
            result = contracts.import_payments_csv(user, upload, dry_run=dry)
            context["result"] = result
            status = 200 if result.ok else 422
    return render(request, "web/deals/import.html", context, status=status)


# Clients ------------------------------------------------------------------------------

CLIENTS_PER_PAGE = 50


def _clients_of(user: User) -> QuerySet[Company]:
    """The companies behind the leads the user may see (all of them for an admin)."""
    if user.is_superuser or user.role == Role.ADMIN:
        return Company.objects.all()
    return Company.objects.filter(Exists(visible_leads(user).filter(client=OuterRef("pk"))))


@login_required
@require_GET
def clients(request: HtmxHttpRequest) -> HttpResponse:
    user = _user(request)
    query = (request.GET.get("q") or "").strip()[:100]
    found = _clients_of(user)
    if query:
        found = found.filter(Q(name__icontains=query) | Q(website__icontains=query))
    found = found.annotate(
        lead_count=Count("leads", distinct=True),
        lt=Count("payments", distinct=True),
        last_paid=Max("payments__paid_on"),
    ).order_by("name", "pk")
    page = Paginator(found, CLIENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"nav": "clients", "page": page, "q": query}
    template = "web/deals/_clients_table.html" if _partial(request) else "web/deals/clients.html"
    return render(request, template, context)


@login_required
@require_GET
def client_detail(request: HtmxHttpRequest, client_id: int) -> HttpResponse:
    """One company: its leads, contracts and payments with totals per currency and LT."""
    user = _user(request)
    company = _clients_of(user).filter(pk=client_id).first()
    if company is None:
        raise Http404
    leads = list(
        visible_leads(user)
        .filter(client=company)
        .select_related("manager", "service")
        .order_by("-received_at", "-id")
    )
    ids = [lead.pk for lead in leads]
    deals = list(Contract.objects.filter(lead_id__in=ids).order_by("signed_on", "id"))
    payments = list(
        Payment.objects.filter(lead_id__in=ids).select_related("contract").order_by("paid_on", "id")
    )
    context = {
        "nav": "clients",
        "company": company,
        "leads": leads,
        "contracts": deals,
        "payments": payments,
        "totals": sorted(contracts.totals(payments).items()),
        "lt": contracts.client_lifetime(company),
        "first_paid": payments[0].paid_on if payments else None,
        "last_paid": payments[-1].paid_on if payments else None,
        "partial": len(leads) < company.leads.count(),
    }
    return render(request, "web/deals/client.html", context)
