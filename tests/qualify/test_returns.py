"""The rejection loop: a return by sales, the SDR's answer, a head's decision."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leadrelay.accounts.models import User
from leadrelay.leads.errors import Forbidden, MissingField, TransitionNotAllowed
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import MoveOptions, move_lead
from leadrelay.notify.models import Notification
from leadrelay.qualify.models import Return
from leadrelay.qualify.returns import decide, judge
from tests.conftest import T0
from tests.factories import walk

MakeLead = Callable[..., Lead]


@pytest.fixture
def returned(cast: dict[str, User], make_lead: MakeLead) -> Return:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    move_lead(
        cast["sales"],
        lead.pk,
        "sdr_processing",
        version=lead.version,
        reason="The client has no budget until spring",
        options=MoveOptions(reason_code="no_budget"),
        now=T0,
    )
    return Return.objects.get(lead=lead)


def test_a_return_by_sales_is_recorded_and_the_sdr_is_told(
    cast: dict[str, User], returned: Return
) -> None:
    assert (returned.state, returned.reason_code, returned.from_status) == (
        "open",
        "no_budget",
        "assigned",
    )
    assert returned.sdr_id == cast["sdr"].pk
    assert returned.returned_by_id == cast["sales"].pk
    assert returned.reason == "The client has no budget until spring"
    assert Notification.objects.filter(user=cast["sdr"], kind="lead_returned").count() == 1
    lead = Lead.objects.get(pk=returned.lead_id)
    assert (lead.status, lead.sdr_id, lead.manager_id) == ("sdr_processing", cast["sdr"].pk, None)


def test_an_sdr_recalling_their_own_mql_is_no_return(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    move_lead(cast["sdr"], lead.pk, "sdr_processing", version=lead.version, reason="one more call")
    assert not Return.objects.exists()


def test_the_sdr_accepts_a_return(cast: dict[str, User], returned: Return) -> None:
    ret = decide(cast["sdr"], returned.pk, accept=True, now=T0)
    assert ret.state == "accepted"
    event = LeadEvent.objects.get(lead_id=returned.lead_id, kind="return")
    assert event.data == {"return": ret.pk, "state": "accepted", "reason_code": "no_budget"}
    with pytest.raises(TransitionNotAllowed):
        decide(cast["sdr"], returned.pk, accept=False, note="changed my mind", now=T0)


def test_a_dispute_needs_a_note_and_reaches_both_heads(
    cast: dict[str, User], returned: Return
) -> None:
    with pytest.raises(MissingField):
        decide(cast["sdr"], returned.pk, accept=False, note="  ", now=T0)
    assert Return.objects.get(pk=returned.pk).state == "open"
    decide(cast["sdr"], returned.pk, accept=False, note="Budget confirmed by e-mail", now=T0)
    told = set(
        Notification.objects.filter(kind="return_disputed").values_list("user__username", flat=True)
    )
    assert told == {"head_marketing", "head_sales"}


def test_another_sdr_or_sales_cannot_answer_the_return(
    cast: dict[str, User], returned: Return
) -> None:
    for who in ("sdr2", "sales"):
        with pytest.raises(Forbidden):
            decide(cast[who], returned.pk, accept=True, now=T0)


def test_a_head_overturns_a_dispute_and_the_mql_goes_back_to_sales(
    cast: dict[str, User], returned: Return
) -> None:
    decide(cast["sdr"], returned.pk, accept=False, note="Budget confirmed", now=T0)
    with pytest.raises(Forbidden):
        judge(cast["sales"], returned.pk, overturn=True, now=T0)
    ret = judge(cast["head_sales"], returned.pk, overturn=True, note="SDR is right", now=T0)
    assert (ret.state, ret.judge_id) == ("overturned", cast["head_sales"].pk)
    lead = Lead.objects.get(pk=returned.lead_id)
    assert lead.status == "awaiting_assignment"
    kinds = list(
        LeadEvent.objects.filter(lead=lead).order_by("id").values_list("kind", "to_status")
    )
    assert kinds[-3:] == [("return", ""), ("status", "awaiting_assignment"), ("return", "")]
    assert Notification.objects.filter(kind="return_judged").count() == 2


def test_an_upheld_return_leaves_the_request_with_the_sdr(
    cast: dict[str, User], returned: Return
) -> None:
    decide(cast["sdr"], returned.pk, accept=False, note="Budget confirmed", now=T0)
    ret = judge(cast["head_marketing"], returned.pk, overturn=False, note="No budget", now=T0)
    assert ret.state == "upheld"
    assert Lead.objects.get(pk=returned.lead_id).status == "sdr_processing"
    with pytest.raises(TransitionNotAllowed):
        judge(cast["head_marketing"], returned.pk, overturn=True, now=T0)


def test_only_a_disputed_return_is_judged(cast: dict[str, User], returned: Return) -> None:
    with pytest.raises(TransitionNotAllowed):
        judge(cast["head_sales"], returned.pk, overturn=True, now=T0)


def test_the_head_of_sales_sees_a_returned_lead_only_while_it_is_disputed(
    cast: dict[str, User], returned: Return
) -> None:
    from leadrelay.leads.queries import visible_leads

    def sees() -> bool:
        return visible_leads(cast["head_sales"]).filter(pk=returned.lead_id).exists()

    assert not sees()
    decide(cast["sdr"], returned.pk, accept=False, note="Budget confirmed", now=T0)
    assert sees()
    judge(cast["head_marketing"], returned.pk, overturn=False, note="No budget", now=T0)
    assert not sees()


def test_a_disputed_return_cannot_be_skipped_by_a_plain_hand_off(
    cast: dict[str, User], returned: Return
) -> None:
    decide(cast["sdr"], returned.pk, accept=False, note="Budget confirmed", now=T0)
    lead = Lead.objects.get(pk=returned.lead_id)
    for who in ("sdr", "head_marketing"):
        with pytest.raises(MissingField) as caught:
            move_lead(cast[who], lead.pk, "awaiting_assignment", version=lead.version, now=T0)
        assert caught.value.details["missing"][-1]["field"] == "return"
    # The head of sales decides it; the plain move is not theirs.
    with pytest.raises(Forbidden):
        move_lead(cast["head_sales"], lead.pk, "awaiting_assignment", version=lead.version)
    assert Lead.objects.get(pk=lead.pk).status == "sdr_processing"
    assert Return.objects.get(pk=returned.pk).state == "disputed"


def test_handing_off_a_reworked_lead_again_accepts_the_open_return(
    cast: dict[str, User], returned: Return
) -> None:
    lead = Lead.objects.get(pk=returned.lead_id)
    walk(lead, cast["sdr"], "awaiting_assignment")
    assert Return.objects.get(pk=returned.pk).state == "accepted"
    event = LeadEvent.objects.filter(lead=lead, kind="return").get()
    assert event.data["state"] == "accepted"


def test_after_a_reassignment_only_the_new_owner_answers_the_return(
    cast: dict[str, User], returned: Return
) -> None:
    from leadrelay.leads.transitions import reassign

    lead = Lead.objects.get(pk=returned.lead_id)
    reassign(cast["head_marketing"], lead.pk, cast["sdr2"], version=lead.version, now=T0)
    with pytest.raises(Forbidden):
        decide(cast["sdr"], returned.pk, accept=True, now=T0)
    assert decide(cast["sdr2"], returned.pk, accept=True, now=T0).state == "accepted"
