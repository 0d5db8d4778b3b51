"""move_lead, the one verb every adapter shares: its refusals, owners, stages and events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from leadrelay.accounts.models import Department, User
from leadrelay.catalog.models import Partner
from leadrelay.leads.errors import (
    Forbidden,
    LeadError,
    LeadNotFound,
    MissingField,
    TransitionNotAllowed,
    VersionConflict,
)
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Stage, Status
from leadrelay.leads.transitions import MoveOptions, move_lead
from tests.conftest import T0
from tests.factories import default_code, prepare, qualify, walk
from tests.leads.snapshots import snapshot

Cast = dict[str, User]
MakeLead = Callable[..., Lead]

pytestmark = pytest.mark.django_db

TO_SALES = ("sdr_processing", "awaiting_assignment")


def move(
    actor: User,
    lead: Lead,
    to: str,
    at: datetime,
    reason: str = "",
    version: int | None = None,
    **options: Any,
) -> Lead:
    if to == "awaiting_assignment" and lead.status == "sdr_processing":
        qualify(lead)
    prepare(lead, actor, to)
    options.setdefault("reason_code", default_code(actor, lead.status, to))
    return move_lead(
        actor,
        lead.pk,
        to,
        version=lead.version if version is None else version,
        reason=reason,
        options=MoveOptions(**options),
        now=at,
    )


def refused(error: type[LeadError], actor: User, lead: Lead, to: str, **kwargs: Any) -> LeadError:
    """Attempt the move, expect ``error``, and check that nothing about the lead changed."""
    if to == "awaiting_assignment" and lead.status == "sdr_processing":
        qualify(lead)  # refused for another reason than a missing answer
    before = snapshot(lead.pk)
    with pytest.raises(error) as caught:
        move(actor, lead, to, T0 + timedelta(days=30), **kwargs)
    assert snapshot(lead.pk) == before
    return caught.value


def in_queue(make_lead: MakeLead, cast: Cast) -> Lead:
    """A lead the SDR qualified: awaiting a sales manager, owned by ``sdr``."""
    return walk(make_lead(), cast["sdr"], *TO_SALES)


def with_sales(make_lead: MakeLead, cast: Cast, *path: str) -> Lead:
    """A lead ``sales`` took from the queue, then walked through ``path``."""
    return walk(in_queue(make_lead, cast), cast["sales"], "assigned", *path)


# --- Refusals: each one leaves the lead exactly as it was -------------------------------


def test_another_sdr_cannot_see_an_sdrs_lead(cast: Cast, make_lead: MakeLead) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    refused(LeadNotFound, cast["sdr2"], lead, "awaiting_assignment")


def test_sales_cannot_move_another_managers_lead(cast: Cast, make_lead: MakeLead) -> None:
    lead = with_sales(make_lead, cast)
    refused(LeadNotFound, cast["sales2"], lead, "discussion")


def test_sales_cannot_touch_a_new_request(cast: Cast, make_lead: MakeLead) -> None:
    lead = make_lead()
    refused(LeadNotFound, cast["sales"], lead, "sdr_processing")


def test_an_inactive_user_sees_no_lead(cast: Cast, make_lead: MakeLead) -> None:
    admin = cast["admin"]
    admin.is_active = False
    admin.save()
    refused(LeadNotFound, admin, make_lead(), "sdr_processing")


def test_an_unknown_lead_is_not_found(cast: Cast) -> None:
    with pytest.raises(LeadNotFound):
        move_lead(cast["admin"], 999_999, "sdr_processing", version=1)


def test_a_stale_version_is_a_conflict(cast: Cast, make_lead: MakeLead) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    error = refused(VersionConflict, cast["sdr"], lead, "awaiting_assignment", version=1)
    assert error.details["current_version"] == 2
    assert error.details["status"] == "sdr_processing"


def test_a_manager_beaten_to_a_queued_lead_learns_it_changed_but_not_its_new_state(
    cast: Cast, make_lead: MakeLead
) -> None:
    seen = in_queue(make_lead, cast)  # as sales2 read it, before sales claimed it
    walk(seen, cast["sales"], "assigned")
    error = refused(VersionConflict, cast["sales2"], seen, "assigned")
    assert "status" not in error.details
    assert "current_version" not in error.details


def test_a_version_from_the_future_is_a_conflict(cast: Cast, make_lead: MakeLead) -> None:
    lead = make_lead()
    refused(VersionConflict, cast["admin"], lead, "sdr_processing", version=lead.version + 1)


def test_a_stale_version_wins_over_a_move_not_in_the_table(cast: Cast, make_lead: MakeLead) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    refused(VersionConflict, cast["sdr"], lead, "converted", version=1)


def test_a_move_not_in_the_table_lists_the_moves_the_actor_may_make(
    cast: Cast, make_lead: MakeLead
) -> None:
    error = refused(TransitionNotAllowed, cast["sdr"], make_lead(), "converted")
    assert sorted(error.details["allowed"]) == ["disqualified", "sdr_processing"]


def test_the_allowed_list_is_what_this_sales_manager_may_do_on_a_queued_lead(
    cast: Cast, make_lead: MakeLead
) -> None:
    lead = in_queue(make_lead, cast)
    error = refused(TransitionNotAllowed, cast["sales"], lead, "discussion")
    assert sorted(error.details["allowed"]) == ["assigned", "sdr_processing"]


def test_the_allowed_list_leaves_out_moves_of_other_roles(cast: Cast, make_lead: MakeLead) -> None:
    lead = in_queue(make_lead, cast)
    error = refused(TransitionNotAllowed, cast["sdr"], lead, "converted")
    assert error.details["allowed"] == ["sdr_processing"]


def test_an_unknown_status_is_not_allowed(cast: Cast, make_lead: MakeLead) -> None:
    refused(TransitionNotAllowed, cast["admin"], make_lead(), "teleported")


def test_converted_allows_nothing(cast: Cast, make_lead: MakeLead) -> None:
    lead = with_sales(make_lead, cast, "discussion", "brief_filled", "proposal", "contract")
    lead = walk(lead, cast["sales"], "converted")
    error = refused(TransitionNotAllowed, cast["admin"], lead, "contract", reason="undo")
    assert error.details["allowed"] == []


def test_an_sdr_cannot_assign_a_sales_manager(cast: Cast, make_lead: MakeLead) -> None:
    lead = in_queue(make_lead, cast)
    refused(Forbidden, cast["sdr"], lead, "assigned", manager=cast["sales"])


def test_the_head_of_marketing_cannot_move_a_lead_in_sales_work(
    cast: Cast, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["admin"], *TO_SALES, "assigned", manager=cast["sales"])
    refused(Forbidden, cast["head_marketing"], lead, "discussion")


def test_a_reopened_referral_leaves_the_partner_side(cast: Cast, make_lead: MakeLead) -> None:
    partner = Partner.objects.create(name="Partner LLC")
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "referred", partner=partner)
    lead = walk(lead, cast["partner"], "sdr_processing", reason="the partner declined")
    assert lead.partner is None
    refused(LeadNotFound, cast["partner"], lead, "awaiting_assignment")


@pytest.mark.parametrize("reason", ["", "   \n\t"])
def test_disqualifying_needs_a_reason(cast: Cast, make_lead: MakeLead, reason: str) -> None:
    error = refused(
        MissingField, cast["sdr"], make_lead(), "disqualified", reason=reason, reason_code=""
    )
    assert error.details["field"] == "reason"


def test_a_disqualification_reason_in_words_still_needs_a_code(
    cast: Cast, make_lead: MakeLead
) -> None:
    error = refused(
        MissingField, cast["sdr"], make_lead(), "disqualified", reason="spam", reason_code=""
    )
    assert error.details["field"] == "reason_code"
    assert error.details["missing"][0]["field"] == "reason_code"


def test_an_unknown_disqualification_code_is_refused(cast: Cast, make_lead: MakeLead) -> None:
    error = refused(
        MissingField, cast["sdr"], make_lead(), "disqualified", reason="x", reason_code="nope"
    )
    assert error.details["field"] == "reason_code"


def test_losing_a_deal_needs_a_reason(cast: Cast, make_lead: MakeLead) -> None:
    lead = with_sales(make_lead, cast, "discussion")
    error = refused(MissingField, cast["sales"], lead, "lost", reason_code="")
    assert error.details["field"] == "reason"


def test_sending_a_lead_back_needs_a_reason(cast: Cast, make_lead: MakeLead) -> None:
    lead = with_sales(make_lead, cast)
    error = refused(MissingField, cast["sales"], lead, "awaiting_assignment")
    assert error.details["field"] == "reason"


@pytest.mark.parametrize("head", ["head_sales", "admin"])
def test_a_head_must_name_the_manager_to_assign(cast: Cast, make_lead: MakeLead, head: str) -> None:
    lead = in_queue(make_lead, cast)
    error = refused(MissingField, cast[head], lead, "assigned")
    assert error.details["field"] == "manager"


@pytest.mark.parametrize("assignee", ["sdr", "head_sales"])
def test_only_a_sales_manager_can_be_assigned(
    cast: Cast, make_lead: MakeLead, assignee: str
) -> None:
    lead = in_queue(make_lead, cast)
    error = refused(MissingField, cast["head_sales"], lead, "assigned", manager=cast[assignee])
    assert error.details["field"] == "manager"


def test_an_inactive_sales_manager_cannot_be_assigned(cast: Cast, make_lead: MakeLead) -> None:
    lead = in_queue(make_lead, cast)
    cast["sales2"].is_active = False
    cast["sales2"].save()
    error = refused(MissingField, cast["head_sales"], lead, "assigned", manager=cast["sales2"])
    assert error.details["field"] == "manager"


# --- Stage reached: the highest ever, its first time kept -------------------------------


def test_a_lead_sent_back_to_the_sdr_keeps_the_stage_it_reached(
    cast: Cast, make_lead: MakeLead
) -> None:
    sdr, sales = cast["sdr"], cast["sales"]
    t = [T0 + timedelta(hours=h) for h in range(8)]
    lead = make_lead()
    lead = move(sdr, lead, "sdr_processing", t[1])
    lead = move(sdr, lead, "awaiting_assignment", t[2])
    lead = move(sales, lead, "assigned", t[3])
    lead = move(sales, lead, "discussion", t[4])
    assert (lead.stage, lead.reached_mql_at, lead.reached_sql_at) == (Stage.SQL, t[2], t[4])

    lead = move(sales, lead, "sdr_processing", t[5], reason="no budget this year")
    assert lead.status == Status.SDR_PROCESSING
    assert lead.stage == Stage.SQL
    assert (lead.reached_mql_at, lead.reached_sql_at, lead.reached_sal_at) == (t[2], t[4], None)
    assert lead.status_changed_at == t[5]

    # Qualified again and discussed again: the first times still stand.
    lead = move(sdr, lead, "awaiting_assignment", t[6])
    lead = move(sales, lead, "assigned", t[6])
    lead = move(sales, lead, "discussion", t[7])
    assert (lead.reached_mql_at, lead.reached_sql_at) == (t[2], t[4])


def test_a_lost_deal_reopened_keeps_its_stages(cast: Cast, make_lead: MakeLead) -> None:
    lead = with_sales(make_lead, cast, "discussion", "brief_filled", "proposal")
    reached = (lead.reached_sal_at, lead.reached_proposal_at)
    lead = move(cast["sales"], lead, "lost", T0 + timedelta(days=40), reason="went quiet")
    assert lead.stage == Stage.SAL
    lead = move(cast["sales"], lead, "discussion", T0 + timedelta(days=41), reason="called back")
    assert lead.stage == Stage.SAL
    assert (lead.reached_sal_at, lead.reached_proposal_at) == reached
    assert lead.reached_deal_at is None


def test_converting_reaches_the_deal_stage(cast: Cast, make_lead: MakeLead) -> None:
    lead = with_sales(make_lead, cast, "discussion", "brief_filled", "proposal", "contract")
    lead = move(cast["sales"], lead, "converted", T0 + timedelta(days=50))
    assert lead.stage == Stage.DEAL
    assert lead.reached_deal_at == T0 + timedelta(days=50)


# --- Owners ---------------------------------------------------------------------------


def test_the_sdr_who_takes_a_request_becomes_its_owner(cast: Cast, make_lead: MakeLead) -> None:
    lead = move(cast["sdr"], make_lead(), "sdr_processing", T0)
    assert lead.sdr == cast["sdr"]


def test_the_sdr_who_disqualifies_a_new_request_becomes_its_owner(
    cast: Cast, make_lead: MakeLead
) -> None:
    lead = move(cast["sdr"], make_lead(), "disqualified", T0, reason="spam")
    assert lead.sdr == cast["sdr"]
    assert lead.end_reason == "spam"


def test_an_admin_taking_a_request_leaves_it_without_an_sdr(
    cast: Cast, make_lead: MakeLead
) -> None:
    lead = move(cast["admin"], make_lead(), "sdr_processing", T0)
    assert lead.sdr is None


def test_a_sales_manager_taking_a_lead_becomes_its_manager(cast: Cast, make_lead: MakeLead) -> None:
    lead = move(cast["sales"], in_queue(make_lead, cast), "assigned", T0)
    assert lead.manager == cast["sales"]
    assert lead.sdr == cast["sdr"]


def test_the_head_of_sales_assigns_the_manager_they_name(cast: Cast, make_lead: MakeLead) -> None:
    lead = in_queue(make_lead, cast)
    lead = move(cast["head_sales"], lead, "assigned", T0, manager=cast["sales2"])
    assert lead.manager == cast["sales2"]


@pytest.mark.parametrize("back_to", ["sdr_processing", "awaiting_assignment"])
def test_sending_a_lead_back_from_sales_clears_its_manager_and_keeps_its_sdr(
    cast: Cast, make_lead: MakeLead, back_to: str
) -> None:
    lead = with_sales(make_lead, cast)
    lead = move(cast["sales"], lead, back_to, T0, reason="not our profile")
    assert lead.manager is None
    assert lead.sdr == cast["sdr"]


def test_a_lost_lead_keeps_its_manager_and_its_reason(cast: Cast, make_lead: MakeLead) -> None:
    lead = with_sales(make_lead, cast, "discussion")
    lead = move(cast["sales"], lead, "lost", T0, reason="chose a competitor")
    assert lead.manager == cast["sales"]
    assert lead.end_reason == "chose a competitor"
    lead = move(cast["sales"], lead, "discussion", T0, reason="came back")
    assert lead.manager == cast["sales"]
    assert lead.end_reason == ""


def test_referring_records_the_partner(cast: Cast, make_lead: MakeLead) -> None:
    partner = Partner.objects.create(name="Partner LLC")
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    lead = move(cast["sdr"], lead, "referred", T0, partner=partner)
    assert lead.partner == partner


def test_routing_records_the_department(
    cast: Cast, make_lead: MakeLead, departments: dict[str, Department]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    lead = move(cast["sdr"], lead, "routed", T0, department=departments["partners"])
    assert lead.routed_to == departments["partners"]


# --- Events ---------------------------------------------------------------------------


def test_each_move_writes_one_event_with_who_when_what_and_why(
    cast: Cast, make_lead: MakeLead
) -> None:
    lead = in_queue(make_lead, cast)
    count = lead.events.filter(kind="status").count()
    at = T0 + timedelta(days=3)
    lead = move(cast["head_sales"], lead, "assigned", at, manager=cast["sales"])
    lead = move(cast["sales"], lead, "sdr_processing", at, reason="  wrong service \n")

    # Each move is one status event; the move into ``assigned`` is followed by the
    # record of who assigned it and how (the sales app's ``assignment`` event).
    statuses = lead.events.filter(kind="status")
    assert statuses.count() == count + 2
    assert lead.events.filter(kind="assignment").count() == 1
    assigned, back = statuses.order_by("-id")[:2][::-1]
    assert (assigned.kind, assigned.actor, assigned.at) == ("status", cast["head_sales"], at)
    assert (assigned.from_status, assigned.to_status) == ("awaiting_assignment", "assigned")
    assert assigned.reason == ""
    assert assigned.data == {"version": 4, "manager": cast["sales"].pk}
    assert (back.actor, back.from_status, back.to_status) == (
        cast["sales"],
        "assigned",
        "sdr_processing",
    )
    assert back.reason == "wrong service"
    assert back.data == {"version": 5, "manager": None, "reason_code": "not_qualified"}


def test_the_sdr_taking_a_request_is_in_the_event_data(cast: Cast, make_lead: MakeLead) -> None:
    lead = move(cast["sdr"], make_lead(), "sdr_processing", T0)
    event = lead.events.get(kind=LeadEvent.Kind.STATUS)
    assert event.data == {"version": 2, "sdr": cast["sdr"].pk}


def test_a_move_bumps_the_version_by_one_and_stamps_the_status_time(
    cast: Cast, make_lead: MakeLead
) -> None:
    lead = make_lead()
    at = T0 + timedelta(minutes=5)
    moved = move(cast["sdr"], lead, "sdr_processing", at)
    assert moved.version == lead.version + 1
    assert moved.status_changed_at == at
    assert Lead.objects.get(pk=lead.pk).version == moved.version
