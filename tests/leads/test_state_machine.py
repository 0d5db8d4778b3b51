"""Random walks of one lead through move_lead: the row always agrees with its event log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Partner
from leadrelay.leads.errors import (
    LeadError,
    LeadNotFound,
    MissingField,
    TransitionNotAllowed,
    VersionConflict,
)
from leadrelay.leads.history import replay
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import STAGE_ORDER, Status, allowed_from, find
from leadrelay.leads.transitions import MoveOptions, NewLead, create_lead, move_lead
from tests.conftest import T0
from tests.leads.snapshots import snapshot

NAMES = ["sdr", "sdr2", "sales", "sales2", "partner", "head_marketing", "head_sales", "admin"]
# The admin may make every move, so leaning on them keeps the walk going deep.
ACTORS = st.one_of(st.just("admin"), st.sampled_from(NAMES))
REASONS = st.one_of(st.just("the client asked"), st.sampled_from(["", "  ", "x"]))
VERSION_OFFSETS = st.one_of(st.just(0), st.sampled_from([-1, 1, -2]))
MANAGERS = st.one_of(st.just("sales"), st.sampled_from([None, "sales2", "sdr"]))


class LeadMachine(RuleBasedStateMachine):
    cast: ClassVar[dict[str, User]]
    partner: ClassVar[Partner]
    department: ClassVar[Department]

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.lead_id = 0
        self.status = Status.NEW

    @initialize()
    def receive_a_lead(self) -> None:
        self.lead_id = create_lead(NewLead(name="Ирина", received_at=T0), now=T0).pk

    def attempt(
        self,
        actor_name: str,
        to: str,
        reason: str,
        version_offset: int,
        manager_name: str | None,
        tick: bool,
    ) -> None:
        actor = self.cast[actor_name]
        before = snapshot(self.lead_id)
        if tick:
            self.now += timedelta(minutes=7)
        options = MoveOptions(
            manager=self.cast[manager_name] if manager_name else None,
            partner=self.partner,
            department=self.department,
        )
        version = before["version"] + version_offset
        try:
            move_lead(
                actor,
                self.lead_id,
                to,
                version=version,
                reason=reason,
                options=options,
                now=self.now,
            )
        except LeadError as error:
            assert snapshot(self.lead_id) == before
            self.check_refusal(error, actor, before, to, reason, version_offset)
        else:
            self.check_success(actor, before, to, reason, version_offset, manager_name)
            event(f"entered {to}")
            self.status = Status(to)

    def check_refusal(
        self,
        error: LeadError,
        actor: User,
        before: dict[str, Any],
        to: str,
        reason: str,
        version_offset: int,
    ) -> None:
        move = find(before["status"], to)
        if isinstance(error, TransitionNotAllowed):
            assert move is None
            assert version_offset == 0
        if isinstance(error, MissingField) and error.details["field"] == "reason":
            assert move is not None and move.reason_required and not reason.strip()
        if actor.role == Role.ADMIN:
            # The admin sees every lead and may make every move the table has.
            assert not isinstance(error, LeadNotFound)
            if version_offset:
                assert isinstance(error, VersionConflict)
            elif move is None:
                assert isinstance(error, TransitionNotAllowed)
            else:
                assert isinstance(error, MissingField), error

    def check_success(
        self,
        actor: User,
        before: dict[str, Any],
        to: str,
        reason: str,
        version_offset: int,
        manager_name: str | None,
    ) -> None:
        move = find(before["status"], to)
        assert move is not None, f"{before['status']} -> {to} is not in the table"
        assert version_offset == 0
        assert actor.role in move.roles
        assert reason.strip() or not move.reason_required
        if to == Status.ASSIGNED:
            assert manager_name in ("sales", "sales2") or actor.role == Role.SALES
        after = snapshot(self.lead_id)
        assert after["status"] == to
        assert after["version"] == before["version"] + 1
        assert after["event_count"] == before["event_count"] + 1
        event = LeadEvent.objects.filter(lead_id=self.lead_id).latest("id")
        assert (event.kind, event.actor_id, event.at) == ("status", actor.pk, self.now)
        assert (event.from_status, event.to_status) == (before["status"], to)
        assert event.reason == reason.strip()

    @rule(
        actor=ACTORS,
        to=st.sampled_from(list(Status)),
        reason=REASONS,
        version_offset=VERSION_OFFSETS,
        manager=MANAGERS,
        tick=st.booleans(),
    )
    def move_to_any_status(
        self,
        actor: str,
        to: Status,
        reason: str,
        version_offset: int,
        manager: str | None,
        tick: bool,
    ) -> None:
        self.attempt(actor, to, reason, version_offset, manager, tick)

    @precondition(lambda self: bool(allowed_from(self.status)))
    @rule(
        data=st.data(),
        actor=ACTORS,
        reason=REASONS,
        version_offset=VERSION_OFFSETS,
        manager=MANAGERS,
        tick=st.booleans(),
    )
    def make_a_move_in_the_table(
        self,
        data: st.DataObject,
        actor: str,
        reason: str,
        version_offset: int,
        manager: str | None,
        tick: bool,
    ) -> None:
        moves = allowed_from(self.status)
        to = data.draw(st.sampled_from([t.target for t in moves]), label="to")
        self.attempt(actor, to, reason, version_offset, manager, tick)

    @precondition(lambda self: any(not t.backward for t in allowed_from(self.status)))
    @rule(data=st.data(), tick=st.booleans())
    def the_admin_moves_it_forward(self, data: st.DataObject, tick: bool) -> None:
        # Keeps the walk going deep: the sales stages, contract, converted.
        moves = allowed_from(self.status)
        to = data.draw(st.sampled_from([t.target for t in moves if not t.backward]), label="to")
        self.attempt("admin", to, "the client asked", 0, "sales", tick)

    @invariant()
    def the_row_is_its_replayed_history(self) -> None:
        if not self.lead_id:
            return
        lead = Lead.objects.get(pk=self.lead_id)
        assert lead.status == self.status
        events = LeadEvent.objects.filter(lead_id=self.lead_id).order_by("at", "id")
        state = replay(events.values_list("kind", "to_status", "at"))
        assert state.status == lead.status
        stored = {s: lead.reached_at(s) for s in STAGE_ORDER if lead.reached_at(s) is not None}
        assert state.reached == stored
        assert state.version == lead.version
        assert lead.version == events.filter(kind__in=["created", "status"]).count()


@pytest.mark.django_db
def test_a_lead_row_always_agrees_with_its_event_log(
    cast: dict[str, User], departments: dict[str, Department]
) -> None:
    machine = type(
        "LeadMachineWithCast",
        (LeadMachine,),
        {
            "cast": cast,
            "partner": Partner.objects.create(name="Partner LLC"),
            "department": departments["partners"],
        },
    )
    run_state_machine_as_test(
        machine,
        settings=settings(max_examples=60, stateful_step_count=25, deadline=None),
    )
