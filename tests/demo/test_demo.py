"""The demo loader: reproducible, every history legal, every row what move_lead would leave."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import LazySettings

from leadrelay import demo
from leadrelay.accounts.models import Department, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Contact, Partner
from leadrelay.leads.history import replay
from leadrelay.leads.models import CallOutcome, Lead, LeadEvent, TouchChannel
from leadrelay.leads.statuses import ENDS, OPEN, STAGE_ORDER, Status, find
from leadrelay.leads.transitions import MoveOptions, NewLead, create_lead, log_touch, move_lead
from leadrelay.notify.models import Notification
from leadrelay.qualify import returns
from leadrelay.qualify.answers import save_answers, save_bant, set_service
from leadrelay.qualify.handoff import is_return
from leadrelay.qualify.models import Answers, Bant, ReasonCode, Referral, Return, Routing
from leadrelay.sla.models import Breach, Clock
from tests.demo.sales_replay import SALES_KINDS, SalesReplay, assert_same_sales

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
REACHED = [f"reached_{s.value}_at" for s in STAGE_ORDER]
# The events that move a lead's version on; a return event and saved answers do not.
VERSIONED = ("created", "status", "touch", "owner")


def bumps(e: LeadEvent) -> bool:
    """Whether ``e`` moved its lead's version on (naming the service does, and a
    reassignment)."""
    if e.kind == "qualification":
        return "service" in e.data
    if e.kind == "assignment":
        return "version" in e.data
    return e.kind in VERSIONED


pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings: LazySettings) -> None:
    # Ten PBKDF2 hashes per load would dominate these tests' run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(leads: int, seed: int = 7, **kwargs: Any) -> dict[str, Any]:
    # The year of history only: today's intake runs on the real clock (tests/intake).
    kwargs.setdefault("intake", False)
    return demo.load_demo(leads, seed, False, now=kwargs.pop("now", NOW), **kwargs)


def events_by_lead(leads: list[Lead]) -> dict[int, list[LeadEvent]]:
    out: dict[int, list[LeadEvent]] = defaultdict(list)
    for e in LeadEvent.objects.filter(lead__in=leads).order_by("lead_id", "at", "id"):
        out[e.lead_id].append(e)
    return out


def fingerprint(leads: Iterable[Lead]) -> list[tuple[Any, ...]]:
    """What must repeat for the same seed (ids may be offset by earlier loads)."""
    return [
        (
            lead.status,
            lead.email,
            lead.name,
            lead.phone,
            lead.received_at,
            lead.status_changed_at,
            lead.version,
            lead.end_reason,
            lead.end_reason_code,
            lead.service_id,
            lead.sdr_id,
            lead.manager_id,
        )
        for lead in leads
    ]


def test_has_leads_flips_and_the_summary_is_complete() -> None:
    assert demo.has_leads() is False
    summary = load(300)
    assert demo.has_leads() is True
    assert summary["leads"] == Lead.objects.count() == 300
    assert summary["events"] == LeadEvent.objects.count()
    assert summary["contacts"] == Contact.objects.count()
    assert summary["bants"] == Bant.objects.count() > 0
    assert summary["answers"] == Answers.objects.count() > summary["bants"]
    assert summary["referrals"] == Referral.objects.count() > 0
    assert summary["routings"] == Routing.objects.count() > 0
    assert summary["returns"] == Return.objects.count() > 0
    assert summary["return_states"] == dict(
        sorted(Counter(Return.objects.values_list("state", flat=True)).items())
    )
    assert isinstance(summary["seconds"], float)
    assert sum(summary["statuses"].values()) == 300
    assert all(
        re.fullmatch(r"Demo user \S+ \(.+\): password \S{8,}", p) for p in summary["passwords"]
    )


def test_same_seed_same_data_and_the_pipeline_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(300)
    first = fingerprint(Lead.objects.order_by("id"))
    load(300)  # same seed, added with --force semantics: same rows after the first 300
    second = fingerprint(Lead.objects.order_by("id")[300:])
    assert first == second
    # The forked row generator makes exactly the rows the in-process one makes.
    monkeypatch.setattr(demo, "_PIPELINE_MIN_LEADS", 0)
    load(300)
    assert fingerprint(Lead.objects.order_by("id")[600:]) == first
    load(300, seed=8)
    assert fingerprint(Lead.objects.order_by("id")[900:]) != first


def test_users_for_every_role_but_admin_and_existing_names_are_kept() -> None:
    User.objects.create_user("sdr1", "", "x", role=Role.SDR)  # someone's real account
    User.objects.create_user("sales1", "", "x", role=Role.SDR)  # a name taken by another role
    summary = load(50)
    roles = set(
        User.objects.exclude(username__in=["sdr1", "sales1"]).values_list("role", flat=True)
    )
    assert roles == set(Role.values) - {Role.ADMIN}
    assert not User.objects.filter(username="admin").exists()
    created = [line.split()[2] for line in summary["passwords"]]
    assert "sdr1" not in created and "sales1" not in created and "sales1_demo" in created
    assert len(created) == len(set(created)) == 10 - 1
    assert User.objects.get(username="sdr1").check_password("x")  # left alone
    # The existing SDR is one of the demo SDRs; the mis-roled "sales1" acts for nobody.
    assert LeadEvent.objects.filter(actor__username="sdr1").exists()
    assert not LeadEvent.objects.filter(actor__username="sales1").exists()
    assert load(10)["passwords"] == []  # nothing new the second time


def test_every_row_equals_the_replay_of_its_history() -> None:
    load(300)
    leads = list(Lead.objects.order_by("id"))
    history = events_by_lead(leads)
    for lead in leads:
        events = history[lead.pk]
        moves = [e for e in events if e.kind in ("created", "status")]
        state = replay((e.kind, e.to_status, e.at) for e in events)
        assert lead.status == state.status, lead.pk
        assert state.version == len(moves), lead.pk
        # A touch counts a version too; saving answers or answering a return does not.
        assert lead.version == len([e for e in events if bumps(e)]), lead.pk
        assert lead.status_changed_at == moves[-1].at
        for stage, column in zip(STAGE_ORDER, REACHED, strict=True):
            assert getattr(lead, column) == state.reached.get(stage), (lead.pk, stage)


def test_every_event_is_an_allowed_move_or_touch_by_someone_who_may_make_it() -> None:
    load(300)
    users = {u.pk: u for u in User.objects.all()}
    leads = list(Lead.objects.all())
    codes = reason_codes()
    for lead_id, events in events_by_lead(leads).items():
        created, *later = events
        assert (created.kind, created.to_status, created.actor_id) == ("created", "new", None)
        assert created.at == Lead.objects.get(pk=lead_id).received_at
        previous = created
        status, sdr, manager = Status.NEW, None, None
        version = 1
        for i, e in enumerate(later):
            # A head's decision on a dispute is recorded with the move it makes; an
            # assignment follows the move into assigned, a brief's fill precedes its move.
            same_moment = (e.kind, previous.kind) in (
                ("return", "status"),
                ("assignment", "status"),
                ("status", "brief"),
            )
            assert e.at > previous.at or (same_moment and e.at == previous.at), lead_id
            assert e.at <= NOW
            if bumps(e):
                version += 1
                assert e.data.get("version", version) == version
            if e.kind in SALES_KINDS:
                manager = check_sales_event(e, previous, status, manager, users)
                previous = e
                continue
            if e.actor_id is None:
                # Nobody: the engine's assignment, the client's brief (checked above).
                assert e.kind == "status", lead_id
                nxt = later[i + 1] if i + 1 < len(later) else None
                auto = nxt is not None and nxt.kind == "assignment" and nxt.data["how"] == "auto"
                client = previous.kind == "brief" and previous.data.get("via") == "client"
                assert (auto and e.to_status == Status.ASSIGNED) or (
                    client and e.to_status == Status.BRIEF_FILLED
                ), lead_id
                status = Status(e.to_status)
                manager = e.data.get("manager", manager)
                previous = e
                continue
            actor = users[e.actor_id]
            if e.kind == "touch":
                # log_touch: an open lead, by its owner (an SDR may take an unowned one).
                assert status in OPEN, (lead_id, status)
                assert (e.from_status, e.to_status, e.reason) == ("", "", "")
                assert e.data["channel"] in TouchChannel.values
                outcome = e.data.get("outcome", "")
                assert (outcome in CallOutcome.values) == (e.data["channel"] == "call")
                if actor.role == Role.SDR:
                    assert sdr in (None, actor.pk)
                else:
                    assert actor.role == Role.SALES and manager == actor.pk
                sdr = e.data.get("sdr", sdr)
                previous = e
                continue
            if e.kind == "qualification":
                # qualify.answers.may_qualify: the request's own SDR, while it is theirs.
                assert status in (Status.NEW, Status.SDR_PROCESSING) and actor.pk == sdr
                assert set(e.data) in (
                    {"bant", "changed"},
                    {"questionnaire", "version", "changed"},
                    {"service", "service_before"},
                )
                previous = e
                continue
            if e.kind == "return":
                # qualify.returns: the SDR answers, a head decides a dispute.
                assert status in (Status.SDR_PROCESSING, Status.AWAITING_ASSIGNMENT), lead_id
                state = e.data["state"]
                if state in ("accepted", "disputed"):
                    assert actor.pk == sdr and (state == "accepted" or e.reason)
                else:
                    assert state in ("upheld", "overturned")
                    assert actor.role in (Role.HEAD_MARKETING, Role.HEAD_SALES)
                assert e.data["reason_code"] in codes["return"]
                previous = e
                continue
            assert e.kind == "status"
            assert e.from_status == status
            move = find(e.from_status, e.to_status)
            assert move is not None, (lead_id, e.from_status, e.to_status)
            assert e.reason or not move.reason_required, (lead_id, e.from_status, e.to_status)
            decision = later[i + 1] if i + 1 < len(later) else None
            overturned = (
                decision is not None
                and decision.kind == "return"
                and decision.data.get("state") == "overturned"
                and (decision.actor_id, decision.at) == (e.actor_id, e.at)
            )
            # qualify.returns.judge: the decision, not the table, gives a head this move.
            assert actor.role in move.roles or (
                overturned and actor.role in (Role.HEAD_MARKETING, Role.HEAD_SALES)
            )
            code = e.data.get("reason_code")
            if e.to_status in (Status.DISQUALIFIED, Status.LOST):
                assert code in codes["disqualify" if e.to_status == Status.DISQUALIFIED else "lost"]
            elif is_return(actor, move):
                assert code in codes["return"], lead_id
            else:
                assert code is None, lead_id
            status = Status(e.to_status)
            sdr = e.data.get("sdr", sdr)
            manager = e.data.get("manager", manager)
            previous = e


def check_sales_event(
    e: LeadEvent, previous: LeadEvent, status: str, manager: int | None, users: dict[int, User]
) -> int | None:
    """A sales record's event: in a status where the function allows it, by the lead's
    manager or the head of sales (nobody for the engine, the client's fill and the
    billing system's payment). Returns the lead's manager after it."""
    from leadrelay.deals.contracts import CONTRACT_OPEN
    from leadrelay.deals.proposals import PROPOSAL_OPEN
    from leadrelay.presale.briefs import BRIEF_OPEN
    from leadrelay.sales.access import PAYABLE, SALES_OPEN

    data = e.data
    actor = users.get(e.actor_id or 0)
    by_head = actor is not None and actor.role == Role.HEAD_SALES
    if e.kind == "assignment":
        how = data["how"]
        if how == "reassign":
            assert status in SALES_OPEN and by_head and data["previous"] == manager
        else:
            assert (previous.kind, previous.to_status, previous.at) == ("status", "assigned", e.at)
            assert previous.data["manager"] == data["manager"] == manager
            assert previous.actor_id == e.actor_id
            assert (how == "auto") == (actor is None)
            assert how != "manual" or by_head
            assert how != "self" or (actor is not None and actor.pk == manager)
        assert users[data["manager"]].role == Role.SALES
        return int(data["manager"])
    if e.kind == "brief":
        assert status in BRIEF_OPEN, (e.lead_id, status)
        if data.get("via") == "client":
            assert actor is None
            return manager
    elif e.kind == "demo":
        assert status in BRIEF_OPEN, (e.lead_id, status)
    elif e.kind == "proposal":
        assert status in PROPOSAL_OPEN, (e.lead_id, status)
    elif e.kind == "contract":
        assert status in CONTRACT_OPEN, (e.lead_id, status)
    else:
        assert status in PAYABLE, (e.lead_id, status)
        if data["source"] == "api":
            assert actor is None
            return manager
    assert actor is not None and (actor.pk == manager or by_head), (e.lead_id, e.kind)
    return manager


def reason_codes() -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for kind, code in ReasonCode.objects.filter(active=True).values_list("kind", "code"):
        out[kind].add(code)
    return out


def bant_raw(bant: Bant) -> dict[str, Any]:
    """A lead's BANT as a form would send it to save_bant."""
    return {
        "budget_amount": "" if bant.budget_amount is None else str(bant.budget_amount),
        "budget_band": bant.budget_band,
        "currency": bant.currency,
        "authority_role": bant.authority_role,
        "decision_maker": bant.decision_maker,
        "need": bant.need.code if bant.need else "",
        "need_text": bant.need_text,
        "timeframe_date": bant.timeframe_date.isoformat() if bant.timeframe_date else "",
        "timeframe_band": bant.timeframe_band,
    }


def replay_twin(
    lead: Lead,
    events: list[LeadEvent],
    users: dict[int, User],
    partners: dict[int, Partner],
    departments: dict[int, Department],
) -> Lead:
    """Replay ``lead``'s history through the real domain functions, gates and all, onto
    a new lead; each event the functions write must equal the demo's."""
    # A request that came without a service has it named in its history.
    named = any(e.kind == "qualification" and "service" in e.data for e in events)
    twin = create_lead(
        NewLead(
            email=lead.email,
            company=lead.company,
            website=lead.website,  # deals.link_client finds the client by it
            service=None if named else lead.service,
            received_at=lead.received_at,
        )
    )
    returned: dict[int, int] = {}  # the demo's Return id -> the twin's
    sales = SalesReplay(lead, twin, users)

    def last(kind: str) -> LeadEvent:
        event = twin.events.filter(kind=kind).order_by("-id").first()
        assert event is not None
        return event

    for i, e in enumerate(events[1:], start=1):
        data = e.data
        if e.kind in SALES_KINDS:
            sales.twin = twin
            sales.apply(events, i)
            twin.refresh_from_db()
            continue
        if sales.made_by_function(events, i):
            continue  # the next (or the last) event's function makes this move
        assert e.actor_id is not None
        actor = users[e.actor_id]
        if e.kind == "touch":
            twin = log_touch(
                actor, twin.pk, data["channel"], outcome=data.get("outcome", ""), now=e.at
            )
            assert last("touch").data == data, (lead.pk, "touch")
        elif e.kind == "qualification":
            if "service" in data:
                twin = set_service(actor, twin.pk, data["service"], now=e.at)
            elif data.get("bant"):
                save_bant(actor, twin.pk, bant_raw(Bant.objects.get(lead=lead)), now=e.at)
            else:
                given = Answers.objects.get(lead=lead, questionnaire_id=data["questionnaire"])
                save_answers(actor, twin.pk, given.version_id, given.values, now=e.at)
            assert last("qualification").data == data, (lead.pk, "qualification")
        elif e.kind == "return":
            ret = returned[data["return"]]
            state = data["state"]
            if state in ("accepted", "disputed"):
                returns.decide(actor, ret, accept=state == "accepted", note=e.reason, now=e.at)
            else:
                move = events[i - 1] if state == "overturned" else None
                returns.judge(actor, ret, overturn=move is not None, note=e.reason, now=e.at)
                if move is not None:  # judge() made the head's move too
                    assert last("status").data == move.data, (lead.pk, "overturn")
            twin.refresh_from_db()
            assert last("return").data == {**data, "return": ret}, (lead.pk, state)
        else:
            assert e.kind == "status"
            ahead = events[i + 1] if i + 1 < len(events) else None
            if ahead is not None and ahead.kind == "return" and ahead.at == e.at:
                continue  # a head overturning a return: judge() makes this move
            options = MoveOptions(
                manager=users.get(data.get("manager") or 0)
                if e.to_status == Status.ASSIGNED
                else None,
                partner=partners.get(data.get("partner") or 0),
                department=departments.get(data.get("routed_to") or 0),
                reason_code=data.get("reason_code", ""),
                competitor=data.get("competitor", ""),
            )
            twin = move_lead(
                actor,
                twin.pk,
                e.to_status,
                version=twin.version,
                reason=e.reason,
                options=options,
                now=e.at,
            )
            assert last("status").data == data, (lead.pk, e.to_status)
            theirs = Return.objects.filter(lead=twin, returned_at=e.at).first()
            if theirs is not None:
                returned[Return.objects.get(lead=lead, returned_at=e.at).pk] = theirs.pk
    twin.refresh_from_db()
    return twin


def test_rows_are_what_the_domain_functions_leave_after_the_same_history() -> None:
    """Replays demo histories through the real domain functions, with every gate on (the
    hand-off needs the answers, a disqualification and a return their code), and
    compares rows, so the loader cannot drift from transitions, qualify.answers,
    qualify.routing and qualify.returns."""
    load(400)
    users = {u.pk: u for u in User.objects.all()}
    partners = {p.pk: p for p in Partner.objects.all()}
    departments = {d.pk: d for d in Department.objects.all()}
    fields = ["status", "version", "sdr_id", "manager_id", "partner_id", "routed_to_id"]
    fields += ["end_reason", "end_reason_code", "service_id", "status_changed_at", *REACHED]
    # The first 60 leads, every one with a return, a few referred or routed and a few
    # whose service the SDR named.
    chosen = set(Lead.objects.order_by("id").values_list("id", flat=True)[:60])
    chosen |= set(Return.objects.values_list("lead_id", flat=True))
    for model in (Referral, Routing):
        chosen |= set(model.objects.order_by("id").values_list("lead_id", flat=True)[:10])
    named = LeadEvent.objects.filter(kind="qualification", data__has_key="service")
    named_ids = set(named.order_by("id").values_list("lead_id", flat=True)[:10])
    assert named_ids
    chosen |= named_ids
    leads = list(Lead.objects.filter(pk__in=chosen).select_related("service").order_by("id"))
    history = events_by_lead(leads)
    states: Counter[str] = Counter()
    for lead in leads:
        twin = replay_twin(lead, history[lead.pk], users, partners, departments)
        for name in fields:
            assert getattr(twin, name) == getattr(lead, name), (lead.pk, name)
        assert_same_clocks(lead, twin)
        assert_same_records(lead, twin)
        assert_same_sales(lead, twin)
        states.update(Return.objects.filter(lead=lead).values_list("state", flat=True))
    assert set(states) == {"open", "accepted", "disputed", "upheld", "overturned"}, states


def assert_same_records(lead: Lead, twin: Lead) -> None:
    """BANT, answers, referrals, routings, returns and their recent notifications."""

    def rows(model: Any, of: Lead, *names: str) -> list[tuple[Any, ...]]:
        return list(model.objects.filter(lead=of).order_by("id").values_list(*names))

    bant = [f for f in (f.name for f in Bant._meta.concrete_fields) if f not in ("id", "lead")]
    assert rows(Bant, twin, *bant) == rows(Bant, lead, *bant), lead.pk
    answers = ("questionnaire", "version", "values", "updated_at", "updated_by")
    assert rows(Answers, twin, *answers) == rows(Answers, lead, *answers), lead.pk
    referral = ("partner", "reason", "referred_at", "referred_by", "commission_percent")
    assert rows(Referral, twin, *referral) == rows(Referral, lead, *referral), lead.pk
    routing = ("department", "reason", "routed_at", "routed_by")
    assert rows(Routing, twin, *routing) == rows(Routing, lead, *routing), lead.pk
    ret = [f.name for f in Return._meta.concrete_fields if f.name not in ("id", "lead")]
    assert rows(Return, twin, *ret) == rows(Return, lead, *ret), lead.pk
    # The demo keeps the notifications of the last two days, as the SLA ones.
    kinds = ("lead_returned", "return_disputed", "return_judged", "lead_referred")
    since = NOW - timedelta(days=2)

    def told(of: Lead) -> list[tuple[Any, ...]]:
        found = Notification.objects.filter(lead=of, kind__in=kinds, created_at__gte=since)
        return sorted(found.values_list("kind", "user_id", "created_at", "data", "read_at"))

    assert told(twin) == told(lead), lead.pk


def assert_same_clocks(lead: Lead, twin: Lead) -> None:
    """The demo's clocks are those the real hooks started and stopped on the replay,
    but for what only the worker does (it was not running for the twin): its steps, and
    the breach it records, after which a close leaves the clock breached."""
    ours = list(Clock.objects.filter(lead=lead).order_by("started_at", "kind"))
    real = list(Clock.objects.filter(lead=twin).order_by("started_at", "kind"))
    assert len(ours) == len(real), lead.pk
    same = ["kind", "policy_id", "calendar_id", "started_at", "due_at", "stopped_at"]
    same += ["stopped_by_id", "owner_id", "working_seconds", "calendar_seconds"]
    for mine, theirs in zip(ours, real, strict=True):
        for name in same:
            assert getattr(mine, name) == getattr(theirs, name), (lead.pk, mine.kind, name)
        if (mine.outcome, theirs.outcome) != (Clock.Outcome.BREACHED, Clock.Outcome.CANCELLED):
            assert mine.outcome == theirs.outcome, (lead.pk, mine.kind)
        else:  # closed after the worker recorded the breach
            assert mine.breached_at is not None and mine.stopped_at is not None
            assert mine.breached_at < mine.stopped_at
    assert (twin.sla_due_at, twin.sla_warn_at) == (lead.sla_due_at, lead.sla_warn_at)


def test_the_funnel_and_the_data_look_like_an_agency() -> None:
    summary = load(3000)
    n = summary["leads"]
    share = {stage: count / n for stage, count in summary["stages"].items()}
    assert 0.55 <= share["mql"] <= 0.70, share
    assert 0.28 <= share["sql"] <= 0.43, share
    assert 0.18 <= share["sal"] <= 0.32, share
    assert 0.10 <= share["proposal"] <= 0.21, share
    assert 0.05 <= share["deal"] <= 0.12, share
    for stage, column in zip(STAGE_ORDER, REACHED, strict=True):
        assert (
            Lead.objects.filter(**{f"{column}__isnull": False}).count() == summary["stages"][stage]
        )

    statuses = Counter(Lead.objects.values_list("status", flat=True))
    for end in ENDS:
        assert statuses[end] > 0, end
    assert Lead.objects.filter(status=Status.REFERRED, partner__isnull=True).count() == 0
    assert Lead.objects.filter(status=Status.ROUTED, routed_to__isnull=True).count() == 0
    kinds = set(Lead.objects.filter(status=Status.ROUTED).values_list("routed_to__kind", flat=True))
    assert kinds == {"group_company", "other"}
    for status in (Status.DISQUALIFIED, Status.LOST):
        assert not Lead.objects.filter(status=status, end_reason="").exists()
    reasons = set(
        Lead.objects.filter(status=Status.DISQUALIFIED).values_list("end_reason", flat=True)
    )
    assert {"Спам", "Не наша услуга", "Маленький бюджет", "Не дозвонились"} <= reasons
    moves = LeadEvent.objects.filter(kind="status")
    assert moves.filter(from_status=Status.LOST).exists()  # reopened lost leads
    assert moves.filter(to_status=Status.SDR_PROCESSING).exclude(from_status=Status.NEW).exists()

    # Some people write twice: ~3%, each pointing at an earlier lead with the same e-mail.
    duplicates = list(
        Lead.objects.filter(duplicate_of__isnull=False).select_related("duplicate_of")
    )
    assert 0.015 * n <= len(duplicates) <= 0.05 * n
    for lead in duplicates:
        assert lead.duplicate_of is not None
        assert lead.duplicate_of.pk < lead.pk and lead.duplicate_of.email == lead.email
        assert lead.contact_id == lead.duplicate_of.contact_id

    # Requests of the last two days are mostly still being worked.
    recent = Lead.objects.filter(received_at__gte=NOW - timedelta(days=2))
    assert recent.count() > 0
    assert recent.filter(status__in=OPEN).count() >= 0.5 * recent.count()
    assert recent.filter(reached_sal_at__isnull=False).count() == 0

    # 12 months of ~n/12 requests, none in the future.
    months = Counter((r.year, r.month) for r in Lead.objects.values_list("received_at", flat=True))
    assert max(Lead.objects.values_list("received_at", flat=True)) <= NOW
    assert min(Lead.objects.values_list("received_at", flat=True)) >= NOW - timedelta(days=366)
    full = [count for (y, m), count in months.items() if (y, m) not in {(2025, 6), (2026, 6)}]
    assert len(full) == 11 and all(0.7 * n / 12 <= c <= 1.35 * n / 12 for c in full), months

    # The 30-minute rule mostly holds for requests that arrive in working hours.
    firsts = LeadEvent.objects.filter(kind="status", from_status=Status.NEW).select_related("lead")
    in_hours = [e for e in firsts if 9 <= (e.lead.received_at + timedelta(hours=3)).hour < 18]
    fast = [e for e in in_hours if e.at - e.lead.received_at <= timedelta(minutes=30)]
    assert len(fast) >= 0.6 * len(in_hours)

    rows = Lead.objects.values_list("email", "phone", "name", "attribution", "contact_id")
    cyrillic = 0
    for email, phone, name, attribution, contact_id in rows:
        assert email == email.lower() and "@" in email
        assert phone == "" or re.fullmatch(r"\+\d{11,12}", phone), phone
        assert all(v for v in attribution.values()), attribution
        assert contact_id is not None
        cyrillic += bool(re.search("[а-яА-Я]", name))
    assert 0.75 * n <= cyrillic <= 0.95 * n
    clicks = Counter(k for a in Lead.objects.values_list("attribution", flat=True) for k in a)
    assert (
        clicks["utm_source"] > 0.4 * n and clicks["yclid"] and clicks["gclid"] and clicks["fbclid"]
    )


def schema() -> list[tuple[Any, ...]]:
    from django.db import connection

    models: list[type[Any]] = [Lead, LeadEvent, Contact, Clock, Breach, Notification]
    models += [Bant, Answers, Referral, Routing, Return]
    tables = [m._meta.db_table for m in models] + ["catalog_company"]
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                f"WHERE tbl_name IN ({', '.join(['%s'] * len(tables))}) ORDER BY name, type",
                tables,
            )
        else:
            cur.execute(
                "SELECT 'index', indexname, tablename, indexdef FROM pg_indexes "
                "WHERE tablename = ANY(%s) UNION ALL "
                "SELECT 'constraint', conname, conrelid::regclass::text, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) ORDER BY 2, 1",
                [tables, tables],
            )
        return list(cur.fetchall())


def test_a_large_load_leaves_the_schema_as_it_was() -> None:
    """Large loads drop secondary indexes (and PostgreSQL foreign keys) and rebuild them."""
    before = schema()
    assert any(row[0] == "index" and row[1] == "lead_email" for row in before)
    load(1500)
    assert schema() == before
