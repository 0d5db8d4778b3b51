"""Sixteen people press the same button at the same moment: exactly one of them wins.

Real threads, each with its own database connection, through the whole stack (token
auth, the API, move_lead). Each round is a fresh lead awaiting a sales manager and all
sixteen requests carry the same version; the barrier releases them together.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.db import close_old_connections, connection
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import NewLead, create_lead
from tests.conftest import T0
from tests.factories import walk

THREADS = 16
ROUNDS = 200

ClientFor = Callable[[User], Client]


@dataclass
class Outcome:
    status: int
    code: str | None


@dataclass
class Race:
    """Results by round, then by thread; any exception a thread hit."""

    results: list[list[Outcome | None]]
    errors: list[BaseException] = field(default_factory=list)
    seconds: float = 0.0


def queued_leads(admin: User, count: int) -> list[Lead]:
    leads = []
    for _ in range(count):
        lead = create_lead(NewLead(name="Race", received_at=T0), now=T0)
        leads.append(walk(lead, admin, "sdr_processing", "awaiting_assignment"))
    return leads


def race(clients: list[Client], leads: list[Lead], bodies: list[dict[str, object]]) -> Race:
    """Each thread posts ``bodies[thread]`` to every lead in turn, all threads together."""
    result = Race(results=[[None] * len(clients) for _ in leads])
    barrier = threading.Barrier(len(clients))

    def run(index: int) -> None:
        client = clients[index]
        try:
            for round_, lead in enumerate(leads):
                barrier.wait(timeout=120)
                response = client.post(
                    f"/api/v1/leads/{lead.pk}/transition",
                    {**bodies[index], "version": lead.version},
                    content_type="application/json",
                )
                # What the server does after each request, which the test client skips:
                # with CONN_MAX_AGE=0 (PostgreSQL) the connection goes back to the pool.
                close_old_connections()
                body = response.json()
                code = body.get("code") if isinstance(body, dict) else None
                result.results[round_][index] = Outcome(response.status_code, code)
        except BaseException as exc:
            result.errors.append(exc)
            barrier.abort()  # release the others instead of leaving them waiting
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.seconds = time.monotonic() - started
    return result


def assert_one_winner_per_round(race_: Race, leads: list[Lead]) -> None:
    assert not race_.errors, race_.errors
    for round_, outcomes in enumerate(race_.results):
        statuses = Counter(o.status for o in outcomes if o is not None)
        assert statuses == {200: 1, 409: THREADS - 1}, (round_, outcomes)
        assert all(o.code == "version_conflict" for o in outcomes if o and o.status == 409)
    events = LeadEvent.objects.filter(lead__in=leads, kind="status")
    assigned = Counter(events.filter(to_status="assigned").values_list("lead_id", flat=True))
    assert assigned == {lead.pk: 1 for lead in leads}
    # Two moves to reach the queue, then exactly one from the race.
    assert Counter(events.values_list("lead_id", flat=True)) == {lead.pk: 3 for lead in leads}
    assert set(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("status", "version")
    ) == {("assigned", 4)}


@pytest.fixture
def sales_team(db: None) -> list[User]:
    return [
        User.objects.create_user(f"rep{i}", password=None, role=Role.SALES) for i in range(THREADS)
    ]


@pytest.mark.django_db(transaction=True)
def test_sixteen_admins_assigning_one_lead_at_once_make_one_assignment(
    cast: dict[str, User], sales_team: list[User], api_client: ClientFor
) -> None:
    admins = [
        User.objects.create_user(f"boss{i}", password=None, role=Role.ADMIN) for i in range(THREADS)
    ]
    leads = queued_leads(cast["admin"], ROUNDS)
    # Each admin names a different manager, so the stored one shows who won.
    bodies: list[dict[str, object]] = [{"to": "assigned", "manager": rep.pk} for rep in sales_team]

    result = race([api_client(a) for a in admins], leads, bodies)

    assert_one_winner_per_round(result, leads)
    managers = dict(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("id", "manager_id")
    )
    for lead, outcomes in zip(leads, result.results, strict=True):
        winner = next(i for i, o in enumerate(outcomes) if o and o.status == 200)
        assert managers[lead.pk] == sales_team[winner].pk


@pytest.mark.django_db(transaction=True)
def test_sixteen_sales_managers_claiming_one_lead_at_once_leave_one_owner(
    cast: dict[str, User], sales_team: list[User], api_client: ClientFor
) -> None:
    # CONTRACT.md: 409 when "someone else got there first" -- also for the managers who
    # can no longer see the lead once a colleague owns it.
    leads = queued_leads(cast["admin"], ROUNDS)
    bodies: list[dict[str, object]] = [{"to": "assigned"} for _ in sales_team]

    result = race([api_client(rep) for rep in sales_team], leads, bodies)

    assert_one_winner_per_round(result, leads)
