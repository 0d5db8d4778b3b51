"""The demo's SDR workspace: BANT and answers behind every hand-off, reason codes, the
records of referrals, routings and returns, and a queue with life in it."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import LazySettings

from leadrelay import demo
from leadrelay.accounts.models import Team, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Partner
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.notify.models import Notification
from leadrelay.qualify import fields as qf
from leadrelay.qualify.answers import clean_answers, handoff_missing, questionnaires_for
from leadrelay.qualify.models import (
    Answers,
    Bant,
    DepartmentContact,
    QuestionnaireVersion,
    ReasonCode,
    Referral,
    Return,
    Routing,
    SdrQueueSettings,
)
from leadrelay.qualify.queue import incoming

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # a Monday, 15:00 in Moscow
RECENT = NOW - timedelta(days=2)  # the demo keeps the notifications of the last two days

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings: LazySettings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def load(leads: int, seed: int = 7) -> dict[str, Any]:
    return demo.load_demo(leads, seed, False, now=NOW, intake=False)


def history() -> dict[int, list[LeadEvent]]:
    out: dict[int, list[LeadEvent]] = defaultdict(list)
    for e in LeadEvent.objects.order_by("lead_id", "at", "id"):
        out[e.lead_id].append(e)
    return out


def codes(kind: str) -> set[str]:
    return set(ReasonCode.objects.filter(kind=kind, active=True).values_list("code", flat=True))


def sdr_at(events: list[LeadEvent], at: datetime) -> int | None:
    """The lead's SDR at ``at``, from its events."""
    sdr = None
    for e in events:
        if e.at > at:
            break
        if e.kind in ("status", "touch", "owner"):
            sdr = e.data.get("sdr", sdr)
    return sdr


@pytest.fixture
def data() -> dict[str, Any]:
    summary = load(1500)
    return {
        "summary": summary,
        "leads": {lead.pk: lead for lead in Lead.objects.select_related("service")},
        "events": history(),
        "users": {u.pk: u for u in User.objects.all()},
    }


def test_every_handed_off_lead_is_qualified_against_a_real_version(data: dict[str, Any]) -> None:
    leads, events, users = data["leads"], data["events"], data["users"]
    versions = {v.pk: v for v in QuestionnaireVersion.objects.all()}
    answers: dict[int, list[Answers]] = defaultdict(list)
    for a in Answers.objects.order_by("id"):
        answers[a.lead_id].append(a)
    bants = {b.lead_id: b for b in Bant.objects.select_related("need")}
    handed_off = [lead for lead in leads.values() if lead.reached_mql_at is not None]
    assert len(handed_off) > 0.5 * len(leads)
    named = 0
    for lead in handed_off:
        # The real gate would let it through today: service, BANT, every required answer.
        assert handoff_missing(lead) == [], lead.pk
        history_ = events[lead.pk]
        first = next(
            e for e in history_ if e.kind == "status" and e.to_status == Status.AWAITING_ASSIGNMENT
        )
        saves = [e for e in history_ if e.kind == "qualification"]
        assert saves and all(e.at < first.at for e in saves), lead.pk
        # Each save by the SDR who had the request then, and what the rows say.
        for save in saves:
            assert save.actor_id == sdr_at(history_, save.at), lead.pk
            assert users[save.actor_id].role == Role.SDR
        bant_save = [e for e in saves if e.data.get("bant")]
        assert len(bant_save) == 1
        # A request that came without a service: the SDR named it first (set_service).
        naming = [e for e in saves if "service" in e.data]
        if naming:
            (name,) = naming
            assert lead.service is not None
            assert name.data == {"service": lead.service.code, "service_before": None}
            assert name.at < bant_save[0].at
            named += 1
        bant = bants[lead.pk]
        assert (bant.updated_at, bant.updated_by_id) == (bant_save[0].at, bant_save[0].actor_id)
        expected = {q.pk for q in questionnaires_for(lead)}
        assert {a.questionnaire_id for a in answers[lead.pk]} == expected, lead.pk
        for given in answers[lead.pk]:
            version = versions[given.version_id]
            assert version.questionnaire_id == given.questionnaire_id
            # Stored as save_answers stores them: cleaning them again changes nothing.
            assert clean_answers(qf.fields_of(version.fields), given.values) == given.values
            (save,) = [e for e in saves if e.data.get("questionnaire") == given.questionnaire_id]
            assert save.data == {
                "questionnaire": given.questionnaire_id,
                "version": version.number,
                "changed": sorted(given.values),
            }
            assert (given.updated_at, given.updated_by_id) == (save.at, save.actor_id)
    # The forms that do not ask for the service leave it to the SDR: ~5% of requests.
    assert 0.02 * len(handed_off) <= named <= 0.08 * len(handed_off), named
    # Nobody fills a questionnaire for a request that never reached the SDR's desk.
    qualified = set(bants) | set(answers)
    for lead_id in qualified:
        assert any(
            e.kind == "status" and e.to_status == Status.SDR_PROCESSING for e in events[lead_id]
        )


def test_answers_are_varied_and_agree_with_the_request(data: dict[str, Any]) -> None:
    leads = data["leads"]
    seen: dict[str, Counter[str]] = defaultdict(Counter)
    optional_missing = 0
    for given in Answers.objects.select_related("questionnaire__service", "version"):
        lead = leads[given.lead_id]
        service = given.questionnaire.service
        assert service is None or service.pk == lead.service_id
        for f in qf.fields_of(given.version.fields):
            value = given.values.get(f.key)
            if value is None:
                optional_missing += not f.required
                continue
            seen[f.key][str(value)] += 1
        site = given.values.get("site_url")
        if site:  # the site the form gave, else the one the SDR asked for
            assert site == lead.website or (not lead.website and site.startswith("https://"))
    assert optional_missing > 0
    for key in ("project_type", "region", "audience", "task", "ad_budget", "platforms"):
        assert len(seen[key]) >= 3, (key, seen[key])
    bants = list(Bant.objects.all())
    assert Counter(b.currency for b in bants)["RUB"] > 0.7 * len(bants)
    assert any(b.budget_amount is not None for b in bants)
    assert any(b.budget_band for b in bants)
    assert {b.decision_maker for b in bants} >= {True, False}
    assert len({b.authority_role for b in bants}) >= 5


def test_ends_carry_their_codes_and_records(data: dict[str, Any]) -> None:
    leads, events = data["leads"], data["events"]
    disqualified = Counter(
        lead.end_reason_code for lead in leads.values() if lead.status == Status.DISQUALIFIED
    )
    assert set(disqualified) <= codes("disqualify")
    for code in ("spam", "not_our_service", "budget_too_small", "unreachable", "duplicate"):
        assert disqualified[code] > 0, disqualified
    lost = {lead.end_reason_code for lead in leads.values() if lead.status == Status.LOST}
    assert lost <= codes("lost") and len(lost) >= 4
    assert not [
        lead.pk
        for lead in leads.values()
        if lead.end_reason_code and lead.status not in (Status.DISQUALIFIED, Status.LOST)
    ]

    partners = {p.pk: p for p in Partner.objects.all()}
    assert all(p.contact_email and p.commission_percent > 0 for p in partners.values())
    referrals: dict[int, list[Referral]] = defaultdict(list)
    for referral in Referral.objects.order_by("referred_at"):
        referrals[referral.lead_id].append(referral)
    routings: dict[int, list[Routing]] = defaultdict(list)
    for routing in Routing.objects.order_by("routed_at"):
        routings[routing.lead_id].append(routing)
    for lead_id, history_ in events.items():
        moves = [e for e in history_ if e.kind == "status"]
        to_partner = [e for e in moves if e.to_status == Status.REFERRED]
        assert [
            (r.partner_id, r.reason, r.referred_at, r.referred_by_id, r.commission_percent)
            for r in referrals.get(lead_id, [])
        ] == [
            (
                e.data["partner"],
                e.reason,
                e.at,
                e.actor_id,
                partners[e.data["partner"]].commission_percent,
            )
            for e in to_partner
        ], lead_id
        routed = [e for e in moves if e.to_status == Status.ROUTED]
        assert [
            (r.department_id, r.reason, r.routed_at, r.routed_by_id)
            for r in routings.get(lead_id, [])
        ] == [(e.data["routed_to"], e.reason, e.at, e.actor_id) for e in routed], lead_id
    assert referrals and routings
    departments = set(Routing.objects.values_list("department_id", flat=True))
    assert len(departments) == 2
    for department in departments:
        assert DepartmentContact.objects.filter(department_id=department).exists()


def test_returns_agree_with_the_events(data: dict[str, Any]) -> None:
    leads, events, users = data["leads"], data["events"], data["users"]
    all_returns = list(Return.objects.order_by("id"))
    states = Counter(r.state for r in all_returns)
    assert set(states) == set(Return.State.values), states
    assert states["accepted"] > states["overturned"]
    heads = {Role.HEAD_MARKETING, Role.HEAD_SALES}
    for ret in all_returns:
        history_ = events[ret.lead_id]
        (move,) = [e for e in history_ if e.kind == "status" and e.at == ret.returned_at]
        assert (move.from_status, move.to_status) == (ret.from_status, Status.SDR_PROCESSING)
        assert ret.returned_by is not None
        assert users[ret.returned_by_id].role in (Role.SALES, Role.HEAD_SALES)
        assert move.actor_id == ret.returned_by_id
        assert move.data["reason_code"] == ret.reason_code and ret.reason_code in codes("return")
        assert move.reason == ret.reason
        after = [e for e in history_ if e.kind == "return" and e.data["return"] == ret.pk]
        assert all(e.data["reason_code"] == ret.reason_code for e in after)
        trail = [e.data["state"] for e in after]
        expected = {
            "open": [],
            "accepted": ["accepted"],
            "disputed": ["disputed"],
            "upheld": ["disputed", "upheld"],
            "overturned": ["disputed", "overturned"],
        }[ret.state]
        assert trail == expected, (ret.pk, trail)
        if after:
            answer = after[0]
            assert (answer.at, answer.actor_id, answer.reason) == (
                ret.decided_at,
                ret.sdr_id,
                ret.sdr_note,
            )
        if len(after) == 2:
            decision = after[1]
            assert (decision.at, decision.actor_id, decision.reason) == (
                ret.judged_at,
                ret.judge_id,
                ret.judge_note,
            )
            assert users[decision.actor_id].role in heads
        if ret.state == Return.State.OVERTURNED:
            (back,) = [e for e in history_ if e.kind == "status" and e.at == ret.judged_at]
            assert (back.to_status, back.actor_id) == (Status.AWAITING_ASSIGNMENT, ret.judge_id)
        if ret.state in (Return.State.OPEN, Return.State.DISPUTED):
            # Still waiting: the request is with the SDR, and this is its latest return.
            lead = leads[ret.lead_id]
            assert lead.status == Status.SDR_PROCESSING and lead.sdr_id == ret.sdr_id
            assert history_[-1].at <= NOW
            assert not [e for e in history_ if e.kind == "status" and e.at > ret.returned_at]
            assert ret.pk == max(r.pk for r in all_returns if r.lead_id == ret.lead_id)

    # The SDR hears of a return, the heads of a dispute, both sides of a decision.
    notes = {(n.kind, n.user_id, n.dedup_key) for n in Notification.objects.all()}
    active_heads = set(
        User.objects.filter(role__in=heads, is_active=True).values_list("pk", flat=True)
    )
    for ret in all_returns:
        if ret.returned_at >= RECENT:
            key = f"return-{ret.pk}:{ret.sdr_id}"
            assert ("lead_returned", ret.sdr_id, key) in notes
        if ret.decided_at is not None and ret.decided_at >= RECENT and ret.state != "accepted":
            for head in active_heads:
                assert ("return_disputed", head, f"return-{ret.pk}-disputed:{head}") in notes
        if ret.judged_at is not None and ret.judged_at >= RECENT:
            assert ("return_judged", ret.sdr_id, f"return-{ret.pk}-judged:{ret.sdr_id}") in notes
    assert any(kind == "lead_returned" for kind, _, _ in notes)


def test_the_sdr_workspace_is_alive_at_the_default_size() -> None:
    load(4200)
    assert SdrQueueSettings.get().mode == SdrQueueSettings.Mode.MANUAL
    on_shift = set(User.objects.filter(on_shift=True).values_list("username", flat=True))
    assert on_shift == {"sdr1", "sdr2"}
    team = Team.objects.get(name="SDR")
    assert team.lead is not None and team.lead.username == "sdr1"
    # A few dozen open requests: new ones nobody has taken, and ones being worked.
    open_ = Lead.objects.filter(status__in=(Status.NEW, Status.SDR_PROCESSING))
    assert 20 <= open_.count() <= 80, open_.count()
    assert open_.filter(status=Status.NEW, sdr__isnull=True).exists()
    assert open_.filter(status=Status.SDR_PROCESSING, sdr__isnull=False).exists()
    # Every SDR has a queue, the lead SDR and the head of marketing see the team's.
    head = User.objects.get(username="head_marketing")
    assert incoming(head).count() == open_.count()
    for sdr in User.objects.filter(role=Role.SDR):
        mine = incoming(sdr)
        assert mine.filter(sdr=sdr).exists() and mine.filter(sdr__isnull=True).exists()
    lead_sdr = User.objects.get(username="sdr1")
    assert incoming(lead_sdr).count() == open_.count()
    # Requests being qualified now: some have it all, some part of it.
    fresh = [
        lead
        for lead in open_.filter(status=Status.SDR_PROCESSING, reached_mql_at__isnull=True)
        if Bant.objects.filter(lead=lead).exists()
    ]
    complete = [lead for lead in fresh if not handoff_missing(lead)]
    assert complete and len(complete) < len(fresh), (len(complete), len(fresh))
    # Returns the SDRs have to answer and disputes the heads have to decide, right now.
    waiting = Return.objects.filter(state__in=(Return.State.OPEN, Return.State.DISPUTED))
    assert waiting.filter(state=Return.State.OPEN).count() >= 2
    assert waiting.filter(state=Return.State.DISPUTED).count() >= 2
    assert waiting.filter(returned_at__gte=RECENT).exists()


def test_the_same_seed_gives_the_same_answers_and_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    def shape(first_lead: int) -> list[Any]:
        def rows(model: Any, *names: str) -> list[tuple[Any, ...]]:
            found = model.objects.filter(lead_id__gt=first_lead).order_by("id")
            return list(found.values_list(*names))

        return [
            rows(Bant, "budget_amount", "budget_band", "authority_role", "need", "updated_at"),
            rows(Answers, "questionnaire", "version", "values", "updated_at"),
            rows(Return, "state", "reason_code", "returned_at", "decided_at", "judged_at"),
            rows(Referral, "partner", "reason", "referred_at"),
            rows(Routing, "department", "reason", "routed_at"),
        ]

    load(600, seed=3)
    first = shape(0)
    assert all(first)
    mark = Lead.objects.order_by("-id").values_list("id", flat=True).first() or 0
    monkeypatch.setattr(demo, "_PIPELINE_MIN_LEADS", 0)  # and made in a forked process
    load(600, seed=3)
    assert shape(mark) == first
