"""The worker finishes stored deliveries: Meta leads fetched from the Graph API, retried
until the fetch works, and deliveries whose lead could not be made the first time."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from django.utils import timezone

from leadrelay.catalog.models import Source
from leadrelay.intake import tasks
from leadrelay.intake.models import Delivery
from leadrelay.leads.models import Lead

pytestmark = pytest.mark.django_db


class FakeGraph:
    """A Graph API stand-in on 127.0.0.1 that fails the first ``failures`` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[str] = []
        graph = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                graph.calls.append(self.path)
                if len(graph.calls) <= graph.failures:
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.dumps(
                    {
                        "id": "9001",
                        "created_time": "2026-11-20T10:00:00+0000",
                        "field_data": [
                            {"name": "full_name", "values": ["Светлана Иванова"]},
                            {"name": "email", "values": ["Sveta@Example.ru"]},
                            {"name": "phone_number", "values": ["+7 (916) 555-44-33"]},
                        ],
                        "ad_id": "120000",
                        "form_id": "77",
                    },
                    ensure_ascii=False,
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v26.0"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph(failures=1)
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _meta_webhook(source: Source, leadgen_id: str) -> int:
    body = json.dumps(
        {
            "object": "page",
            "entry": [
                {
                    "id": "444",
                    "time": 1763632800,
                    "changes": [
                        {
                            "field": "leadgen",
                            "value": {
                                "leadgen_id": leadgen_id,
                                "page_id": "444",
                                "form_id": "77",
                                "ad_id": "120000",
                                "created_time": 1763632800,
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    signature = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    r = Client().post(
        f"/in/{source.key}/",
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=signature,
    )
    return r.status_code


def test_a_meta_lead_is_fetched_by_the_worker_and_retried_until_the_fetch_works(
    graph: FakeGraph,
) -> None:
    source = Source.objects.create(
        kind="meta",
        name="Meta Lead Ads",
        secret="app-secret",
        config={"graph_base_url": graph.url, "access_token": "page-token"},
    )
    assert _meta_webhook(source, "9001") == 202
    delivery = Delivery.objects.get()
    assert delivery.status == "pending" and delivery.lead is None
    assert not Lead.objects.exists()

    now = timezone.now()
    assert tasks.process_due_deliveries(now) == 1  # the Graph API answers 500
    delivery.refresh_from_db()
    assert delivery.lead is None and delivery.attempts == 1
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > now

    assert tasks.process_due_deliveries(now) == 0  # not due yet
    later = delivery.next_attempt_at + timedelta(seconds=1)
    assert tasks.process_due_deliveries(later) == 1
    delivery.refresh_from_db()
    assert delivery.status == "processed"
    lead = Lead.objects.get()
    assert delivery.lead == lead
    assert (lead.name, lead.email, lead.phone) == (
        "Светлана Иванова",
        "sveta@example.ru",
        "+79165554433",
    )
    assert "access_token=page-token" in graph.calls[-1]

    # Meta redelivers the same leadgen id: nothing new.
    assert _meta_webhook(source, "9001") == 200
    assert Lead.objects.count() == 1 and Delivery.objects.count() == 1


def test_two_workers_never_claim_the_same_delivery() -> None:
    source = Source.objects.create(kind="meta", name="Meta", secret="app-secret")
    assert _meta_webhook(source, "1") == 202
    now = timezone.now()
    first = tasks.claim_due(now)
    second = tasks.claim_due(now)
    assert [d.event_id for d in first] == ["1"] and second == []
    # A killed worker's claim expires with its lease.
    assert [d.event_id for d in tasks.claim_due(now + tasks.LEASE + timedelta(seconds=1))] == ["1"]


def test_a_delivery_claimed_twice_still_makes_one_lead() -> None:
    # An admin's "retry now" can make a delivery due again while a worker is on it, so
    # two workers may each hold a copy of the same failed delivery.
    source = Source.objects.create(kind="form", name="Site form")
    now = timezone.now()
    delivery = Delivery.objects.create(
        source=source,
        received_at=now,
        method="POST",
        content_type="application/x-www-form-urlencoded",
        body=b"name=%D0%90%D0%B4%D0%B0&email=ada%40x.ru",
        status=Delivery.Status.FAILED,
        next_attempt_at=now,
    )
    first = Delivery.objects.select_related("source").get(pk=delivery.pk)
    second = Delivery.objects.select_related("source").get(pk=delivery.pk)
    assert tasks.process(first, now) is True
    assert tasks.process(second, now) is True
    assert Lead.objects.filter(email="ada@x.ru").count() == 1
    delivery.refresh_from_db()
    assert delivery.status == "processed" and delivery.lead is not None
