"""The hand-off gate and the codes a move needs: refused with everything missing named."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Partner, Service
from leadrelay.leads.errors import LeadNotFound, MissingField
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import MoveOptions, move_lead
from leadrelay.qualify.answers import save_answers, save_bant
from leadrelay.qualify.models import Questionnaire
from tests.conftest import T0
from tests.factories import qualify, walk

MakeLead = Callable[..., Lead]


def handoff(actor: User, lead: Lead, **options: object) -> Lead:
    return move_lead(
        actor,
        lead.pk,
        "awaiting_assignment",
        version=lead.version,
        options=MoveOptions(**options),  # type: ignore[arg-type]
        now=T0,
    )


def claimed(make_lead: MakeLead, sdr: User, service: str | None = "seo") -> Lead:
    lead = make_lead(service=Service.objects.get(code=service) if service else None)
    return walk(lead, sdr, "sdr_processing")


def test_a_handoff_with_nothing_filled_names_every_missing_item(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claimed(make_lead, cast["sdr"])
    with pytest.raises(MissingField) as caught:
        handoff(cast["sdr"], lead)
    fields = [m["field"] for m in caught.value.details["missing"]]
    assert fields == [
        "bant.budget",
        "bant.authority",
        "bant.need",
        "bant.timeframe",
        "answers.project_type",
        "answers.region",
        "answers.audience",
        "answers.task",
        "answers.ad_budget",
        "answers.site_url",
        "answers.search_engines",
    ]
    # Optional questions are not asked for.
    assert "answers.site_age" not in fields
    assert Lead.objects.get(pk=lead.pk).status == "sdr_processing"
    assert not LeadEvent.objects.filter(lead=lead, to_status="awaiting_assignment").exists()


def test_a_lead_without_a_service_cannot_be_handed_off(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claimed(make_lead, cast["sdr"], service=None)
    with pytest.raises(MissingField) as caught:
        handoff(cast["sdr"], lead)
    assert caught.value.details["missing"][0]["field"] == "service"


def test_filling_what_is_missing_opens_the_gate(cast: dict[str, User], make_lead: MakeLead) -> None:
    sdr = cast["sdr"]
    lead = claimed(make_lead, sdr)
    save_bant(
        sdr,
        lead.pk,
        {
            "budget_band": "300k_1m",
            "currency": "RUB",
            "authority_role": "Marketing director",
            "decision_maker": "yes",
            "need": "leads",
            "timeframe_band": "month",
        },
        now=T0,
    )
    common = Questionnaire.objects.get(common=True).current()
    seo = Questionnaire.objects.get(service__code="seo").current()
    assert common is not None and seo is not None
    save_answers(
        sdr,
        lead.pk,
        common.pk,
        {
            "project_type": "existing",
            "region": "Москва",
            "audience": "B2B, industrial equipment",
            "task": "Leads from search",
        },
        now=T0,
    )
    with pytest.raises(MissingField) as caught:
        handoff(sdr, lead)
    assert [m["field"] for m in caught.value.details["missing"]] == [
        "answers.ad_budget",
        "answers.site_url",
        "answers.search_engines",
    ]
    save_answers(
        sdr,
        lead.pk,
        common.pk,
        {
            "project_type": "existing",
            "region": "Москва",
            "audience": "B2B, industrial equipment",
            "task": "Leads from search",
            "ad_budget": {"amount": "200000", "currency": "RUB"},
        },
        now=T0,
    )
    save_answers(
        sdr,
        lead.pk,
        seo.pk,
        {"site_url": "https://zavod.example", "search_engines": ["yandex"]},
        now=T0,
    )
    moved = handoff(sdr, lead)
    assert moved.status == "awaiting_assignment"
    assert moved.reached_mql_at == T0


def test_another_sdr_cannot_hand_off_a_claimed_lead(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = qualify(claimed(make_lead, cast["sdr"]))
    # Not theirs to see, let alone move.
    with pytest.raises(LeadNotFound):
        handoff(cast["sdr2"], lead)
    assert Lead.objects.get(pk=lead.pk).status == "sdr_processing"


@pytest.mark.parametrize("code", ["", "no_such_code"])
def test_a_disqualification_needs_a_listed_code(
    cast: dict[str, User], make_lead: MakeLead, code: str
) -> None:
    lead = claimed(make_lead, cast["sdr"])
    with pytest.raises(MissingField) as caught:
        move_lead(
            cast["sdr"],
            lead.pk,
            "disqualified",
            version=lead.version,
            reason="looks like spam",
            options=MoveOptions(reason_code=code),
        )
    assert caught.value.details["field"] == "reason_code"
    assert "spam" in caught.value.details["missing"][0]["label"]


def test_a_disqualified_lead_keeps_its_code_and_is_never_deleted(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claimed(make_lead, cast["sdr"])
    done = move_lead(
        cast["sdr"],
        lead.pk,
        "disqualified",
        version=lead.version,
        options=MoveOptions(reason_code="budget_too_small"),
    )
    assert (done.status, done.end_reason_code) == ("disqualified", "budget_too_small")
    event = LeadEvent.objects.get(lead=lead, to_status="disqualified")
    assert event.data["reason_code"] == "budget_too_small"
    with pytest.raises(TypeError):
        LeadEvent.objects.filter(lead=lead).delete()
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_a_return_by_sales_needs_a_return_code_but_an_sdr_recall_does_not(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = walk(claimed(make_lead, cast["sdr"]), cast["sdr"], "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    with pytest.raises(MissingField) as caught:
        move_lead(
            cast["sales"], lead.pk, "sdr_processing", version=lead.version, reason="no budget"
        )
    assert caught.value.details["field"] == "reason_code"
    other = walk(claimed(make_lead, cast["sdr"]), cast["sdr"], "awaiting_assignment")
    recalled = move_lead(
        cast["sdr"], other.pk, "sdr_processing", version=other.version, reason="forgot a call"
    )
    assert recalled.status == "sdr_processing"


def test_a_referral_needs_a_partner_and_a_routing_a_department(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claimed(make_lead, cast["sdr"])
    for to, field in (("referred", "partner"), ("routed", "department")):
        with pytest.raises(MissingField) as caught:
            move_lead(cast["sdr"], lead.pk, to, version=lead.version, reason="not ours")
        assert caught.value.details["field"] == field
    partner = Partner.objects.create(name="Studio", commission_percent=Decimal("10"))
    done = move_lead(
        cast["sdr"],
        lead.pk,
        "referred",
        version=lead.version,
        reason="only a logo",
        options=MoveOptions(partner=partner),
    )
    assert done.partner_id == partner.pk


def test_the_head_of_marketing_meets_the_same_gate(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claimed(make_lead, cast["sdr"])
    with pytest.raises(MissingField):
        handoff(cast["head_marketing"], lead)
    assert Lead.objects.get(pk=lead.pk).status == "sdr_processing"


def test_the_head_of_sales_may_not_hand_off_for_the_sdr(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = qualify(claimed(make_lead, cast["sdr"]))
    with pytest.raises(LeadNotFound):  # an SDR's lead in progress is not in sales' view
        handoff(cast["head_sales"], lead)
    assert Lead.objects.get(pk=lead.pk).status == "sdr_processing"


def test_a_loss_code_if_given_must_be_a_listed_one(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = walk(qualify(claimed(make_lead, cast["sdr"])), cast["sdr"], "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    with pytest.raises(MissingField) as caught:
        move_lead(
            cast["sales"],
            lead.pk,
            "lost",
            version=lead.version,
            reason="x",
            options=MoveOptions(reason_code="<b>bogus</b>"),
        )
    assert caught.value.details["field"] == "reason_code"
    done = move_lead(
        cast["sales"],
        lead.pk,
        "lost",
        version=lead.version,
        reason="went with another agency",
        options=MoveOptions(reason_code="competitor"),
    )
    assert done.end_reason_code == "competitor"
