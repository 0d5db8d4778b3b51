"""Proposals: each save a new version, the items add up, only the current version
changes state, and a file is attached only when it is what it claims to be."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import translation

from leadrelay.accounts.models import User
from leadrelay.deals.models import Proposal
from leadrelay.deals.proposals import MAX_ATTACHMENT_BYTES, save_proposal, set_proposal_state
from leadrelay.leads.errors import Forbidden, InvalidInput, LeadNotFound, TransitionNotAllowed
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from tests.conftest import T0
from tests.deals.conftest import LeadAt
from tests.leads.snapshots import snapshot

pytestmark = pytest.mark.django_db
Cast = dict[str, User]

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def items(*amounts: str) -> list[dict[str, Any]]:
    return [{"description": f"Item {i}", "amount": a} for i, a in enumerate(amounts)]


def test_each_save_is_a_new_version_and_sets_the_expected_deal_value(
    cast: Cast, lead_at: LeadAt
) -> None:
    lead = lead_at(Status.BRIEF_FILLED)
    first = save_proposal(
        cast["sales"],
        lead.pk,
        amount="150 000,00",
        currency="RUB",
        term_months=6,
        items=[{"service": "seo", "amount": "100000"}, {"description": "Audit", "amount": "50000"}],
        now=T0,
    )
    second = save_proposal(
        cast["sales"], lead.pk, amount=Decimal("120000"), currency="usd", items=[], now=T0
    )
    assert (first.version, second.version) == (1, 2)
    assert [i.amount for i in first.items.all()] == [Decimal("100000"), Decimal("50000")]
    first_service = first.items.all()[0].service
    assert first_service is not None and first_service.code == "seo"
    lead.refresh_from_db()
    assert (lead.deal_amount, lead.deal_currency) == (Decimal("120000.00"), "USD")
    events = list(LeadEvent.objects.filter(lead=lead, kind="proposal").order_by("id"))
    assert [e.data for e in events] == [
        {
            "proposal": first.pk,
            "version": 1,
            "action": "created",
            "amount": "150000.00",
            "currency": "RUB",
        },
        {
            "proposal": second.pk,
            "version": 2,
            "action": "created",
            "amount": "120000.00",
            "currency": "USD",
        },
    ]
    assert events[0].actor == cast["sales"]


def test_the_amount_must_equal_the_items_sum_and_nothing_is_saved_on_errors(
    cast: Cast, lead_at: LeadAt
) -> None:
    lead = lead_at(Status.BRIEF_FILLED)
    before = snapshot(lead.pk)
    with translation.override("en"), pytest.raises(InvalidInput) as exc:
        save_proposal(cast["sales"], lead.pk, amount="100", currency="RUB", items=items("60", "50"))
    assert exc.value.details["errors"] == {
        "amount": "The amount must equal the items' sum, 110.00."
    }
    with pytest.raises(InvalidInput) as exc:
        save_proposal(
            cast["sales"],
            lead.pk,
            amount="-1",
            currency="XXX",
            term_months=121,
            items=[{"description": "x", "amount": "-5"}, {"amount": "3"}],
            note="n" * 4001,
        )
    assert set(exc.value.details["errors"]) == {
        "amount",
        "currency",
        "term_months",
        "items.0.amount",
        "items.1.description",
        "note",
    }
    assert snapshot(lead.pk) == before
    assert not Proposal.objects.filter(lead=lead).exists()


def test_a_proposal_waits_for_the_brief(cast: Cast, lead_at: LeadAt) -> None:
    lead = lead_at(Status.DISCUSSION)
    with translation.override("en"), pytest.raises(TransitionNotAllowed) as exc:
        save_proposal(cast["sales"], lead.pk, amount="1", currency="RUB")
    assert exc.value.message == "Prepare the proposal once the brief is filled in."
    assert exc.value.http_status == 422


def test_only_the_current_version_changes_state(cast: Cast, lead_at: LeadAt) -> None:
    lead = lead_at(Status.PROPOSAL)
    old = save_proposal(cast["sales"], lead.pk, amount="1000", currency="RUB")
    new = save_proposal(cast["sales"], lead.pk, amount="900", currency="RUB")
    with pytest.raises(TransitionNotAllowed):
        set_proposal_state(cast["sales"], old.pk, "sent")
    set_proposal_state(cast["sales"], new.pk, "sent", now=T0)
    with pytest.raises(TransitionNotAllowed) as exc:
        set_proposal_state(cast["sales"], new.pk, "draft")
    assert exc.value.details["allowed"] == ["accepted", "rejected"]
    done = set_proposal_state(cast["sales"], new.pk, "accepted", now=T0)
    assert (done.state, done.sent_at, done.decided_at) == ("accepted", T0, T0)
    with pytest.raises(TransitionNotAllowed):
        set_proposal_state(cast["sales"], new.pk, "rejected")
    old.refresh_from_db()
    assert old.state == "draft"
    actions = [
        e.data["action"]
        for e in LeadEvent.objects.filter(lead=lead, kind="proposal").order_by("id")
    ]
    assert actions == ["created", "created", "sent", "accepted"]


def test_a_draft_may_be_accepted_on_a_call(cast: Cast, lead_at: LeadAt) -> None:
    lead = lead_at(Status.PROPOSAL)
    p = save_proposal(cast["sales"], lead.pk, amount="1000", currency="RUB")
    assert set_proposal_state(cast["head_sales"], p.pk, "accepted").state == "accepted"


def test_another_managers_lead_is_not_theirs_to_touch(cast: Cast, lead_at: LeadAt) -> None:
    lead = lead_at(Status.BRIEF_FILLED, manager="sales2")
    with pytest.raises(LeadNotFound):  # not even visible to another manager
        save_proposal(cast["sales"], lead.pk, amount="1", currency="RUB")
    with pytest.raises(Forbidden):  # the lead's SDR sees it, and only reads
        save_proposal(cast["sdr"], lead.pk, amount="1", currency="RUB")
    p = save_proposal(cast["sales2"], lead.pk, amount="1", currency="RUB")
    with pytest.raises(LeadNotFound):
        set_proposal_state(cast["sales"], p.pk, "sent")
    with pytest.raises(Forbidden):
        set_proposal_state(cast["sdr"], p.pk, "sent")
    with pytest.raises(LeadNotFound):
        set_proposal_state(cast["sales"], 999999, "sent")


def test_an_attachment_is_stored_under_a_random_name(
    cast: Cast, lead_at: LeadAt, media: Any
) -> None:
    lead = lead_at(Status.BRIEF_FILLED)
    upload = SimpleUploadedFile("КП Ромашка.pdf", PDF, content_type="application/pdf")
    p = save_proposal(cast["sales"], lead.pk, amount="1", currency="RUB", attachment=upload)
    assert p.attachment_name == "КП Ромашка.pdf"
    stored = p.attachment.name
    assert stored is not None
    assert stored.startswith("proposals/") and stored.endswith(".pdf")
    assert "Ромашка" not in stored
    assert (media / stored).read_bytes() == PDF


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("setup.exe", b"MZ\x90\x00", "Attach a PDF, DOCX, XLSX, PPTX, ODT, PNG or JPG file."),
        ("offer.pdf", b"MZ\x90\x00 not a pdf", "The file's content is not a PDF file."),
        ("offer.docx", b"", "The file is empty."),
    ],
)
def test_an_attachment_of_the_wrong_kind_is_refused(
    cast: Cast, lead_at: LeadAt, media: Any, name: str, content: bytes, why: str
) -> None:
    lead = lead_at(Status.BRIEF_FILLED)
    with translation.override("en"), pytest.raises(InvalidInput) as exc:
        save_proposal(
            cast["sales"],
            lead.pk,
            amount="1",
            currency="RUB",
            attachment=SimpleUploadedFile(name, content),
        )
    assert exc.value.details["errors"] == {"attachment": why}
    assert not any(media.iterdir())


def test_an_attachment_over_20_mb_is_refused(cast: Cast, lead_at: LeadAt, media: Any) -> None:
    lead = lead_at(Status.BRIEF_FILLED)
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * MAX_ATTACHMENT_BYTES)
    with translation.override("en"), pytest.raises(InvalidInput) as exc:
        save_proposal(cast["sales"], lead.pk, amount="1", currency="RUB", attachment=big)
    assert exc.value.details["errors"] == {"attachment": "A file is at most 20 MB."}
    assert Lead.objects.get(pk=lead.pk).deal_amount is None


@override_settings(LANGUAGE_CODE="en")
def test_the_contract_gate_needs_an_accepted_proposal(cast: Cast, lead_at: LeadAt) -> None:
    from leadrelay.leads.errors import MissingField
    from leadrelay.leads.transitions import move_lead

    lead = lead_at(Status.PROPOSAL)
    Proposal.objects.filter(lead=lead).delete()  # what walk() prepared
    p = save_proposal(cast["sales"], lead.pk, amount="1000", currency="RUB")
    set_proposal_state(cast["sales"], p.pk, "sent")
    with pytest.raises(MissingField) as exc:
        move_lead(cast["sales"], lead.pk, "contract", version=lead.version)
    assert exc.value.details["field"] == "proposal"
    set_proposal_state(cast["sales"], p.pk, "accepted")
    assert move_lead(cast["sales"], lead.pk, "contract", version=lead.version).status == "contract"
