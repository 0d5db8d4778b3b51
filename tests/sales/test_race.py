"""Two workers assigning at once, each in its own thread with its own connection, on
whichever database the suite runs (file SQLite or PostgreSQL): every MQL goes to exactly
one manager, once, and the loads come out as the strategy says."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import NewLead, create_leads_bulk
from leadrelay.sales.engine import assign_next
from leadrelay.sales.models import Assignment, AssignmentSettings
from tests.conftest import T0

MQLS = 60


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded", "weighted"])
def test_two_runs_never_give_one_lead_to_two_managers(departments: object, strategy: str) -> None:
    people = [User.objects.create_user(f"m{i}", password=None, role=Role.SALES) for i in range(3)]
    leads = create_leads_bulk([NewLead(name=f"L{i}", received_at=T0) for i in range(MQLS)])
    # Handed off (the path there is not what this test is about).
    Lead.objects.filter(pk__in=[lead.pk for lead in leads]).update(
        status=Status.AWAITING_ASSIGNMENT, version=2
    )
    AssignmentSettings.objects.create(mode="auto", strategy=strategy)
    barrier = threading.Barrier(2)
    done: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=60)
            # Small batches, so the two runs interleave rather than one taking it all.
            while (n := assign_next(now=T0, limit=7)) > 0:
                done.append(n)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(done) == MQLS
    ids = [lead.pk for lead in leads]
    rows = Lead.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", flat=True)) == {Status.ASSIGNED}
    assert Counter(Assignment.objects.values_list("lead_id", flat=True)) == Counter(
        {pk: 1 for pk in ids}
    )
    assert LeadEvent.objects.filter(kind="assignment").count() == MQLS
    loads = Counter(rows.values_list("manager_id", flat=True))
    assert loads == {p.pk: MQLS // 3 for p in people}
    # What each assignment saw as a manager's load is what the rows before it made.
    seen = Counter[int]()
    for row in Assignment.objects.order_by("id"):
        considered = {c["id"]: c["open"] for c in row.why["considered"]}
        assert considered == {p.pk: seen[p.pk] for p in people}
        seen[row.manager_id] += 1
