"""The deal over the API: proposals and their state, the contract, payments (201, then
200 for the same external_id), the CSV import and a client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.deals.models import Payment, Proposal
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from tests.deals.conftest import LeadAt
from tests.leads.snapshots import snapshot

pytestmark = pytest.mark.django_db
Cast = dict[str, User]
ApiClient = Callable[[User], Client]
Contracted = Callable[..., Lead]


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    response = getattr(client, method)(
        f"/api/v1{url}", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en"
    )
    return response


def test_proposals_versions_and_state(cast: Cast, lead_at: LeadAt, api_client: ApiClient) -> None:
    lead = lead_at(Status.PROPOSAL)
    api = api_client(cast["sales"])
    body = {
        "amount": "150000.00",
        "currency": "RUB",
        "term_months": 3,
        "items": [
            {"service": "seo", "amount": "100000"},
            {"description": "Audit", "amount": 50000},
        ],
    }
    first = send(api, "post", f"/leads/{lead.pk}/proposals", body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert (data["version"], data["amount"], data["state"]) == (1, "150000.00", "draft")
    assert data["items"][0] == {"service": "seo", "description": "", "amount": "100000.00"}
    second = send(api, "post", f"/leads/{lead.pk}/proposals", {"amount": "90000"}).json()
    listed = send(api, "get", f"/leads/{lead.pk}/proposals").json()
    assert [(p["version"], p["current"]) for p in listed] == [(1, False), (2, True)]
    old = send(api, "post", f"/proposals/{data['id']}/state", {"state": "sent"})
    assert old.status_code == 422 and old.json()["code"] == "transition_not_allowed"
    sent = send(api, "post", f"/proposals/{second['id']}/state", {"state": "sent"})
    assert sent.status_code == 200 and sent.json()["state"] == "sent"
    bad = send(api, "post", f"/leads/{lead.pk}/proposals", {**body, "amount": "1"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"amount"}
    assert Proposal.objects.filter(lead=lead).count() == 2


def test_contract_put_and_get(cast: Cast, lead_at: LeadAt, api_client: ApiClient) -> None:
    lead = lead_at(Status.PROPOSAL)
    api = api_client(cast["sales"])
    assert send(api, "get", f"/leads/{lead.pk}/contract").status_code == 404
    body = {
        "number": "A-1",
        "kind": "retainer",
        "signed_on": "2026-03-01",
        "starts_on": "2026-03-01",
        "value": "1200000",
        "currency": "RUB",
    }
    refused = send(api, "put", f"/leads/{lead.pk}/contract", body)
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"monthly_fee"}
    body["monthly_fee"] = "100000"
    assert send(api, "put", f"/leads/{lead.pk}/contract", body).status_code == 201
    updated = send(api, "put", f"/leads/{lead.pk}/contract", {**body, "value": "1300000"})
    assert updated.status_code == 200 and updated.json()["value"] == "1300000.00"
    got = send(api, "get", f"/leads/{lead.pk}/contract").json()
    assert (got["number"], got["kind"], got["monthly_fee"]) == ("A-1", "retainer", "100000.00")
    other = send(api_client(cast["sales2"]), "get", f"/leads/{lead.pk}/contract")
    assert other.status_code == 404


def test_payments_201_then_200_and_field_errors(
    cast: Cast, contracted: Contracted, api_client: ApiClient
) -> None:
    lead = contracted()
    api = api_client(cast["sales"])
    body = {
        "paid_on": "2026-03-05",
        "amount": "100000",
        "currency": "RUB",
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
        "external_id": "inv-1",
    }
    before = snapshot(lead.pk)
    bad = send(
        api,
        "post",
        f"/leads/{lead.pk}/payments",
        {**body, "amount": "-1", "currency": "USD", "paid_on": "2026-01-01"},
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"amount", "currency", "paid_on"}
    assert snapshot(lead.pk) == before
    first = send(api, "post", f"/leads/{lead.pk}/payments", body)
    assert first.status_code == 201 and first.json()["source"] == "api"
    again = send(api, "post", f"/leads/{lead.pk}/payments", body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    listed = send(api, "get", f"/leads/{lead.pk}/payments").json()
    assert (listed["lifetime"], listed["totals"]) == (1, {"RUB": "100000.00"})
    assert (
        send(api_client(cast["sdr"]), "post", f"/leads/{lead.pk}/payments", body).status_code == 403
    )
    assert (
        send(api_client(cast["sales2"]), "post", f"/leads/{lead.pk}/payments", body).status_code
        == 404
    )


def test_the_csv_import(cast: Cast, contracted: Contracted, api_client: ApiClient) -> None:
    lead = contracted()
    api = api_client(cast["head_sales"])
    text = (
        "contract,paid_on,amount,currency,period_start,period_end,external_id\n"
        f"D-{lead.pk},2026-03-05,1000,RUB,2026-03-01,2026-03-31,z1\n"
    )
    dry = api.post("/api/v1/payments/import?dry_run=true", text, content_type="text/csv")
    assert dry.status_code == 200 and dry.json()["created"] == 1 and not Payment.objects.exists()
    done = api.post("/api/v1/payments/import", text, content_type="text/csv")
    assert done.status_code == 200 and done.json()["written"]
    again = api.post("/api/v1/payments/import", {"file": _file(text)})
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    bad = api.post(
        "/api/v1/payments/import",
        text.replace("1000", "0"),
        content_type="text/csv",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid" and bad.json()["rows"][0]["errors"] == {
        "amount": "The amount must be greater than zero."
    }
    sdr = api_client(cast["sdr"]).post("/api/v1/payments/import", text, content_type="text/csv")
    assert sdr.status_code == 403


def test_a_csv_body_is_read_up_to_the_imports_own_limit(
    cast: Cast, contracted: Contracted, api_client: ApiClient
) -> None:
    """A raw CSV body between Django's 2.5 MB form limit and the import's 5 MB is
    imported; above 5 MB it is the import's JSON 422, not Django's HTML 400."""
    lead = contracted()
    api = api_client(cast["head_sales"])
    head = "contract,paid_on,amount,currency,period_start,period_end,note\n"
    row = f"D-{lead.pk},2026-03-05,1000,RUB,2026-03-01,2026-03-31,{'x' * 250}\n"
    text = head + row
    padding = "\n" * (3 * 1024 * 1024)  # blank lines are skipped
    done = api.post("/api/v1/payments/import?dry_run=true", text + padding, content_type="text/csv")
    assert done.status_code == 200 and done.json()["created"] == 1
    big = api.post(
        "/api/v1/payments/import?dry_run=true",
        text + "\n" * (5 * 1024 * 1024),
        content_type="text/csv",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert big.status_code == 422
    assert big.json()["file_errors"] == ["A payments file is at most 5 MB."]


def _file(text: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("payments.csv", text.encode())


def test_a_client(cast: Cast, contracted: Contracted, api_client: ApiClient) -> None:
    lead = contracted(company="Acme", website="acme.example")
    send(
        api_client(cast["sales"]),
        "post",
        f"/leads/{lead.pk}/payments",
        {
            "paid_on": "2026-03-05",
            "amount": "10",
            "currency": "RUB",
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
        },
    )
    client_id = Lead.objects.get(pk=lead.pk).client_id
    data = send(api_client(cast["head_sales"]), "get", f"/clients/{client_id}").json()
    assert (data["name"], data["lifetime"], data["totals"]) == ("Acme", 1, {"RUB": "10.00"})
    assert [c["number"] for c in data["contracts"]] == [f"D-{lead.pk}"]
    assert data["leads"][0]["id"] == lead.pk
    assert send(api_client(cast["sales2"]), "get", f"/clients/{client_id}").status_code == 404
