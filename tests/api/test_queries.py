"""The number of queries an API answer takes does not grow with the data behind it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.models import Lead
from tests.factories import walk

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
MakeLead = Callable[..., Lead]

# The token with its user, then the lead(s) with SDR, manager, source and service joined.
READ_ONE = 2
READ_PAGE = 2


def count(client: Client, path: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.fixture
def busy_leads(cast: dict[str, User], make_lead: MakeLead) -> list[Lead]:
    """Leads with every relation lead_dict reads: source, service, SDR and manager."""
    source = Source.objects.create(kind=Source.Kind.FORM, name="Site")
    service = Service.objects.get(code="seo")
    leads = []
    for i in range(12):
        lead = make_lead(source=source, service=service, email=f"c{i}@example.ru")
        lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
        leads.append(walk(lead, cast["sales"], "assigned"))
    return leads


def test_reading_a_lead_takes_a_fixed_number_of_queries(
    cast: dict[str, User], api_client: ClientFor, busy_leads: list[Lead]
) -> None:
    client = api_client(cast["admin"])
    lead = busy_leads[0]
    assert count(client, f"/api/v1/leads/{lead.pk}") <= READ_ONE
    body = client.get(f"/api/v1/leads/{lead.pk}").json()
    assert body["sdr"]["id"] == cast["sdr"].pk and body["manager"]["id"] == cast["sales"].pk
    assert body["service"] == "seo" and body["source"]["kind"] == "form"
    assert body["end_reason_code"] == ""


def test_a_page_of_leads_takes_as_many_queries_as_a_page_of_one(
    cast: dict[str, User], api_client: ClientFor, busy_leads: list[Lead]
) -> None:
    client = api_client(cast["admin"])
    one = count(client, "/api/v1/leads", limit=1)
    many = count(client, "/api/v1/leads", limit=12)
    assert one == many <= READ_PAGE


def test_a_claim_takes_a_bounded_number_of_queries(
    cast: dict[str, User],
    api_client: ClientFor,
    make_lead: MakeLead,
    django_assert_max_num_queries: Any,
) -> None:
    lead = make_lead(service=Service.objects.get(code="seo"))
    client = api_client(cast["sdr"])
    # The move, its event, the hooks (SLA clock, webhooks), and one read of the answer;
    # 17 today, with room for a hook or two.
    with django_assert_max_num_queries(22):
        response = client.post(f"/api/v1/leads/{lead.pk}/claim")
    assert response.status_code == 200
