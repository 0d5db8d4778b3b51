"""An idle worker sleeps until the next deadline it knows of, never past it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadrelay import worker
from leadrelay.leads.transitions import NewLead, create_lead
from leadrelay.sla.tasks import BATCH, sweep_due

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday, 12:00 in Moscow

pytestmark = pytest.mark.django_db


def test_an_idle_worker_wakes_at_the_next_escalation_step() -> None:
    worker.register_jobs()
    assert worker.idle_seconds(now=T0) == worker.IDLE_SECONDS  # nothing scheduled
    create_lead(NewLead(name="Ирина", email="i@example.ru", received_at=T0), now=T0)
    # The first step (half of 30 working minutes) is at 09:15 UTC.
    assert worker.idle_seconds(now=T0 + timedelta(minutes=15) - timedelta(seconds=0.5)) == 0.5
    assert worker.idle_seconds(now=T0 + timedelta(minutes=16)) == 0.0
    assert worker.idle_seconds(now=T0) == worker.IDLE_SECONDS  # far off: the usual nap


def test_a_burst_of_deadlines_is_cleared_in_one_pass() -> None:
    for i in range(BATCH + 30):
        create_lead(NewLead(name="Ирина", email=f"b{i}@example.ru", received_at=T0), now=T0)
    assert sweep_due(now=T0 + timedelta(minutes=15)) == BATCH + 30
    assert sweep_due(now=T0 + timedelta(minutes=15)) == 0
