"""The contract, payments and LT: every wrong value a field error with nothing saved,
the billing system's ids keeping a repeated post single, clients found by domain or
name, and the gates from contract to converted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Company
from leadrelay.deals.contracts import (
    client_lifetime,
    lead_lifetime,
    link_client,
    next_period,
    record_payment,
    save_contract,
)
from leadrelay.deals.models import Contract, Payment
from leadrelay.leads.errors import (
    Forbidden,
    InvalidInput,
    LeadNotFound,
    MissingField,
    TransitionNotAllowed,
)
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import MoveOptions, move_lead
from tests.conftest import T0
from tests.deals.conftest import LeadAt
from tests.factories import walk
from tests.leads.snapshots import snapshot

pytestmark = pytest.mark.django_db
Cast = dict[str, User]
Contracted = Callable[..., Lead]

CONTRACT: dict[str, Any] = {
    "number": "Д-2026/17",
    "kind": "retainer",
    "signed_on": "2026-03-01",
    "starts_on": "01.03.2026",
    "ends_on": "2027-02-28",
    "value": "1200000",
    "currency": "RUB",
    "monthly_fee": "100000",
}


def pay(actor: User | None, lead: Lead, **over: Any) -> tuple[Payment, bool]:
    values: dict[str, Any] = {
        "paid_on": date(2026, 3, 5),
        "amount": "100000",
        "currency": "RUB",
        "period_start": date(2026, 3, 1),
        "period_end": date(2026, 3, 31),
    }
    values.update(over)
    return record_payment(actor, lead.pk, **values)


def test_a_contract_is_created_then_updated_and_sets_the_deal_value(
    cast: Cast, lead_at: LeadAt
) -> None:
    lead = lead_at(Status.PROPOSAL, company="ООО Ромашка")
    contract = save_contract(cast["sales"], lead.pk, **CONTRACT, now=T0)
    assert (contract.starts_on, contract.monthly_fee) == (date(2026, 3, 1), Decimal("100000"))
    assert contract.client is not None and contract.client.name == "ООО Ромашка"
    same = save_contract(cast["sales"], lead.pk, **CONTRACT, now=T0)
    assert same.pk == contract.pk
    save_contract(cast["sales"], lead.pk, **{**CONTRACT, "value": "1300000.50"}, now=T0)
    lead.refresh_from_db()
    assert (lead.deal_amount, lead.deal_currency) == (Decimal("1300000.50"), "RUB")
    events = LeadEvent.objects.filter(lead=lead, kind="contract").order_by("id")
    assert [e.data for e in events] == [
        {
            "contract": contract.pk,
            "action": "created",
            "value": "1200000.00",
            "currency": "RUB",
            "kind": "retainer",
        },
        {
            "contract": contract.pk,
            "action": "updated",
            "value": "1300000.50",
            "currency": "RUB",
            "kind": "retainer",
        },
    ]


@pytest.mark.parametrize(
    ("over", "fields"),
    [
        ({"number": " "}, {"number"}),
        ({"kind": "forever"}, {"kind"}),
        ({"ends_on": "2026-02-01"}, {"ends_on"}),
        ({"value": "-1", "currency": "GBP"}, {"value", "currency"}),
        ({"monthly_fee": ""}, {"monthly_fee"}),
        ({"monthly_fee": "0"}, {"monthly_fee"}),
        ({"kind": "one_off"}, {"monthly_fee"}),
        ({"signed_on": "31/02/2026"}, {"signed_on"}),
    ],
)
def test_contract_field_errors_save_nothing(
    cast: Cast, lead_at: LeadAt, over: dict[str, Any], fields: set[str]
) -> None:
    lead = lead_at(Status.PROPOSAL)
    before = snapshot(lead.pk)
    with pytest.raises(InvalidInput) as exc:
        save_contract(cast["sales"], lead.pk, **{**CONTRACT, **over})
    assert set(exc.value.details["errors"]) == fields
    assert snapshot(lead.pk) == before
    assert not Contract.objects.exists()


def test_a_contract_number_is_unique_whatever_its_case(cast: Cast, lead_at: LeadAt) -> None:
    first, second = lead_at(Status.PROPOSAL), lead_at(Status.PROPOSAL)
    save_contract(cast["sales"], first.pk, **{**CONTRACT, "number": "AB-1"})
    with translation.override("en"), pytest.raises(InvalidInput) as exc:
        save_contract(cast["sales"], second.pk, **{**CONTRACT, "number": "ab-1"})
    assert exc.value.details["errors"] == {"number": "Another contract has this number."}


def test_a_contract_waits_for_the_proposal_and_a_converted_one_is_the_heads(
    cast: Cast, lead_at: LeadAt
) -> None:
    with pytest.raises(TransitionNotAllowed):
        save_contract(cast["sales"], lead_at(Status.BRIEF_FILLED).pk, **CONTRACT)
    lead = lead_at(Status.CONVERTED)
    with pytest.raises(TransitionNotAllowed):
        save_contract(
            cast["sales"], lead.pk, **{**CONTRACT, "kind": "one_off", "monthly_fee": None}
        )
    fixed = save_contract(
        cast["head_sales"],
        lead.pk,
        **{
            **CONTRACT,
            "number": "T-fixed",
            "kind": "one_off",
            "monthly_fee": None,
            "signed_on": "2020-01-01",
            "starts_on": "2020-01-01",
            "ends_on": None,
        },
    )
    assert fixed.number == "T-fixed"


@pytest.mark.parametrize(
    ("over", "errors"),
    [
        ({"amount": "-100"}, {"amount": "The amount must be greater than zero."}),
        ({"amount": "0"}, {"amount": "The amount must be greater than zero."}),
        ({"amount": "10.005"}, {"amount": "An amount has at most two decimals."}),
        # Too long to round to cents: refused as too large, not a 500 (InvalidOperation).
        ({"amount": "1e999"}, {"amount": "At most 999,999,999,999.99."}),
        ({"amount": "9" * 40}, {"amount": "At most 999,999,999,999.99."}),
        ({"amount": "-" + "9" * 40}, {"amount": "The amount must be greater than zero."}),
        ({"currency": "USD"}, {"currency": "The contract is in RUB; record the payment in RUB."}),
        (
            {"paid_on": date(2026, 2, 28)},
            {"paid_on": "A payment cannot come before the contract was signed (2026-03-01)."},
        ),
        (
            {"period_end": date(2026, 2, 1)},
            {"period_end": "The period cannot end before it starts."},
        ),
        ({"paid_on": "yesterday"}, {"paid_on": "Enter a date as YYYY-MM-DD or DD.MM.YYYY."}),
    ],
)
def test_payment_field_errors_save_nothing(
    cast: Cast, contracted: Contracted, over: dict[str, Any], errors: dict[str, str]
) -> None:
    lead = contracted()
    before = snapshot(lead.pk)
    with translation.override("en"), pytest.raises(InvalidInput) as exc:
        pay(cast["sales"], lead, **over)
    assert exc.value.details["errors"] == errors
    assert snapshot(lead.pk) == before
    assert not Payment.objects.exists()


def test_a_payment_is_recorded_with_its_event_and_counts_for_lt(
    cast: Cast, contracted: Contracted
) -> None:
    lead = contracted(company="Acme", website="https://www.acme.example/")
    payment, created = pay(cast["sales"], lead, amount="100 000,50", now=T0)
    assert created and payment.amount == Decimal("100000.50")
    assert payment.client is not None and payment.client.name == "Acme"
    event = LeadEvent.objects.get(lead=lead, kind="payment")
    assert event.data == {
        "payment": payment.pk,
        "amount": "100000.50",
        "currency": "RUB",
        "paid_on": "2026-03-05",
        "source": "manual",
    }
    pay(None, lead, source="api")
    assert lead_lifetime(lead) == 2
    other = contracted(company="ACME", website="acme.example")  # the same client
    pay(cast["sales"], other)
    assert client_lifetime(payment.client) == 3
    assert Company.objects.count() == 1


def test_the_same_external_id_is_stored_once(cast: Cast, contracted: Contracted) -> None:
    lead = contracted()
    first, created = pay(cast["sales"], lead, external_id="bill-1", source="api")
    again, created_again = pay(cast["sales"], lead, external_id="bill-1", amount="5")
    assert created and not created_again and again.pk == first.pk
    assert again.amount == Decimal("100000")
    assert LeadEvent.objects.filter(lead=lead, kind="payment").count() == 1
    # Another contract may use the same id from its own billing account.
    assert pay(cast["sales"], contracted(), external_id="bill-1")[1]


def test_payments_need_the_contract_stage_and_the_contract(
    cast: Cast, lead_at: LeadAt, contracted: Contracted
) -> None:
    with pytest.raises(TransitionNotAllowed):
        pay(cast["sales"], lead_at(Status.PROPOSAL))
    with pytest.raises(MissingField) as exc:
        pay(cast["sales"], lead_at(Status.CONTRACT))
    assert exc.value.details["field"] == "contract"
    lead = contracted(manager="sales2")
    with pytest.raises(LeadNotFound):
        pay(cast["sales"], lead)
    with pytest.raises(Forbidden):
        pay(cast["sdr"], lead)


def test_converted_needs_the_contract_and_a_payment(cast: Cast, contracted: Contracted) -> None:
    lead = contracted()
    with translation.override("en"), pytest.raises(MissingField) as exc:
        move_lead(cast["sales"], lead.pk, "converted", version=lead.version)
    assert [m["field"] for m in exc.value.details["missing"]] == ["payment"]
    pay(cast["sales"], lead)
    lead = move_lead(cast["sales"], lead.pk, "converted", version=lead.version)
    assert lead.status == "converted"
    # A retainer's monthly charges keep coming after the conversion.
    assert pay(cast["sales"], lead, paid_on=date(2026, 4, 5))[1]


def test_lost_with_code_and_competitor_then_reopened(cast: Cast, contracted: Contracted) -> None:
    lead = contracted()
    lead = move_lead(
        cast["sales"],
        lead.pk,
        "lost",
        version=lead.version,
        reason="went cheaper",
        options=MoveOptions(reason_code="competitor", competitor="Рога и копыта"),
    )
    assert (lead.status, lead.end_reason_code, lead.lost_to) == (
        "lost",
        "competitor",
        "Рога и копыта",
    )
    lead = move_lead(
        cast["sales"], lead.pk, "proposal", version=lead.version, reason="they came back"
    )
    assert (lead.status, lead.lost_to, lead.end_reason_code) == ("proposal", "", "")
    statuses = list(
        LeadEvent.objects.filter(lead=lead, kind="status")
        .order_by("id")
        .values_list("to_status", flat=True)
    )
    assert statuses[-2:] == ["lost", "proposal"]
    assert Contract.objects.filter(lead=lead).exists()  # the history stays


def test_a_reopened_loss_cannot_jump_past_a_stage_never_done(cast: Cast, lead_at: LeadAt) -> None:
    """Lost from the discussion, a lead reopens to the discussion, not to the contract:
    that would skip the brief and the accepted proposal the gates ask for."""
    lead = lead_at(Status.DISCUSSION)
    lead = move_lead(
        cast["sales"],
        lead.pk,
        "lost",
        version=lead.version,
        reason="quiet",
        options=MoveOptions(reason_code="no_response"),
    )
    for target in ("contract", "proposal", "brief_filled"):
        with pytest.raises(MissingField):
            move_lead(cast["sales"], lead.pk, target, version=lead.version, reason="back")
    lead = move_lead(cast["sales"], lead.pk, "discussion", version=lead.version, reason="back")
    assert lead.status == "discussion"


def test_clients_are_found_by_domain_then_name_else_created(
    cast: Cast, make_lead: Callable[..., Lead]
) -> None:
    known = Company.objects.create(name="Ромашка", website="http://romashka.example/about")
    by_domain = make_lead(company="Romashka LLC", website="www.ROMASHKA.example")
    assert link_client(by_domain) == known
    assert Lead.objects.get(pk=by_domain.pk).client == known
    by_name = make_lead(company="ромашка")
    assert link_client(by_name) == known
    new = make_lead(company="", website="https://beta.example/x", name="Олег")
    created = link_client(new)
    assert (created.name, created.website) == ("beta.example", "https://beta.example/x")
    assert link_client(new) == created  # kept on the lead


def test_accepting_a_lead_links_its_client(cast: Cast, make_lead: Callable[..., Lead]) -> None:
    lead = walk(make_lead(company="Acme"), cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    assert lead.client_id is None
    lead = walk(lead, cast["sales"], "discussion")
    linked = Lead.objects.get(pk=lead.pk).client
    assert linked is not None and linked.name == "Acme"


def test_the_next_period_follows_the_last_one() -> None:
    contract = Contract(kind="retainer", starts_on=date(2026, 1, 31), signed_on=date(2026, 1, 1))
    assert next_period(contract, None, date(2026, 5, 1)) == (date(2026, 1, 31), date(2026, 2, 27))
    last = Payment(period_start=date(2026, 3, 1), period_end=date(2026, 3, 31))
    assert next_period(contract, last, date(2026, 5, 1)) == (date(2026, 4, 1), date(2026, 4, 30))
    last = Payment(period_start=date(2026, 12, 1), period_end=date(2026, 12, 31))
    assert next_period(contract, last, date(2026, 5, 1)) == (date(2027, 1, 1), date(2027, 1, 31))
