"""The contract, the payments (billing charges) and the client they belong to.

A client's LT (lifetime) is the number of charges it has paid: what the sales KPIs
count, so every charge is recorded once, whether typed in, imported from the billing
system's CSV or posted through the API. The billing system's ``external_id`` makes a
repeated post or a re-imported file harmless.
"""

from __future__ import annotations

import calendar
import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Company
from leadrelay.deals import values as v
from leadrelay.deals.models import Contract, Payment
from leadrelay.leads import hooks, queries
from leadrelay.leads.errors import (
    InvalidInput,
    LeadError,
    LeadNotFound,
    MissingField,
    TransitionNotAllowed,
)
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.sales import access

# The contract is drawn up once the proposal is agreed; a head may correct it later.
CONTRACT_OPEN = (Status.PROPOSAL, Status.CONTRACT)


# Clients ------------------------------------------------------------------------------


def website_host(url: str) -> str:
    """ "https://www.Example.ru/about" → "example.ru": how two websites are compared."""
    text = (url or "").strip().lower()
    if not text:
        return ""
    if "://" not in text:
        text = "//" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _by_name(name: str) -> Company | None:
    # SQLite folds only ASCII case; the spellings people use catch a Cyrillic name too.
    spellings = {name, name.lower(), name.upper(), name.title(), name.capitalize()}
    return (
        Company.objects.filter(Q(name__iexact=name) | Q(name__in=spellings)).order_by("pk").first()
    )


def find_client(lead: Lead) -> Company | None:
    """The company this lead's request comes from: by website, else by name."""
    host = website_host(lead.website)
    if host:
        for company in Company.objects.filter(website__icontains=host).order_by("pk")[:50]:
            if website_host(company.website) == host:
                return company
    name = (lead.company or "").strip()
    return _by_name(name) if name else None


def link_client(lead: Lead) -> Company:
    """The lead's client: found by website domain or name, else created; kept on the lead."""
    if lead.client_id is not None:
        return Company.objects.get(pk=lead.client_id)
    company = find_client(lead)
    if company is None:
        host = website_host(lead.website)
        name = (lead.company or "").strip() or host or lead.name or lead.email or f"#{lead.pk}"
        company = Company.objects.create(name=name[:300], website=(lead.website or "")[:300])
    Lead.objects.filter(pk=lead.pk).update(client=company)
    lead.client = company
    return company


def link_on_accept(change: hooks.Change) -> None:
    """Sales accepting a lead (the move to ``discussion``) ties it to its client."""
    event = change.event
    if (
        event.kind == LeadEvent.Kind.STATUS
        and event.to_status == Status.DISCUSSION
        and change.lead.client_id is None
    ):
        link_client(change.lead)


def client_lifetime(company: Company) -> int:
    """LT: how many charges the client has paid, over all its contracts."""
    return Payment.objects.filter(client=company).count()


def lead_lifetime(lead: Lead) -> int:
    return Payment.objects.filter(lead=lead).count()


def totals(payments: list[Payment]) -> dict[str, Decimal]:
    """The sum paid per currency (a client may pay contracts in several)."""
    found: dict[str, Decimal] = {}
    for p in payments:
        found[p.currency] = found.get(p.currency, Decimal(0)) + p.amount
    return found


# The contract -------------------------------------------------------------------------


def _may_edit_converted(actor: User) -> bool:
    return actor.is_superuser or actor.role in (Role.HEAD_SALES, Role.ADMIN)


def _contract_event(
    lead: Lead, actor: User, contract: Contract, action: str, now: datetime
) -> None:
    LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=actor,
        kind=LeadEvent.Kind.CONTRACT,
        data={
            "contract": contract.pk,
            "action": action,
            "value": v.plain(contract.value),
            "currency": contract.currency,
            "kind": contract.kind,
        },
    )


@dataclass(frozen=True)
class ContractIn:
    number: str
    kind: str
    signed_on: date
    starts_on: date
    ends_on: date | None
    value: Decimal
    currency: str
    monthly_fee: Decimal | None


def clean_contract(raw: dict[str, Any]) -> ContractIn:
    """The contract's fields checked together; ``InvalidInput`` names each wrong one."""
    f = v.Fields()
    number = f.get("number", v.text, raw.get("number"), 64)
    if number == "":
        f.error("number", _("Enter the contract number."))
    kind = str(raw.get("kind") or "")
    if kind not in Contract.Kind.values:
        f.error("kind", _("Choose retainer or one-off."))
    signed_on = f.get("signed_on", v.day, raw.get("signed_on"))
    starts_on = f.get("starts_on", v.day, raw.get("starts_on"))
    ends_on = f.get("ends_on", v.optional_day, raw.get("ends_on"))
    if starts_on and ends_on and ends_on < starts_on:
        f.error("ends_on", _("The work cannot end before it starts."))
    value = f.get("value", v.amount, raw.get("value"))
    currency = f.get("currency", v.currency, raw.get("currency") or "RUB")
    fee_raw = raw.get("monthly_fee")
    fee = None
    if fee_raw not in (None, ""):
        fee = f.get("monthly_fee", v.amount, fee_raw)
    if kind == Contract.Kind.RETAINER and not fee and "monthly_fee" not in f.errors:
        f.error("monthly_fee", _("A retainer needs its monthly fee, above zero."))
    if kind == Contract.Kind.ONE_OFF and fee_raw not in (None, ""):
        f.error("monthly_fee", _("A one-off project has no monthly fee."))
    if f.errors:
        raise InvalidInput(_("The contract has errors; nothing was saved."), errors=f.errors)
    return ContractIn(number, kind, signed_on, starts_on, ends_on, value, currency, fee)


def save_contract(
    actor: User,
    lead_id: int,
    *,
    number: Any,
    kind: Any,
    signed_on: Any,
    starts_on: Any,
    ends_on: Any = None,
    value: Any,
    currency: Any = "RUB",
    monthly_fee: Any = None,
    now: datetime | None = None,
) -> Contract:
    """Create the lead's contract, or update it. Its value becomes the deal's value."""
    now = now or timezone.now()
    data = clean_contract(
        {
            "number": number,
            "kind": kind,
            "signed_on": signed_on,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "value": value,
            "currency": currency,
            "monthly_fee": monthly_fee,
        }
    )
    with transaction.atomic():
        lead = access.locked_lead(actor, lead_id)
        if lead.status not in CONTRACT_OPEN and not (
            lead.status == Status.CONVERTED and _may_edit_converted(actor)
        ):
            raise TransitionNotAllowed(
                _("The contract is drawn up once the proposal is agreed (status “%(s)s”).")
                % {"s": Status.PROPOSAL.label}
            )
        contract = Contract.objects.filter(lead=lead).first()
        _check_against_records(contract, data)
        fields = {
            "number": data.number,
            "kind": data.kind,
            "signed_on": data.signed_on,
            "starts_on": data.starts_on,
            "ends_on": data.ends_on,
            "value": data.value,
            "currency": data.currency,
            "monthly_fee": data.monthly_fee,
        }
        if contract is not None and all(getattr(contract, k) == x for k, x in fields.items()):
            return contract
        action = "created" if contract is None else "updated"
        if contract is None:
            contract = Contract(lead=lead, created_at=now, created_by=actor)
        for key, value_ in fields.items():
            setattr(contract, key, value_)
        contract.client = link_client(lead)
        contract.updated_at = now
        try:
            with transaction.atomic():
                contract.save()
        except IntegrityError:  # another contract took the number a moment ago
            raise _number_taken() from None
        Lead.objects.filter(pk=lead.pk).update(deal_amount=data.value, deal_currency=data.currency)
        _contract_event(lead, actor, contract, action, now)
    return contract


def _number_taken() -> InvalidInput:
    message = _("Another contract has this number.")
    return InvalidInput(message, errors={"number": message})


def _check_against_records(contract: Contract | None, data: ContractIn) -> None:
    """What the contract must agree with: other contracts' numbers and its payments."""
    others = Contract.objects.annotate(n=Lower("number")).filter(
        Q(n=data.number.lower()) | Q(number__iexact=data.number)
    )
    if contract is not None:
        others = others.exclude(pk=contract.pk)
    if others.exists():
        raise _number_taken()
    if contract is None:
        return
    errors: dict[str, str] = {}
    payments = Payment.objects.filter(contract=contract)
    if data.currency != contract.currency and payments.exists():
        errors["currency"] = _("Payments are recorded in %(c)s; the currency stays.") % {
            "c": contract.currency
        }
    if payments.filter(paid_on__lt=data.signed_on).exists():
        errors["signed_on"] = _("A payment was recorded before this date.")
    if errors:
        raise InvalidInput(_("The contract has errors; nothing was saved."), errors=errors)


# Payments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentIn:
    paid_on: date
    amount: Decimal
    currency: str
    period_start: date
    period_end: date
    external_id: str
    note: str


def clean_payment(
    contract: Contract, raw: dict[str, Any]
) -> tuple[PaymentIn | None, dict[str, str]]:
    """A payment's fields checked against its contract: the values, or the errors."""
    f = v.Fields()
    paid_on = f.get("paid_on", v.day, raw.get("paid_on"))
    amount = f.get("amount", v.amount, raw.get("amount"), positive=True)
    currency = f.get("currency", v.currency, raw.get("currency"))
    if currency and currency != contract.currency:
        f.error(
            "currency",
            _("The contract is in %(c)s; record the payment in %(c)s.") % {"c": contract.currency},
        )
    if paid_on and paid_on < contract.signed_on:
        f.error(
            "paid_on",
            _("A payment cannot come before the contract was signed (%(d)s).")
            % {"d": contract.signed_on.isoformat()},
        )
    start = f.get("period_start", v.day, raw.get("period_start"))
    end = f.get("period_end", v.day, raw.get("period_end"))
    if start and end and end < start:
        f.error("period_end", _("The period cannot end before it starts."))
    external_id = f.get("external_id", v.text, raw.get("external_id"), 100) or ""
    note = f.get("note", v.text, raw.get("note"), 300) or ""
    if f.errors:
        return None, f.errors
    return PaymentIn(paid_on, amount, currency, start, end, external_id, note), {}


def _payable_lead(actor: User | None, lead_id: int) -> Lead:
    if actor is not None:
        lead = access.locked_lead(actor, lead_id)
    else:  # the billing system's import, run by the operator: no person to check
        found = Lead.objects.select_for_update().filter(pk=lead_id).first()
        if found is None:
            raise LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})
        lead = found
    if lead.status not in access.PAYABLE:
        raise TransitionNotAllowed(
            _("Payments are recorded once the lead has its contract (status “%(s)s”).")
            % {"s": Status.CONTRACT.label}
        )
    return lead


def record_payment(
    actor: User | None,
    lead_id: int,
    *,
    paid_on: Any,
    amount: Any,
    currency: Any,
    period_start: Any,
    period_end: Any,
    source: str = Payment.Source.MANUAL,
    external_id: str = "",
    note: str = "",
    now: datetime | None = None,
) -> tuple[Payment, bool]:
    """Record one charge the client paid. Returns it and whether it is new: a charge
    whose ``external_id`` is already on the contract is returned as it is, unchanged."""
    now = now or timezone.now()
    if source not in Payment.Source.values:
        raise InvalidInput(_("Unknown source."), errors={"source": _("Unknown source.")})
    with transaction.atomic():
        lead = _payable_lead(actor, lead_id)
        contract = Contract.objects.filter(lead=lead).first()
        if contract is None:
            raise MissingField(_("Record the contract first."), field="contract")
        external_id = (external_id or "").strip()
        if external_id:
            existing = Payment.objects.filter(contract=contract, external_id=external_id).first()
            if existing is not None:
                return existing, False
        raw = {
            "paid_on": paid_on,
            "amount": amount,
            "currency": currency,
            "period_start": period_start,
            "period_end": period_end,
            "external_id": external_id,
            "note": note,
        }
        data, errors = clean_payment(contract, raw)
        if data is None:
            raise InvalidInput(_("The payment has errors; nothing was saved."), errors=errors)
        if contract.client_id is None:
            contract.client = link_client(lead)
            contract.save(update_fields=["client"])
        payment = Payment(
            contract=contract,
            lead=lead,
            client_id=contract.client_id,
            paid_on=data.paid_on,
            amount=data.amount,
            currency=data.currency,
            period_start=data.period_start,
            period_end=data.period_end,
            source=source,
            external_id=data.external_id,
            note=data.note,
            created_at=now,
            created_by=actor,
        )
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:
            # The same charge posted twice at once: the other post stored it.
            twin = Payment.objects.filter(contract=contract, external_id=external_id).first()
            if not external_id or twin is None:
                raise
            return twin, False
        LeadEvent.objects.create(
            lead=lead,
            at=now,
            actor=actor,
            kind=LeadEvent.Kind.PAYMENT,
            data={
                "payment": payment.pk,
                "amount": v.plain(payment.amount),
                "currency": payment.currency,
                "paid_on": payment.paid_on.isoformat(),
                "source": payment.source,
            },
        )
    return payment, True


def next_period(contract: Contract, last: Payment | None, today: date) -> tuple[date, date]:
    """The period a retainer's next charge covers: the month after the last one paid
    (else from the work's start); a one-off covers its whole term."""
    if contract.kind == Contract.Kind.ONE_OFF:
        return contract.starts_on, max(contract.ends_on or today, contract.starts_on)
    start = last.period_end + timedelta(days=1) if last else contract.starts_on
    year, month = (start.year, start.month + 1) if start.month < 12 else (start.year + 1, 1)
    # 31 January + a month is the last day of February.
    after = date(year, month, min(start.day, calendar.monthrange(year, month)[1]))
    return start, after - timedelta(days=1)


# CSV import ---------------------------------------------------------------------------

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000
COLUMNS = (
    "contract",
    "lead",
    "paid_on",
    "amount",
    "currency",
    "period_start",
    "period_end",
    "external_id",
    "note",
)
REQUIRED = ("paid_on", "amount", "currency", "period_start", "period_end")
_ALIASES = {"contract_number": "contract", "lead_id": "lead", "date": "paid_on"}


@dataclass
class ImportRow:
    row: int
    contract: str
    lead_id: int | None
    data: PaymentIn | None = None
    errors: dict[str, str] = field(default_factory=dict)
    duplicate: bool = False
    payment_id: int | None = None

    @property
    def state(self) -> str:
        if self.errors:
            return "rejected"
        return "duplicate" if self.duplicate else "created"


@dataclass
class ImportResult:
    """What an import did (or, dry, would do): each row created, a duplicate of a
    charge already stored (same contract and ``external_id``), or rejected with why."""

    rows: list[ImportRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    dry_run: bool = False
    written: bool = False

    def _of(self, state: str) -> list[ImportRow]:
        return [r for r in self.rows if r.state == state]

    @property
    def created(self) -> list[ImportRow]:
        return self._of("created")

    @property
    def duplicates(self) -> list[ImportRow]:
        return self._of("duplicate")

    @property
    def rejected(self) -> list[ImportRow]:
        return self._of("rejected")

    @property
    def ok(self) -> bool:
        return not self.file_errors and not self.rejected

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "written": self.written,
            "file_errors": self.file_errors,
            "created": len(self.created),
            "duplicates": len(self.duplicates),
            "rejected": len(self.rejected),
            "rows": [
                {
                    "row": r.row,
                    "state": r.state,
                    "contract": r.contract,
                    "lead": r.lead_id,
                    "payment": r.payment_id,
                    "errors": r.errors,
                }
                for r in self.rows
            ],
        }


def _read_text(file: IO[bytes] | IO[str] | bytes | str) -> str:
    raw: bytes | str = file if isinstance(file, bytes | str) else file.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise ValueError(_("A payments file is at most 5 MB."))
    if isinstance(raw, str):
        return raw.removeprefix("\ufeff")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel in Russian saves CSV in Windows-1251.
        return raw.decode("cp1251")


def _rows(text: str) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The file's rows by line number, with the header's names normalised."""
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        return [], [_("The file is empty.")]
    names = [_ALIASES.get(h.strip().lower(), h.strip().lower()) for h in header]
    problems = []
    missing = [c for c in REQUIRED if c not in names]
    if "contract" not in names and "lead" not in names:
        missing.insert(0, "contract")
    if missing:
        problems.append(_("Missing columns: %(cols)s.") % {"cols": ", ".join(missing)})
    rows: list[tuple[int, dict[str, str]]] = []
    for values in reader:
        if not any(x.strip() for x in values):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            problems.append(_("At most %(n)s rows per file.") % {"n": MAX_IMPORT_ROWS})
            break
        rows.append((reader.line_num, dict(zip(names, values, strict=False))))
    return rows, problems


def _resolve(actor: User | None, rows: list[ImportRow]) -> dict[int, tuple[Lead, Contract]]:
    """Each row's lead and contract, fetched for the whole file at once."""
    numbers = {r.contract.lower() for r in rows if r.contract}
    ids = {r.lead_id for r in rows if r.lead_id is not None}
    contracts = list(
        Contract.objects.annotate(n=Lower("number"))
        .filter(Q(n__in=numbers) | Q(lead_id__in=ids))
        .select_related("lead")
    )
    by_number = {c.number.lower(): c for c in contracts}
    by_lead = {c.lead_id: c for c in contracts}
    visible: set[int] = {c.lead_id for c in contracts}
    if actor is not None:
        visible = set(
            queries.visible_leads(actor).filter(pk__in=visible).values_list("pk", flat=True)
        )
    found: dict[int, tuple[Lead, Contract]] = {}
    for r in rows:
        contract = by_number.get(r.contract.lower()) if r.contract else by_lead.get(r.lead_id or 0)
        if r.contract and r.lead_id is not None and contract and contract.lead_id != r.lead_id:
            r.errors["lead"] = _("This contract belongs to another lead.")
        elif contract is None or contract.lead_id not in visible:
            r.errors["contract" if r.contract else "lead"] = (
                _("No such contract.") if r.contract else _("No contract for this lead.")
            )
        elif actor is not None and not access.may_work(actor, contract.lead):
            r.errors["lead"] = _("Only the lead's sales manager or the head of sales can do this.")
        elif contract.lead.status not in access.PAYABLE:
            r.errors["lead"] = _("The lead is not at the contract stage.")
        else:
            found[r.row] = (contract.lead, contract)
    return found


def _check_rows(actor: User | None, text: str, result: ImportResult) -> None:
    parsed, problems = _rows(text)
    result.file_errors.extend(problems)
    if problems:
        return
    cells_of = dict(parsed)
    for line, cells in parsed:
        lead_text = (cells.get("lead") or "").strip().lstrip("#")
        row = ImportRow(line, (cells.get("contract") or "").strip(), None)
        if lead_text.isdecimal() and len(lead_text) < 18:
            row.lead_id = int(lead_text)
        elif lead_text:
            row.errors["lead"] = _("A lead is its number.")
        elif not row.contract:
            row.errors["contract"] = _("Name the contract number or the lead.")
        result.rows.append(row)
    found = _resolve(actor, [r for r in result.rows if not r.errors])
    seen: set[tuple[int, str]] = set()
    stored = set(
        Payment.objects.filter(contract_id__in={c.pk for _, c in found.values()})
        .exclude(external_id="")
        .values_list("contract_id", "external_id")
    )
    for r in result.rows:
        if r.row not in found:
            continue
        lead, contract = found[r.row]
        r.lead_id = lead.pk
        r.data, errors = clean_payment(contract, cells_of[r.row])
        r.errors.update(errors)
        if r.data and r.data.external_id:
            key = (contract.pk, r.data.external_id)
            r.duplicate = key in stored or key in seen
            seen.add(key)


class _Rollback(Exception):
    pass


def import_payments_csv(
    actor: User | None,
    file: IO[bytes] | IO[str] | bytes | str,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Import the billing system's payments: every row checked first, then all of them
    written in one transaction, or none when any row is rejected (fix the file and
    import it again: rows already stored come back as duplicates, not twice).

    Columns: ``contract`` (number) or ``lead`` (id), ``paid_on``, ``amount``,
    ``currency``, ``period_start``, ``period_end``, optional ``external_id`` and
    ``note``; UTF-8 (with or without BOM) or Windows-1251, ``;`` or ``,`` separated.
    """
    now = now or timezone.now()
    result = ImportResult(dry_run=dry_run)
    try:
        text = _read_text(file)
    except ValueError as exc:
        result.file_errors.append(str(exc))
        return result
    _check_rows(actor, text, result)
    if dry_run or not result.ok:
        return result
    try:
        with transaction.atomic():
            for r in result.rows:
                if r.duplicate or r.data is None or r.lead_id is None:
                    continue
                try:
                    payment, created = record_payment(
                        actor,
                        r.lead_id,
                        paid_on=r.data.paid_on,
                        amount=r.data.amount,
                        currency=r.data.currency,
                        period_start=r.data.period_start,
                        period_end=r.data.period_end,
                        source=Payment.Source.CSV,
                        external_id=r.data.external_id,
                        note=r.data.note,
                        now=now,
                    )
                except LeadError as exc:  # changed since the check: nothing is written
                    r.errors.update(exc.details.get("errors") or {"lead": exc.message})
                    raise _Rollback from exc
                r.payment_id = payment.pk
                r.duplicate = not created
    except _Rollback:
        for r in result.rows:
            r.payment_id = None
        return result
    result.written = True
    return result
