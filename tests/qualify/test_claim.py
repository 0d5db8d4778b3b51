"""Claiming, releasing and reassigning requests: one owner, whoever clicks."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from leadrelay.accounts.models import Team, User
from leadrelay.accounts.roles import Role
from leadrelay.leads.errors import (
    AlreadyTaken,
    Forbidden,
    LeadError,
    TransitionNotAllowed,
    VersionConflict,
)
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import NewLead, claim, create_lead, move_lead, reassign
from tests.conftest import T0

MakeLead = Callable[..., Lead]


def test_a_claim_takes_the_request_into_processing(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claim(cast["sdr"], make_lead().pk, now=T0)
    assert (lead.status, lead.sdr_id) == ("sdr_processing", cast["sdr"].pk)
    event = LeadEvent.objects.get(lead=lead, kind="status")
    assert (event.from_status, event.to_status, event.actor_id) == (
        "new",
        "sdr_processing",
        cast["sdr"].pk,
    )


def test_a_second_claimer_is_told_who_has_it(cast: dict[str, User], make_lead: MakeLead) -> None:
    lead = claim(cast["sdr"], make_lead().pk, now=T0)
    with pytest.raises(AlreadyTaken) as caught:
        claim(cast["sdr2"], lead.pk, now=T0)
    assert caught.value.http_status == 409
    assert caught.value.details["owner"] == {"id": cast["sdr"].pk, "name": "sdr"}
    assert "sdr" in caught.value.message
    assert Lead.objects.get(pk=lead.pk).sdr_id == cast["sdr"].pk


def test_claiming_ones_own_request_again_changes_nothing(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claim(cast["sdr"], make_lead().pk, now=T0)
    again = claim(cast["sdr"], lead.pk, now=T0)
    assert again.version == lead.version
    assert LeadEvent.objects.filter(lead=lead).count() == 2


def test_a_touched_request_is_claimed_by_its_owner_only(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    from leadrelay.leads.transitions import log_touch

    lead = log_touch(cast["sdr"], make_lead().pk, "email", now=T0)
    with pytest.raises(AlreadyTaken):
        claim(cast["sdr2"], lead.pk, now=T0)
    assert claim(cast["sdr"], lead.pk, now=T0).status == "sdr_processing"


def test_sales_do_not_claim_incoming_requests(cast: dict[str, User], make_lead: MakeLead) -> None:
    lead = make_lead()
    with pytest.raises(LeadError) as caught:
        claim(cast["sales"], lead.pk, now=T0)
    assert caught.value.http_status in (403, 404)
    assert Lead.objects.get(pk=lead.pk).sdr_id is None


def test_a_request_past_the_sdr_cannot_be_claimed(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claim(cast["sdr"], make_lead().pk, now=T0)
    from tests.factories import walk

    walk(lead, cast["sdr"], "awaiting_assignment")
    with pytest.raises(TransitionNotAllowed):
        claim(cast["head_marketing"], lead.pk, now=T0)


def test_release_puts_the_request_back_for_anyone(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claim(cast["sdr"], make_lead().pk, now=T0)
    released = move_lead(cast["sdr"], lead.pk, "new", version=lead.version, reason="on leave")
    assert (released.status, released.sdr_id) == ("new", None)
    assert claim(cast["sdr2"], lead.pk, now=T0).sdr_id == cast["sdr2"].pk


def test_the_lead_sdr_reassigns_and_an_sdr_may_not(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    lead = claim(cast["sdr"], make_lead().pk, now=T0)
    with pytest.raises(Forbidden):
        reassign(cast["sdr2"], lead.pk, cast["sdr2"], version=lead.version, now=T0)
    marketing = cast["sdr"].department
    assert marketing is not None
    team = Team.objects.create(name="SDR", department=marketing, lead=cast["sdr2"])
    cast["sdr"].team = team
    cast["sdr"].save()
    moved = reassign(cast["sdr2"], lead.pk, cast["sdr2"], version=lead.version, now=T0)
    assert moved.sdr_id == cast["sdr2"].pk
    event = LeadEvent.objects.filter(lead=lead, kind="owner").get()
    assert event.data["sdr_before"] == cast["sdr"].pk
    assert event.data["why"] == "reassigned"
    with pytest.raises(VersionConflict):
        reassign(cast["head_marketing"], lead.pk, cast["sdr"], version=lead.version, now=T0)
    with pytest.raises(LeadError):
        reassign(cast["head_marketing"], lead.pk, cast["sales"], version=moved.version, now=T0)


def race_claim(sdrs: list[User], lead_id: int) -> list[object]:
    """Every SDR claims the lead at the same moment, each on its own connection."""
    outcomes: list[object] = [None] * len(sdrs)
    barrier = threading.Barrier(len(sdrs))

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            outcomes[i] = claim(sdrs[i], lead_id)
        except LeadError as exc:
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sdrs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_eight_sdrs_claiming_at_once_leave_one_owner(departments: object) -> None:
    """Real threads, each with its own connection, on the file database."""
    sdrs = [User.objects.create_user(f"s{i}", password=None, role=Role.SDR) for i in range(8)]
    for round_ in range(20):
        lead = create_lead(NewLead(name=f"Race {round_}", received_at=T0), now=T0)
        outcomes = race_claim(sdrs, lead.pk)
        winners = [o for o in outcomes if isinstance(o, Lead)]
        losers = [o for o in outcomes if isinstance(o, AlreadyTaken)]
        assert len(winners) == 1, outcomes
        assert len(losers) == len(sdrs) - 1, outcomes
        owner = Lead.objects.get(pk=lead.pk).sdr_id
        assert owner == winners[0].sdr_id
        assert {e.details["owner"]["id"] for e in losers} == {owner}
        assert LeadEvent.objects.filter(lead=lead, kind="status").count() == 1
