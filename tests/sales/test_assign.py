"""Manual assignment, reassignment, self-taking through a plain move, and who may do what."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from leadrelay.accounts.models import User
from leadrelay.leads.errors import Forbidden, InvalidInput, TransitionNotAllowed, VersionConflict
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import MoveOptions, move_lead
from leadrelay.notify.models import Notification
from leadrelay.sales.engine import assign
from leadrelay.sales.models import Assignment
from tests.conftest import T0
from tests.factories import walk
from tests.sales.conftest import MakeMql


def test_the_head_assigns_an_mql_by_hand(cast: dict[str, User], make_mql: MakeMql) -> None:
    lead = make_mql()
    lead = assign(cast["head_sales"], lead.pk, cast["sales"], how="manual", now=T0)
    assert lead.status == Status.ASSIGNED and lead.manager_id == cast["sales"].pk
    row = Assignment.objects.get(lead=lead)
    assert (row.how, row.by, row.previous) == ("manual", cast["head_sales"], None)
    event = LeadEvent.objects.get(lead=lead, kind="assignment")
    assert event.actor == cast["head_sales"]
    assert event.data["how"] == "manual" and event.data["manager"] == cast["sales"].pk
    notes = Notification.objects.filter(user=cast["sales"], kind="lead_assigned_manager")
    assert notes.count() == 1


def test_a_reassignment_changes_the_manager_and_the_version(
    cast: dict[str, User], make_mql: MakeMql
) -> None:
    lead = assign(cast["head_sales"], make_mql().pk, cast["sales"], how="manual", now=T0)
    walk(lead, cast["sales"], Status.DISCUSSION)
    lead.refresh_from_db()
    before = lead.version
    lead = assign(cast["admin"], lead.pk, cast["sales2"], how="manual", version=before, now=T0)
    assert lead.manager_id == cast["sales2"].pk and lead.status == Status.DISCUSSION
    assert lead.version == before + 1
    row = Assignment.objects.filter(lead=lead).latest("id")
    assert (row.how, row.previous) == ("reassign", cast["sales"])
    event = LeadEvent.objects.filter(lead=lead, kind="assignment").latest("id")
    assert event.data == {
        "assignment": row.pk,
        "manager": cast["sales2"].pk,
        "how": "reassign",
        "strategy": "",
        "rule": None,
        "version": before + 1,
        "previous": cast["sales"].pk,
    }
    assert Notification.objects.filter(user=cast["sales2"], kind="lead_assigned_manager").exists()
    # Giving it to whoever has it already records nothing.
    assign(cast["admin"], lead.pk, cast["sales2"], how="manual", now=T0)
    assert Assignment.objects.filter(lead=lead).count() == 2


def test_a_manager_taking_a_lead_leaves_a_self_assignment(
    cast: dict[str, User], make_mql: MakeMql
) -> None:
    lead = make_mql()
    move_lead(cast["sales"], lead.pk, Status.ASSIGNED, version=lead.version, now=T0)
    row = Assignment.objects.get(lead=lead)
    assert (row.how, row.by, row.manager) == ("self", cast["sales"], cast["sales"])
    assert LeadEvent.objects.get(lead=lead, kind="assignment").data["how"] == "self"
    assert not Notification.objects.filter(kind="lead_assigned_manager").exists()


def test_a_heads_plain_move_with_a_manager_is_a_manual_assignment(
    cast: dict[str, User], make_mql: MakeMql
) -> None:
    lead = make_mql()
    move_lead(
        cast["head_sales"],
        lead.pk,
        Status.ASSIGNED,
        version=lead.version,
        options=MoveOptions(manager=cast["sales2"]),
        now=T0,
    )
    assert Assignment.objects.get(lead=lead).how == "manual"
    assert LeadEvent.objects.filter(lead=lead, kind="assignment").count() == 1
    assert Notification.objects.filter(user=cast["sales2"], kind="lead_assigned_manager").exists()


@pytest.mark.parametrize("who", ["sales", "sdr", "head_marketing"])
def test_only_the_head_or_an_admin_assigns(
    cast: dict[str, User], make_mql: MakeMql, who: str
) -> None:
    lead = make_mql()
    with pytest.raises(Forbidden):
        assign(cast[who], lead.pk, cast["sales"], how="manual")
    assert not Assignment.objects.exists()


def test_a_manager_cannot_reassign_their_lead(cast: dict[str, User], make_mql: MakeMql) -> None:
    lead = assign(cast["head_sales"], make_mql().pk, cast["sales"], how="manual")
    with pytest.raises(Forbidden):
        assign(cast["sales"], lead.pk, cast["sales2"], how="manual")
    assert Lead.objects.get(pk=lead.pk).manager_id == cast["sales"].pk


@pytest.mark.parametrize("case", ["none", "inactive", "sdr"])
def test_the_assignee_must_be_an_active_sales_manager(
    cast: dict[str, User], make_mql: MakeMql, case: str
) -> None:
    lead = make_mql()
    people: dict[str, Callable[[], User | None]] = {
        "none": lambda: None,
        "inactive": lambda: User.objects.create_user("gone", role="sales", is_active=False),
        "sdr": lambda: cast["sdr"],
    }
    with pytest.raises(InvalidInput) as caught:
        assign(cast["head_sales"], lead.pk, people[case](), how="manual")
    assert caught.value.http_status == 422 and "manager" in caught.value.details["errors"]
    assert Lead.objects.get(pk=lead.pk).status == Status.AWAITING_ASSIGNMENT
    assert not Assignment.objects.exists()


def test_a_stale_version_is_a_conflict(cast: dict[str, User], make_mql: MakeMql) -> None:
    lead = make_mql()
    with pytest.raises(VersionConflict) as caught:
        assign(cast["head_sales"], lead.pk, cast["sales"], how="manual", version=lead.version - 1)
    assert caught.value.http_status == 409
    assert caught.value.details["current_version"] == lead.version


def test_a_lead_outside_sales_cannot_be_assigned(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    lead = walk(make_lead(), cast["sdr"], Status.SDR_PROCESSING)
    with pytest.raises(TransitionNotAllowed):
        assign(cast["admin"], lead.pk, cast["sales"], how="manual")


def test_a_return_to_the_sdr_then_a_new_assignment(
    cast: dict[str, User], make_mql: MakeMql
) -> None:
    lead = assign(cast["head_sales"], make_mql().pk, cast["sales"], how="manual")
    lead = walk(lead, cast["sales"], Status.SDR_PROCESSING)
    assert lead.manager_id is None
    lead = walk(lead, cast["sdr"], Status.AWAITING_ASSIGNMENT)
    assign(cast["head_sales"], lead.pk, cast["sales2"], how="manual")
    assert [a.manager for a in Assignment.objects.filter(lead=lead)] == [
        cast["sales"],
        cast["sales2"],
    ]
