"""Round-robin among SDRs on shift, run by the worker; manual claims by default."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import NewLead, create_lead
from leadrelay.notify.models import Notification
from leadrelay.qualify.models import SdrQueueSettings
from leadrelay.qualify.queue import auto_assign
from tests.conftest import T0

MakeLead = Callable[..., Lead]


def round_robin() -> None:
    SdrQueueSettings.objects.update_or_create(pk=1, defaults={"mode": "round_robin"})


def test_manual_mode_assigns_nothing(cast: dict[str, User], make_lead: MakeLead) -> None:
    User.objects.filter(role=Role.SDR).update(on_shift=True)
    make_lead()
    assert auto_assign(now=T0) == 0
    assert Lead.objects.filter(sdr__isnull=True).count() == 1


def test_requests_go_in_turn_to_those_on_shift(cast: dict[str, User], make_lead: MakeLead) -> None:
    round_robin()
    off = User.objects.create_user("off", password=None, role=Role.SDR, on_shift=False)
    User.objects.filter(username__in=["sdr", "sdr2"]).update(on_shift=True)
    leads = [make_lead() for _ in range(5)]
    assert auto_assign(now=T0) == 5
    owners = [Lead.objects.get(pk=lead.pk).sdr_id for lead in leads]
    assert owners == [
        cast["sdr"].pk,
        cast["sdr2"].pk,
        cast["sdr"].pk,
        cast["sdr2"].pk,
        cast["sdr"].pk,
    ]
    assert off.pk not in owners
    # The turn carries over to the next run.
    nxt = make_lead()
    auto_assign(now=T0)
    assert Lead.objects.get(pk=nxt.pk).sdr_id == cast["sdr2"].pk
    event = LeadEvent.objects.filter(lead=nxt, kind="owner").get()
    assert event.data["why"] == "round_robin"
    assert Notification.objects.filter(user=cast["sdr2"], kind="lead_assigned_sdr").count() == 3
    # Status stays "new": the SDR still has to take it up, and the clock is not stopped.
    assert Lead.objects.get(pk=nxt.pk).status == "new"


def test_nobody_on_shift_leaves_the_queue_alone(cast: dict[str, User], make_lead: MakeLead) -> None:
    round_robin()
    make_lead()
    assert auto_assign(now=T0) == 0


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_give_one_request_to_two_sdrs(departments: object) -> None:
    round_robin()
    for i in range(3):
        User.objects.create_user(f"s{i}", password=None, role=Role.SDR, on_shift=True)
    leads = [create_lead(NewLead(name=f"L{i}", received_at=T0), now=T0) for i in range(60)]
    barrier = threading.Barrier(2)
    done: list[int] = []

    def run() -> None:
        try:
            barrier.wait(timeout=60)
            done.append(auto_assign(now=T0, limit=60))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(done) == 60
    owners = Counter(
        Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("sdr_id", flat=True)
    )
    assert None not in owners
    assert sorted(owners.values()) == [20, 20, 20]
    assert LeadEvent.objects.filter(kind="owner").count() == 60
