"""The deal on the web: the lead page's panel and its forms, the proposal file, the lost
form's competitor, the payments import page and the client pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Company
from leadrelay.deals.contracts import record_payment
from leadrelay.deals.models import Contract, Payment, Proposal
from leadrelay.deals.proposals import save_proposal
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from tests.deals.conftest import LeadAt
from tests.leads.snapshots import snapshot

pytestmark = pytest.mark.django_db
Cast = dict[str, User]
ClientFor = Callable[..., Client]
Contracted = Callable[..., Lead]
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "lead-main"}
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n"


def test_the_panel_shows_from_the_brief_on_and_only_workers_get_forms(
    cast: Cast, lead_at: LeadAt, client_for: ClientFor
) -> None:
    lead = lead_at(Status.DISCUSSION)
    assert 'id="deals-panel"' not in client_for(cast["sales"]).get(f"/leads/{lead.pk}/").text
    lead = lead_at(Status.BRIEF_FILLED)
    page = client_for(cast["sales"]).get(f"/leads/{lead.pk}/").text
    assert 'id="deals-panel"' in page and f'action="/leads/{lead.pk}/proposals/"' in page
    assert f'action="/leads/{lead.pk}/contract/"' not in page  # not before the proposal stage
    assert client_for(cast["sales"], "ru").get(f"/leads/{lead.pk}/").status_code == 200
    sdr_page = client_for(cast["sdr"]).get(f"/leads/{lead.pk}/").text  # sees, only reads
    assert (
        'id="deals-panel"' in sdr_page and f'action="/leads/{lead.pk}/proposals/"' not in sdr_page
    )


def test_a_proposal_with_items_and_a_file_from_the_form(
    cast: Cast, lead_at: LeadAt, client_for: ClientFor, media: Any
) -> None:
    lead = lead_at(Status.BRIEF_FILLED)
    client = client_for(cast["sales"])
    response = client.post(
        f"/leads/{lead.pk}/proposals/",
        {
            "amount": "150000",
            "currency": "RUB",
            "term_months": "3",
            "item-0-service": "seo",
            "item-0-description": "SEO",
            "item-0-amount": "100 000",
            "item-1-description": "Audit",
            "item-1-amount": "50000",
            "item-2-description": "",
            "item-2-amount": "",
            "attachment": SimpleUploadedFile("offer.pdf", PDF),
        },
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get(lead=lead)
    assert proposal.items.count() == 2 and proposal.attachment_name == "offer.pdf"
    page = client.get(f"/leads/{lead.pk}/").text
    assert f"/leads/{lead.pk}/proposals/{proposal.pk}/file" in page
    assert "proposal-current" in page
    download = client.get(f"/leads/{lead.pk}/proposals/{proposal.pk}/file")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert isinstance(download, FileResponse)
    assert download.getvalue() == PDF
    assert (
        client_for(cast["sales2"]).get(f"/leads/{lead.pk}/proposals/{proposal.pk}/file").status_code
        == 404
    )
    other = lead_at(Status.BRIEF_FILLED)
    assert client.get(f"/leads/{other.pk}/proposals/{proposal.pk}/file").status_code == 404


def test_a_refused_proposal_keeps_what_was_typed_and_saves_nothing(
    cast: Cast, lead_at: LeadAt, client_for: ClientFor
) -> None:
    lead = lead_at(Status.BRIEF_FILLED)
    before = snapshot(lead.pk)
    response = client_for(cast["sales"]).post(
        f"/leads/{lead.pk}/proposals/",
        {"amount": "999", "currency": "RUB", "item-0-description": "SEO", "item-0-amount": "-1"},
        **HTMX,
    )
    assert response.status_code == 422
    assert 'value="999"' in response.text and 'class="field-error"' in response.text
    assert snapshot(lead.pk) == before and not Proposal.objects.exists()


def test_state_buttons_contract_and_payment_forms(
    cast: Cast, lead_at: LeadAt, client_for: ClientFor
) -> None:
    lead = lead_at(Status.PROPOSAL)
    client = client_for(cast["sales"])
    proposal = save_proposal(cast["sales"], lead.pk, amount="300000", currency="RUB")
    url = f"/leads/{lead.pk}/proposals/{proposal.pk}/state/"
    assert client.post(url, {"state": "sent"}, **HTMX).status_code == 200
    assert client.post(url, {"state": "draft"}, **HTMX).status_code == 422
    assert client.post(url, {"state": "accepted"}).status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).state == "accepted"
    contract = {
        "number": "W-1",
        "kind": "one_off",
        "signed_on": "2026-03-01",
        "starts_on": "2026-03-01",
        "ends_on": "",
        "value": "300000",
        "currency": "RUB",
        "monthly_fee": "",
    }
    assert client.post(f"/leads/{lead.pk}/contract/", contract).status_code == 302
    assert Contract.objects.get(lead=lead).number == "W-1"
    lead = Lead.objects.get(pk=lead.pk)
    client.post(f"/leads/{lead.pk}/move/", {"to": "contract", "version": lead.version})
    page = client.get(f"/leads/{lead.pk}/").text
    assert f'action="/leads/{lead.pk}/payments/"' in page
    payment = {
        "paid_on": "2026-02-01",
        "amount": "-5",
        "currency": "USD",
        "period_start": "2026-03-01",
        "period_end": "2026-03-31",
    }
    refused = client.post(f"/leads/{lead.pk}/payments/", payment, **HTMX)
    assert refused.status_code == 422
    assert refused.text.count("<li data-field=") == 3 and not Payment.objects.exists()
    payment.update(paid_on="2026-03-05", amount="300000", currency="RUB")
    assert client.post(f"/leads/{lead.pk}/payments/", payment, **HTMX).status_code == 200
    assert Payment.objects.get(lead=lead).amount == Decimal("300000")


def test_another_managers_lead_forms_answer_404(
    cast: Cast, lead_at: LeadAt, client_for: ClientFor
) -> None:
    lead = lead_at(Status.BRIEF_FILLED, manager="sales2")
    client = client_for(cast["sales"])
    assert client.post(f"/leads/{lead.pk}/proposals/", {"amount": "1"}).status_code == 404
    assert (
        client_for(cast["sdr"]).post(f"/leads/{lead.pk}/proposals/", {"amount": "1"}).status_code
        == 403
    )


def test_the_panel_costs_the_same_queries_however_long_the_deal(
    cast: Cast,
    contracted: Contracted,
    client_for: ClientFor,
    django_assert_num_queries: Any,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    lead = contracted(kind="retainer")
    client = client_for(cast["sales"])
    with CaptureQueriesContext(connection) as first:
        client.get(f"/leads/{lead.pk}/")
    for month in range(3, 9):
        record_payment(
            cast["sales"],
            lead.pk,
            paid_on=date(2026, month, 5),
            amount="100000",
            currency="RUB",
            period_start=date(2026, month, 1),
            period_end=date(2026, month, 28),
        )
    Lead.objects.filter(pk=lead.pk).update(status="proposal")
    for _ in range(3):
        save_proposal(
            cast["sales"],
            lead.pk,
            amount="10",
            currency="RUB",
            items=[{"description": "a", "amount": "4"}, {"description": "b", "amount": "6"}],
        )
    Lead.objects.filter(pk=lead.pk).update(status="contract")
    with django_assert_num_queries(len(first)):
        page = client.get(f"/leads/{lead.pk}/").text
    assert "LT: 6" in page


def test_the_lost_form_takes_a_competitor_and_the_head_shows_it(
    cast: Cast, lead_at: LeadAt, client_for: ClientFor
) -> None:
    lead = lead_at(Status.PROPOSAL)
    client = client_for(cast["sales"])
    page = client.get(f"/leads/{lead.pk}/").text
    assert 'name="competitor"' in page
    client.post(
        f"/leads/{lead.pk}/move/",
        {
            "to": "lost",
            "version": lead.version,
            "reason_code": "competitor",
            "reason": "cheaper",
            "competitor": "Рога и копыта",
        },
    )
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.status, lead.lost_to) == ("lost", "Рога и копыта")
    page = client.get(f"/leads/{lead.pk}/").text
    assert 'id="lead-lost"' in page and "Рога и копыта" in page


def test_the_import_page(cast: Cast, contracted: Contracted, client_for: ClientFor) -> None:
    lead = contracted()
    assert client_for(cast["sdr"]).get("/payments/import/").status_code == 403
    client = client_for(cast["sales"])
    assert client.get("/payments/import/").status_code == 200
    text = (
        "contract;paid_on;amount;currency;period_start;period_end;external_id\n"
        f"D-{lead.pk};05.03.2026;1000;RUB;01.03.2026;31.03.2026;x1\n"
    ).encode()
    check = client.post(
        "/payments/import/", {"action": "check", "file": SimpleUploadedFile("p.csv", text)}
    )
    assert check.status_code == 200 and 'id="import-result"' in check.text
    assert not Payment.objects.exists()
    done = client.post(
        "/payments/import/", {"action": "import", "file": SimpleUploadedFile("p.csv", text)}
    )
    assert done.status_code == 200 and Payment.objects.count() == 1
    bad = client.post(
        "/payments/import/",
        {"action": "import", "file": SimpleUploadedFile("p.csv", text.replace(b"1000", b"-1"))},
    )
    assert bad.status_code == 422 and 'class="import-rejected"' in bad.text


def test_client_pages(
    cast: Cast, contracted: Contracted, client_for: ClientFor, django_assert_max_num_queries: Any
) -> None:
    mine = contracted(company="Alpha")
    theirs = contracted(manager="sales2", company="Beta")
    record_payment(
        cast["sales"],
        mine.pk,
        paid_on=date(2026, 3, 5),
        amount="1000",
        currency="RUB",
        period_start=date(2026, 3, 1),
        period_end=date(2026, 3, 31),
    )
    for i in range(3):
        Company.objects.create(name=f"Gamma {i}")
    client = client_for(cast["sales"])
    with django_assert_max_num_queries(8):
        page = client.get("/clients/").text
    assert "Alpha" in page and "Beta" not in page and "Gamma" not in page
    head = client_for(cast["head_sales"]).get("/clients/?q=bet").text
    assert "Beta" in head and "Alpha" not in head
    assert "Gamma 0" in client_for(cast["admin"]).get("/clients/").text
    alpha = Lead.objects.get(pk=mine.pk).client
    beta = Lead.objects.get(pk=theirs.pk).client
    assert alpha is not None and beta is not None
    with django_assert_max_num_queries(12):
        detail = client.get(f"/clients/{alpha.pk}/")
    assert detail.status_code == 200
    assert 'id="client-lt">1<' in detail.text and f"D-{mine.pk}" in detail.text
    assert client.get(f"/clients/{beta.pk}/").status_code == 404
    partial = client.get("/clients/?q=alp", HTTP_HX_REQUEST="true").text
    assert partial.startswith('\n<div id="clients-table">') or 'id="clients-table"' in partial


def test_the_panel_itself_costs_six_queries(
    cast: Cast, contracted: Contracted, django_assert_num_queries: Any
) -> None:
    from leadrelay.web.deals_views import deals_panel

    lead = Lead.objects.select_related("client").get(pk=contracted().pk)
    # Proposals, their items, the contract, the payments, the client's LT, the services.
    with django_assert_num_queries(6):
        panel = deals_panel(cast["sales"], lead)
    assert panel is not None and panel.context["may_pay"]
    discussion = Lead(status=Status.DISCUSSION)
    with django_assert_num_queries(0):
        assert deals_panel(cast["sales"], discussion) is None
