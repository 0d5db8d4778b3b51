"""The transition table: reasons, stages, ends. Pure data, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadrelay.accounts.roles import Role
from leadrelay.leads.history import reach
from leadrelay.leads.statuses import (
    ENDS,
    OPEN,
    PATH,
    STAGE_OF_STATUS,
    STAGE_ORDER,
    TRANSITIONS,
    Stage,
    Status,
    Transition,
    allowed_from,
    api_stage,
    find,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _is_backward(t: Transition) -> bool:
    """Backward by the path's order, judged independently of the table's own flag."""
    if t.source in ENDS and t.target not in ENDS:
        return True  # reopening an end
    if t.source in PATH and t.target in PATH:
        return PATH.index(t.target) < PATH.index(t.source)
    return False


def _name(t: Transition) -> str:
    return f"{t.source.value}->{t.target.value}"


@pytest.mark.parametrize("move", [t for t in TRANSITIONS if _is_backward(t)], ids=_name)
def test_every_backward_move_requires_a_reason(move: Transition) -> None:
    assert move.backward
    assert move.reason_required


@pytest.mark.parametrize("move", [t for t in TRANSITIONS if not _is_backward(t)], ids=_name)
def test_no_forward_move_is_flagged_backward(move: Transition) -> None:
    assert not move.backward


@pytest.mark.parametrize(
    "move",
    [t for t in TRANSITIONS if t.target in (Status.DISQUALIFIED, Status.LOST)],
    ids=_name,
)
def test_every_move_into_disqualified_or_lost_requires_a_reason(move: Transition) -> None:
    assert move.reason_required


def test_disqualified_and_lost_can_be_entered_at_all() -> None:
    targets = {t.target for t in TRANSITIONS}
    assert {Status.DISQUALIFIED, Status.LOST} <= targets


@pytest.mark.parametrize("step", range(len(PATH) - 1), ids=lambda i: f"{PATH[i]}->{PATH[i + 1]}")
def test_each_step_of_the_path_is_a_forward_move_without_reason(step: int) -> None:
    move = find(PATH[step], PATH[step + 1])
    assert move is not None
    assert not move.backward
    assert not move.reason_required


def test_the_stage_entered_by_each_status() -> None:
    assert STAGE_OF_STATUS == {
        Status.AWAITING_ASSIGNMENT: Stage.MQL,
        Status.DISCUSSION: Stage.SQL,
        Status.BRIEF_FILLED: Stage.SAL,
        Status.PROPOSAL: Stage.PROPOSAL,
        Status.CONVERTED: Stage.DEAL,
    }
    assert STAGE_ORDER == (Stage.MQL, Stage.SQL, Stage.SAL, Stage.PROPOSAL, Stage.DEAL)


# Walking the path one status at a time: the API stage after entering each status.
EXPECTED_API_STAGE: dict[Status, Stage | None] = {
    Status.NEW: None,
    Status.SDR_PROCESSING: None,
    Status.AWAITING_ASSIGNMENT: Stage.MQL,
    Status.ASSIGNED: Stage.MQL,
    Status.DISCUSSION: Stage.SQL,
    Status.BRIEF_FILLED: Stage.SAL,
    Status.PROPOSAL: Stage.SAL,  # proposal is a funnel step, not an API stage
    Status.CONTRACT: Stage.SAL,
    Status.CONVERTED: Stage.DEAL,
}


def test_walking_the_path_reaches_each_stage_once_at_its_status() -> None:
    reached: dict[Stage, datetime] = {}
    for i, status in enumerate(PATH):
        reach(reached, status, T0 + timedelta(hours=i))
        assert api_stage({s: s in reached for s in STAGE_ORDER}) == EXPECTED_API_STAGE[status]
    assert reached == {
        Stage.MQL: T0 + timedelta(hours=PATH.index(Status.AWAITING_ASSIGNMENT)),
        Stage.SQL: T0 + timedelta(hours=PATH.index(Status.DISCUSSION)),
        Stage.SAL: T0 + timedelta(hours=PATH.index(Status.BRIEF_FILLED)),
        Stage.PROPOSAL: T0 + timedelta(hours=PATH.index(Status.PROPOSAL)),
        Stage.DEAL: T0 + timedelta(hours=PATH.index(Status.CONVERTED)),
    }


@pytest.mark.parametrize("status", list(STAGE_OF_STATUS), ids=str)
def test_entering_a_stage_status_directly_reaches_every_earlier_stage(status: Status) -> None:
    reached: dict[Stage, datetime] = {}
    reach(reached, status, T0)
    stage = STAGE_OF_STATUS[status]
    assert set(reached) == set(STAGE_ORDER[: STAGE_ORDER.index(stage) + 1])


def test_a_stage_already_reached_keeps_its_first_time() -> None:
    reached: dict[Stage, datetime] = {}
    reach(reached, Status.DISCUSSION, T0)
    reach(reached, Status.DISCUSSION, T0 + timedelta(days=1))
    reach(reached, Status.BRIEF_FILLED, T0 + timedelta(days=2))
    assert reached == {
        Stage.MQL: T0,
        Stage.SQL: T0,
        Stage.SAL: T0 + timedelta(days=2),
    }


@pytest.mark.parametrize("end", sorted(ENDS), ids=str)
def test_ends_have_no_forward_path_only_reopen_moves(end: Status) -> None:
    for move in allowed_from(end):
        assert move.backward, _name(move)
        assert move.reason_required, _name(move)
        assert move.target in OPEN, _name(move)


def test_converted_is_final() -> None:
    assert allowed_from(Status.CONVERTED) == []
    assert all(t.target != Status.CONVERTED or t.source == Status.CONTRACT for t in TRANSITIONS)


def test_off_path_ends_reopen_to_the_sdr() -> None:
    for end in (Status.DISQUALIFIED, Status.REFERRED, Status.ROUTED):
        assert [t.target for t in allowed_from(end)] == [Status.SDR_PROCESSING]


def test_lost_reopens_to_where_sales_worked_it() -> None:
    assert {t.target for t in allowed_from(Status.LOST)} == {
        Status.DISCUSSION,
        Status.BRIEF_FILLED,
        Status.PROPOSAL,
        Status.CONTRACT,
    }


def test_every_open_status_but_new_has_a_way_back() -> None:
    for status in OPEN - {Status.NEW}:
        assert any(t.backward for t in allowed_from(status)), status


def test_admin_may_make_every_move() -> None:
    assert all(Role.ADMIN in t.roles for t in TRANSITIONS)


def test_no_status_moves_to_itself() -> None:
    assert all(t.source != t.target for t in TRANSITIONS)


@pytest.mark.parametrize(
    ("source", "target"),
    [("new", "converted"), ("bogus", "new"), ("new", "bogus"), ("", "")],
)
def test_find_returns_none_for_moves_not_in_the_table(source: str, target: str) -> None:
    assert find(source, target) is None
