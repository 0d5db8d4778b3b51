"""The billing system's CSV: checked whole, written whole or not at all, and harmless
when imported twice."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import translation

from leadrelay.accounts.models import User
from leadrelay.deals.contracts import import_payments_csv
from leadrelay.deals.models import Payment
from leadrelay.leads.models import Lead, LeadEvent

pytestmark = pytest.mark.django_db
Cast = dict[str, User]
Contracted = Callable[..., Lead]

HEADER = "contract,paid_on,amount,currency,period_start,period_end,external_id,note\n"


def test_a_good_file_is_imported_and_a_second_import_finds_duplicates(
    cast: Cast, contracted: Contracted
) -> None:
    a, b = contracted(), contracted()
    text = (
        HEADER
        + f"D-{a.pk},2026-03-05,100000,RUB,2026-03-01,2026-03-31,b-1,March\n"
        + f'd-{a.pk},05.04.2026,"100 000,00",rub,2026-04-01,2026-04-30,b-2,\n'
        + f"D-{b.pk},2026-03-10,50000.5,RUB,2026-03-01,2026-03-31,,\n"
    )
    dry = import_payments_csv(cast["head_sales"], text, dry_run=True)
    assert (len(dry.created), len(dry.duplicates), len(dry.rejected)) == (3, 0, 0)
    assert not dry.written and not Payment.objects.exists()
    result = import_payments_csv(cast["head_sales"], text.encode())
    assert result.written and len(result.created) == 3
    assert all(r.payment_id for r in result.rows)
    assert Payment.objects.filter(lead=a).count() == 2
    assert Payment.objects.get(lead=b).amount == Decimal("50000.50")
    assert set(Payment.objects.values_list("source", flat=True)) == {"csv"}
    assert LeadEvent.objects.filter(kind="payment").count() == 3
    again = import_payments_csv(cast["head_sales"], text)
    # Rows without an external id cannot be told apart from a new charge.
    assert (len(again.duplicates), len(again.created)) == (2, 1)
    assert Payment.objects.count() == 4


def test_a_mixed_file_writes_nothing_and_names_each_bad_row(
    cast: Cast, contracted: Contracted
) -> None:
    a = contracted()
    other = contracted(manager="sales2")
    text = (
        HEADER
        + f"D-{a.pk},2026-03-05,100000,RUB,2026-03-01,2026-03-31,b-1,\n"
        + f"D-{a.pk},2026-03-05,-5,USD,2026-03-01,2026-02-01,b-2,\n"
        + "NOPE-1,2026-03-05,1,RUB,2026-03-01,2026-03-31,,\n"
        + f"D-{other.pk},2026-03-05,1,RUB,2026-03-01,2026-03-31,,\n"
        + f"D-{a.pk},2026-02-01,1,RUB,2026-03-01,2026-03-31,b-1,\n"
    )
    with translation.override("en"):
        result = import_payments_csv(cast["sales"], text)
    assert not result.written and not Payment.objects.exists()
    rejected = {r.row: r.errors for r in result.rejected}
    assert set(rejected) == {3, 4, 5, 6}
    assert set(rejected[3]) == {"amount", "currency", "period_end"}
    assert rejected[4] == {"contract": "No such contract."}
    assert rejected[5] == {"contract": "No such contract."}  # not visible to this manager
    assert set(rejected[6]) == {"paid_on"}
    assert [r.row for r in result.created] == [2]


def test_bom_semicolons_lead_ids_and_a_twice_listed_charge(
    cast: Cast, contracted: Contracted
) -> None:
    a = contracted()
    text = (
        "\ufefflead;paid_on;amount;currency;period_start;period_end;external_id\r\n"
        f"{a.pk};05.03.2026;1 500,50;RUB;01.03.2026;31.03.2026;x-1\r\n"
        f"#{a.pk};05.03.2026;1 500,50;RUB;01.03.2026;31.03.2026;x-1\r\n"
    )
    result = import_payments_csv(cast["sales"], text.encode("utf-8"))
    assert result.written
    assert [r.state for r in result.rows] == ["created", "duplicate"]
    assert Payment.objects.get().amount == Decimal("1500.50")


def test_a_windows_1251_file_and_missing_columns(cast: Cast, contracted: Contracted) -> None:
    a = contracted()
    text = HEADER + f"D-{a.pk},2026-03-05,1,RUB,2026-03-01,2026-03-31,,Оплата за март\n"
    assert import_payments_csv(cast["sales"], text.encode("cp1251")).written
    assert Payment.objects.get().note == "Оплата за март"
    with translation.override("en"):
        bad = import_payments_csv(cast["sales"], "contract,amount\nD-1,5\n")
    assert bad.file_errors == ["Missing columns: paid_on, currency, period_start, period_end."]
    assert not bad.written
