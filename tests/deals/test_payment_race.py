"""The billing system posting one charge several times at once stores it once.

Each thread is its own database connection (file SQLite or PostgreSQL, whichever the
suite runs on), all released together by a barrier.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
from django.db import connection

from leadrelay.accounts.models import User
from leadrelay.deals.contracts import record_payment
from leadrelay.deals.models import Payment
from leadrelay.leads.models import Lead, LeadEvent

THREADS = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_charge_store_it_once(
    cast: dict[str, User], contracted: Callable[..., Lead]
) -> None:
    lead = contracted()
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait(timeout=60)
            payment, created = record_payment(
                cast["sales"],
                lead.pk,
                paid_on=date(2026, 3, 5),
                amount="100000",
                currency="RUB",
                period_start=date(2026, 3, 1),
                period_end=date(2026, 3, 31),
                source="api",
                external_id="inv-2026-03",
            )
            answers.append((payment.pk, created))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(created for _, created in answers) == [False] * (THREADS - 1) + [True]
    assert len({pk for pk, _ in answers}) == 1
    assert Payment.objects.count() == 1
    assert LeadEvent.objects.filter(lead=lead, kind="payment").count() == 1
