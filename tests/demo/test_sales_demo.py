"""The demo's sales workspace: assignments, briefs, demos, proposals, contracts and
payments are what the real functions write after the same history, every gate passes
when its move is made, and the default demo has a live workspace to show."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

import pytest

from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Partner
from leadrelay.deals.models import Contract, Payment, Proposal, ProposalItem
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.notify.models import Notification
from leadrelay.presale.models import Brief, Demo, DemoPolicy
from leadrelay.sales import engine
from leadrelay.sales.access import SALES_OPEN
from leadrelay.sales.models import Absence, Assignment, AssignmentRule, AssignmentSettings
from tests.demo.sales_replay import assert_same_sales, told
from tests.demo.test_demo import (
    REACHED,
    assert_same_clocks,
    assert_same_records,
    events_by_lead,
    replay_twin,
)
from tests.demo.test_sdr_demo import NOW, RECENT, load

pytestmark = pytest.mark.django_db


def ids(query: Any, limit: int = 2) -> set[int]:
    return set(query.order_by("lead_id").values_list("lead_id", flat=True).distinct()[:limit])


def sampled() -> dict[str, set[int]]:
    """A couple of leads of every kind the sales side has."""
    status = LeadEvent.objects.filter(kind="status")
    assignments = LeadEvent.objects.filter(kind="assignment")
    demos = LeadEvent.objects.filter(kind="demo")
    required = DemoPolicy.objects.filter(demo_required=True).values_list("service_id", flat=True)
    retainers = Contract.objects.filter(kind="retainer")
    busiest = sorted(retainers, key=lambda c: -c.payments.count())[:2]
    return {
        "auto": ids(assignments.filter(data__how="auto")),
        "manual": ids(assignments.filter(data__how="manual")),
        "self": ids(assignments.filter(data__how="self")),
        "reassigned": ids(assignments.filter(data__how="reassign")),
        "client brief": ids(Brief.objects.filter(filled_via="client")),
        "call brief": ids(Brief.objects.filter(filled_via="call")),
        "link pending": ids(Brief.objects.filter(filled_at__isnull=True, revoked_at__isnull=True)),
        "link withdrawn": ids(Brief.objects.filter(revoked_at__isnull=False)),
        "demo required": ids(
            status.filter(to_status=Status.PROPOSAL, lead__service_id__in=required)
        ),
        "demo missed": ids(demos.filter(data__action="no_show")),
        "demo cancelled": ids(demos.filter(data__action="cancelled")),
        "demo moved": ids(demos.filter(data__action="rescheduled")),
        "three versions": ids(Proposal.objects.filter(version=3)),
        "rejected": ids(Proposal.objects.filter(state="rejected")),
        "many payments": {c.lead_id for c in busiest},
        "one-off": ids(Contract.objects.filter(kind="one_off", payments__isnull=False)),
        "amended": ids(LeadEvent.objects.filter(kind="contract", data__action="updated")),
        "csv": ids(Payment.objects.filter(source="csv")),
        "api": ids(Payment.objects.filter(source="api")),
        "competitor": set(
            Lead.objects.exclude(lost_to="").order_by("id").values_list("id", flat=True)[:2]
        ),
        "reopened": ids(status.filter(from_status=Status.LOST)),
    }


def test_sales_histories_replay_through_the_real_functions() -> None:
    """Leads of every sales kind, replayed with every gate on through the engine's
    ``assign``, the brief (the client's fill through the signed link), demos, proposals,
    the contract and payments: the same events, rows and notifications."""
    load(1500)
    kinds = sampled()
    missing = sorted(kind for kind, found in kinds.items() if not found)
    assert not missing, missing
    chosen = set().union(*kinds.values())
    users = {u.pk: u for u in User.objects.all()}
    partners = {p.pk: p for p in Partner.objects.all()}
    departments = {d.pk: d for d in Department.objects.all()}
    fields = ["status", "version", "sdr_id", "manager_id", "end_reason", "end_reason_code"]
    fields += ["client_id", "deal_amount", "deal_currency", "lost_to", "status_changed_at"]
    leads = list(Lead.objects.filter(pk__in=chosen).select_related("service").order_by("id"))
    history = events_by_lead(leads)
    for lead in leads:
        twin = replay_twin(lead, history[lead.pk], users, partners, departments)
        for name in [*fields, *REACHED]:
            assert getattr(twin, name) == getattr(lead, name), (lead.pk, name)
        assert_same_clocks(lead, twin)
        assert_same_records(lead, twin)
        assert_same_sales(lead, twin)
        assert told(twin, RECENT) == told(lead, RECENT), lead.pk


def test_every_gated_move_had_what_its_gate_wants_then() -> None:
    """SAL after a filled brief, the proposal after a held demo where the service asks
    for one, the contract after an accepted proposal, the deal after a contract and a
    payment: at the moment of each forward move, for every lead."""
    load(1500)
    required = set(
        DemoPolicy.objects.filter(demo_required=True).values_list("service_id", flat=True)
    )
    filled: dict[int, list[datetime]] = defaultdict(list)
    for lead_id, at in Brief.objects.exclude(filled_at=None).values_list("lead_id", "filled_at"):
        assert at is not None
        filled[lead_id].append(at)
    held: dict[int, list[datetime]] = defaultdict(list)
    for e in LeadEvent.objects.filter(kind="demo", data__action="held"):
        held[e.lead_id].append(e.at)
    accepted: dict[int, list[datetime]] = defaultdict(list)
    for e in LeadEvent.objects.filter(kind="proposal", data__action="accepted"):
        accepted[e.lead_id].append(e.at)
    paid: dict[int, list[datetime]] = defaultdict(list)
    for lead_id, at in Payment.objects.values_list("lead_id", "created_at"):
        paid[lead_id].append(at)
    services = dict(Lead.objects.values_list("pk", "service_id"))
    counted: Counter[str] = Counter()
    for e in LeadEvent.objects.filter(kind="status").exclude(from_status=Status.LOST):
        target, lead_id = e.to_status, e.lead_id
        forward = (e.from_status, target) in (
            (Status.DISCUSSION, Status.BRIEF_FILLED),
            (Status.BRIEF_FILLED, Status.PROPOSAL),
            (Status.PROPOSAL, Status.CONTRACT),
            (Status.CONTRACT, Status.CONVERTED),
        )
        if not forward:
            continue
        counted[target] += 1
        if target == Status.BRIEF_FILLED:
            assert any(at <= e.at for at in filled[lead_id]), lead_id
        elif target == Status.PROPOSAL and services[lead_id] in required:
            assert any(at < e.at for at in held[lead_id]), lead_id
        elif target == Status.CONTRACT:
            assert any(at < e.at for at in accepted[lead_id]), lead_id
        elif target == Status.CONVERTED:
            assert Contract.objects.filter(lead_id=lead_id, created_at__lt=e.at).exists(), lead_id
            assert any(at < e.at for at in paid[lead_id]), lead_id
    assert min(counted.values()) > 10, counted
    # A lead's deal value is its current proposal's, or its contract's once there is one.
    for lead in Lead.objects.exclude(deal_amount=None).select_related("contract")[:300]:
        contract = Contract.objects.filter(lead=lead).first()
        latest = Proposal.objects.filter(lead=lead).order_by("-version").first()
        if contract is not None and contract.updated_at >= latest.created_at:  # type: ignore[union-attr]
            assert (lead.deal_amount, lead.deal_currency) == (contract.value, contract.currency)
        else:
            assert latest is not None
            assert (lead.deal_amount, lead.deal_currency) == (latest.amount, latest.currency)


def test_the_default_demo_has_a_live_sales_workspace() -> None:
    """At the size ``serve --demo`` loads: every manager's board has work in each part
    of the pipeline, links wait for clients, demos are coming, clients pay for months
    (or left), some companies came back, the team is set up as the engine reads it."""
    summary = load(4200, seed=1)
    managers = list(User.objects.filter(role=Role.SALES).order_by("pk"))
    assert [u.username for u in managers] == ["sales1", "sales2", "sales3", "sales4"]
    boards = Counter(
        Lead.objects.filter(status__in=SALES_OPEN).values_list("manager_id", flat=True)
    )
    for manager in managers:
        assert 15 <= boards[manager.pk] <= 45, (manager.username, boards)
    columns = Counter(Lead.objects.filter(status__in=SALES_OPEN).values_list("status", flat=True))
    assert all(columns[s] >= 5 for s in SALES_OPEN), columns
    assert Lead.objects.filter(status=Status.AWAITING_ASSIGNMENT).count() >= 5  # the queue
    open_links = Brief.objects.filter(filled_at=None, revoked_at=None, lead__status="discussion")
    assert open_links.filter(expires_at__gt=NOW).count() >= 5
    assert open_links.filter(expires_at__lte=NOW).exists()
    assert Demo.objects.filter(state="scheduled", starts_at__gt=NOW).count() >= 3
    assert set(Demo.objects.values_list("state", flat=True)) == set(Demo.State.values)
    assert set(Proposal.objects.values_list("state", flat=True)) == set(Proposal.State.values)
    # LT: a retainer's charges run monthly up to now, or stop when the client leaves.
    lifetimes = Counter(Payment.objects.values_list("contract_id", flat=True))
    spread = Counter(lifetimes.values())
    assert len(spread) >= 8 and spread[1] > 0 and max(spread) >= 9, spread
    assert set(Payment.objects.values_list("source", flat=True)) == {"manual", "csv", "api"}
    assert Contract.objects.filter(kind="one_off").exists()
    # Clients: companies with several requests, a few of them converted twice.
    per_client = Counter(Lead.objects.exclude(client=None).values_list("client_id", flat=True))
    assert sum(1 for n in per_client.values() if n >= 2) >= 20
    twice = Counter(
        Lead.objects.filter(status=Status.CONVERTED).values_list("client_id", flat=True)
    )
    assert sum(1 for n in twice.values() if n >= 2) >= 2
    assert Lead.objects.exclude(lost_to="").filter(status=Status.LOST).count() >= 20
    # The team as the engine sees it now: one manager away, one on a later shift,
    # the rules, automatic least-loaded assignment.
    settings = AssignmentSettings.get()
    assert (settings.mode, settings.strategy) == ("auto", "least_loaded")
    assert AssignmentRule.objects.count() == 3
    assert Absence.objects.filter(starts_at__lte=NOW, ends_at__gt=NOW).count() == 1
    assert Absence.objects.filter(ends_at__lt=NOW).count() == 1
    pool = engine.Pool.load(settings, NOW)
    assert [m.user.username for m in pool.members if m.absence is not None] == ["sales1"]
    assert [m.user.username for m in pool.members if m.shift is not None] == ["sales4"]
    assert DemoPolicy.objects.filter(demo_required=True).count() == 2
    # Who got what, and how; the engine's reasons in its own words.
    how = Counter(Assignment.objects.values_list("how", flat=True))
    assert how["auto"] > how["manual"] > how["self"] > 0 and how["reassign"] > 0, how
    auto = Assignment.objects.filter(how="auto").first()
    assert auto is not None and auto.why["chosen"]["id"] == auto.manager_id
    assert {"strategy", "rule", "considered", "skipped", "because"} <= set(auto.why)
    recent = Counter(demo_notifications())
    assert recent["lead_assigned_manager"] > 0 and recent["brief_filled"] > 0, recent
    for key in ("assignments", "briefs", "demos", "proposals", "contracts", "payments"):
        assert summary[key] > 0, key
    assert summary["proposal_items"] >= summary["proposals"]


def demo_notifications() -> list[str]:
    """The sales notifications of the last two days, keyed as the functions key them."""
    kinds = ("lead_assigned_manager", "brief_filled")
    found = Notification.objects.filter(kind__in=kinds, created_at__gte=RECENT)
    prefix = {"lead_assigned_manager": "assigned", "brief_filled": "brief_filled"}
    for kind, key, user in found.values_list("kind", "dedup_key", "user_id"):
        assert re.fullmatch(rf"{prefix[kind]}:\d+:{user}", key), key
    return list(found.values_list("kind", flat=True))


def sales_fingerprint(skip: int) -> list[tuple[Any, ...]]:
    """The sales rows of the leads after the first ``skip`` (ids aside)."""
    leads = list(Lead.objects.order_by("id").values_list("id", flat=True)[skip:])
    out: list[tuple[Any, ...]] = []
    for model, names in (
        (Assignment, ("manager", "previous", "at", "by", "how", "strategy", "rule", "why")),
        (Brief, ("service", "values", "created_at", "sent_to", "expires_at", "filled_via")),
        (Demo, ("starts_at", "duration_minutes", "format", "location", "attendees", "state")),
        (Proposal, ("version", "amount", "currency", "term_months", "state", "sent_at")),
        (Contract, ("kind", "signed_on", "ends_on", "value", "monthly_fee", "created_at")),
        (Payment, ("paid_on", "amount", "period_start", "period_end", "source", "created_at")),
    ):
        rows = model.objects.filter(lead_id__in=leads).order_by("id").values_list(*names)
        out.append((model.__name__, *rows))
    items = ProposalItem.objects.filter(proposal__lead_id__in=leads).order_by("id")
    out.append(("items", *items.values_list("description", "amount", "order")))
    out.append(
        (
            "leads",
            *Lead.objects.filter(pk__in=leads)
            .order_by("id")
            .values_list("deal_amount", "deal_currency", "lost_to", "client__name"),
        )
    )
    return out


def test_same_seed_same_sales_rows() -> None:
    load(400)
    first = sales_fingerprint(0)
    load(400)  # added to the same database: new ids, numbers and links, the same rows
    assert sales_fingerprint(400) == first
    assert Brief.objects.values("nonce").distinct().count() == Brief.objects.count()
    assert Demo.objects.values("uid").distinct().count() == Demo.objects.count()
