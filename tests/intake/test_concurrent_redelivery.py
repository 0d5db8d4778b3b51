"""Twenty copies of one vendor event arriving at the same moment make one lead."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from leadrelay.catalog.models import Source
from leadrelay.intake.models import Delivery
from leadrelay.leads.models import Lead, LeadEvent

COPIES = 20
ROUNDS = 10


def deliver_at_once(url: str, body: dict[str, str]) -> list[tuple[int, int | None]]:
    """POST ``body`` to ``url`` from COPIES threads released together."""
    barrier = threading.Barrier(COPIES)
    answers: list[tuple[int, int | None]] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            barrier.wait(timeout=60)
            r = Client().post(url, body)
            answers.append((r.status_code, r.json().get("lead")))
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(COPIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return answers


@pytest.mark.django_db(transaction=True)
def test_twenty_identical_deliveries_at_once_create_one_lead() -> None:
    source = Source.objects.create(kind="tilda", name="Tilda", secret="tok")
    for round_ in range(ROUNDS):
        email = f"petr{round_}@firma.ru"
        body = {"Name": "Пётр", "Email": email, "tranid": f"777:{round_}"}
        answers = deliver_at_once(f"/in/{source.key}/?token=tok", body)
        assert len(answers) == COPIES
        assert {status for status, _ in answers} == {200}
        lead_ids = {lead for _, lead in answers if lead is not None}
        assert len(lead_ids) == 1 and all(lead is not None for _, lead in answers)
        assert Lead.objects.filter(email=email).count() == 1
        assert Delivery.objects.filter(event_id=f"777:{round_}").count() == 1
        assert LeadEvent.objects.filter(lead_id__in=lead_ids).count() == 1
