"""The assignment engine: strategies, caps, absences, shifts, rules, with a fake clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.notify.models import Notification
from leadrelay.qualify.models import Answers, Bant
from leadrelay.sales.engine import assign_next, band_of, candidates, lead_language
from leadrelay.sales.models import (
    Absence,
    Assignment,
    AssignmentRule,
    AssignmentSettings,
    ManagerProfile,
)
from leadrelay.sla.models import Calendar
from tests.conftest import T0
from tests.sales.conftest import MakeMql

Auto = Callable[..., AssignmentSettings]


def managers(n: int, **profile: object) -> list[User]:
    """Fresh sales managers (the cast's two are deactivated so counts are exact)."""
    User.objects.filter(role=Role.SALES).update(is_active=False)
    people = [User.objects.create_user(f"m{i}", password=None, role=Role.SALES) for i in range(n)]
    if profile:
        for person in people:
            ManagerProfile.objects.create(user=person, **profile)
    return people


def owners(leads: list[Lead]) -> list[int | None]:
    return [Lead.objects.get(pk=lead.pk).manager_id for lead in leads]


def test_manual_mode_leaves_the_queue_to_the_head(make_mql: MakeMql) -> None:
    lead = make_mql()
    assert assign_next(now=T0) == 0
    assert Lead.objects.get(pk=lead.pk).status == Status.AWAITING_ASSIGNMENT


def test_round_robin_takes_turns_and_remembers_the_turn(make_mql: MakeMql, auto: Auto) -> None:
    auto("round_robin")
    a, b, c = managers(3)
    leads = [make_mql() for _ in range(4)]
    assert assign_next(now=T0) == 4
    assert owners(leads) == [a.pk, b.pk, c.pk, a.pk]
    assert AssignmentSettings.get().last_manager_id == a.pk
    nxt = make_mql()
    assign_next(now=T0)
    assert owners([nxt]) == [b.pk]


def test_an_assignment_leaves_a_row_an_event_and_a_notice(make_mql: MakeMql, auto: Auto) -> None:
    auto("round_robin")
    (m,) = managers(1)
    lead = make_mql(company="ООО Ромашка")
    assign_next(now=T0)
    lead.refresh_from_db()
    assert lead.status == Status.ASSIGNED and lead.manager_id == m.pk
    row = Assignment.objects.get(lead=lead)
    assert (row.how, row.by, row.strategy) == ("auto", None, "round_robin")
    assert row.why["chosen"] == {"id": m.pk, "name": str(m)}
    assert row.why["because"].startswith("round_robin")
    status, event = LeadEvent.objects.filter(lead=lead).order_by("-id")[:2][::-1]
    assert status.kind == "status" and status.to_status == "assigned" and status.actor is None
    assert event.kind == "assignment" and event.at == status.at == T0
    assert event.data == {
        "assignment": row.pk,
        "manager": m.pk,
        "how": "auto",
        "strategy": "round_robin",
        "rule": None,
    }
    note = Notification.objects.get(user=m, kind="lead_assigned_manager")
    assert note.data == {"company": "ООО Ромашка"} and note.lead_id == lead.pk


def test_weighted_shares_follow_the_weights_without_runs(make_mql: MakeMql, auto: Auto) -> None:
    auto("weighted")
    a, b = managers(2)
    ManagerProfile.objects.create(user=a, weight=2)
    ManagerProfile.objects.create(user=b, weight=1)
    leads = [make_mql() for _ in range(6)]
    assign_next(now=T0, limit=3)
    assign_next(now=T0, limit=3)  # the credits carry over between runs
    got = owners(leads)
    assert Counter(got) == {a.pk: 4, b.pk: 2}
    assert got[:3] == [a.pk, b.pk, a.pk]  # smooth: never three of a's in a row


def test_least_loaded_goes_to_the_fewest_open_leads(
    make_mql: MakeMql, auto: Auto, cast: dict[str, User]
) -> None:
    a, b = managers(2)
    # a already has two open leads (given by hand while the mode was manual).
    from leadrelay.sales.engine import assign

    for _ in range(2):
        assign(cast["head_sales"], make_mql().pk, a, how="manual", now=T0)
    auto("least_loaded")
    leads = [make_mql() for _ in range(4)]
    assign_next(now=T0)
    assert owners(leads) == [b.pk, b.pk, a.pk, b.pk]  # ties go to the lower id
    why = Assignment.objects.filter(lead=leads[0]).get().why
    assert why["because"] == "least_loaded: 0 open leads"
    assert {c["id"]: c["open"] for c in why["considered"]} == {a.pk: 2, b.pk: 0}


def test_a_manager_at_cap_is_skipped(make_mql: MakeMql, auto: Auto) -> None:
    auto("round_robin", default_cap=1)
    a, b = managers(2)
    ManagerProfile.objects.create(user=b, cap=3)
    leads = [make_mql() for _ in range(5)]
    assert assign_next(now=T0) == 4
    assert owners(leads) == [a.pk, b.pk, b.pk, b.pk, None]
    lead = leads[-1]
    decision = candidates(lead, AssignmentSettings.get(), T0)
    assert decision.manager is None
    assert {s["reason"] for s in decision.why["skipped"]} == {"at_cap"}
    assert decision.why["because"] == "nobody_eligible"


def test_absence_covering_now_skips_and_an_ended_one_does_not(
    make_mql: MakeMql, auto: Auto
) -> None:
    auto("round_robin")
    a, b = managers(2)
    Absence.objects.create(user=a, starts_at=T0 - timedelta(days=3), ends_at=T0 + timedelta(days=1))
    Absence.objects.create(user=b, starts_at=T0 - timedelta(days=9), ends_at=T0 - timedelta(days=2))
    lead = make_mql()
    decision = candidates(lead, AssignmentSettings.get(), T0)
    assert decision.manager == b
    assert decision.why["skipped"] == [{"id": a.pk, "name": str(a), "reason": "absent"}]
    # After the vacation a is back.
    later = candidates(lead, AssignmentSettings.get(), T0 + timedelta(days=2))
    assert [c["id"] for c in later.why["considered"]] == [a.pk, b.pk]


def test_outside_the_shift_a_manager_is_skipped(make_mql: MakeMql, auto: Auto) -> None:
    auto("round_robin")
    a, b = managers(2)
    cal = Calendar.objects.create(
        name="Day shift",
        timezone="Europe/Moscow",
        hours={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    )
    ManagerProfile.objects.create(user=a, calendar=cal)
    lead = make_mql()
    # T0 is Monday 12:00 in Moscow: on shift.
    assert candidates(lead, AssignmentSettings.get(), T0).manager == a
    night = T0 + timedelta(hours=11)  # 23:00 in Moscow
    decision = candidates(lead, AssignmentSettings.get(), night)
    assert decision.manager == b
    assert decision.why["skipped"][0]["reason"] == "off_shift"


def test_manual_only_managers_get_nothing_automatically(make_mql: MakeMql, auto: Auto) -> None:
    auto("round_robin")
    (a,) = managers(1, auto=False)
    lead = make_mql()
    assert assign_next(now=T0) == 0
    assert Lead.objects.get(pk=lead.pk).status == Status.AWAITING_ASSIGNMENT
    decision = candidates(lead, AssignmentSettings.get(), T0)
    assert decision.why["skipped"] == [{"id": a.pk, "name": str(a), "reason": "manual_only"}]


def test_nobody_eligible_leaves_the_lead_waiting(make_mql: MakeMql, auto: Auto) -> None:
    auto("least_loaded")
    managers(0)
    lead = make_mql()
    assert assign_next(now=T0) == 0
    assert not Assignment.objects.filter(lead=lead).exists()
    decision = candidates(lead, AssignmentSettings.get(), T0)
    assert decision.manager is None and decision.why["chosen"] is None


def _rule(name: str, people: list[User], order: int = 0, **cond: object) -> AssignmentRule:
    rule = AssignmentRule.objects.create(name=name, order=order, **cond)
    rule.managers.set(people)
    return rule


def test_a_rule_by_service_restricts_the_candidates(make_mql: MakeMql, auto: Auto) -> None:
    auto("round_robin")
    a, b = managers(2)
    seo = Service.objects.order_by("pk")[0]
    other = Service.objects.order_by("pk")[1]
    rule = _rule("SEO to b", [b], service=seo, strategy="least_loaded")
    on = make_mql(service=seo)
    off = make_mql(service=other)
    decision = candidates(on, AssignmentSettings.get(), T0)
    assert decision.manager == b and decision.rule == rule
    assert decision.strategy == "least_loaded"
    assert decision.why["rule"] == {"id": rule.pk, "name": "SEO to b"}
    assert decision.why["skipped"] == [{"id": a.pk, "name": str(a), "reason": "not_in_rule"}]
    assert candidates(off, AssignmentSettings.get(), T0).rule is None
    assign_next(now=T0)
    assert Assignment.objects.get(lead=on).rule == rule
    event = LeadEvent.objects.get(lead=on, kind="assignment")
    assert event.data["rule"] == rule.pk and event.data["strategy"] == "least_loaded"


def test_rules_by_region_budget_band_and_language(make_mql: MakeMql, auto: Auto) -> None:
    auto("round_robin")
    a, b, c, d = managers(4)
    first = _rule("Petersburg", [a], order=1, region="Санкт-Петербург")
    second = _rule("Big budgets", [b], order=2, budget_band="1m_3m")
    third = _rule("English", [c], order=3, language="en")
    lead = make_mql(name="Ирина")
    settings = AssignmentSettings.get()
    assert candidates(lead, settings, T0).rule is None  # Москва, 500,000, ru
    common = Answers.objects.get(lead=lead, questionnaire__common=True)
    common.values = {**common.values, "region": " санкт-петербург "}
    common.save()
    assert candidates(lead, settings, T0).rule == first
    common.values = {**common.values, "region": "Москва"}
    common.save()
    Bant.objects.filter(lead=lead).update(budget_amount=Decimal("1200000"), budget_band="")
    assert candidates(lead, settings, T0).rule == second
    Bant.objects.filter(lead=lead).update(budget_amount=None, budget_band="gt_3m")
    assert candidates(lead, settings, T0).rule is None
    english = make_mql(name="John Smith", company="Acme", message="We need SEO")
    assert candidates(english, settings, T0).rule == third
    assert candidates(english, settings, T0).manager == c
    assert d  # the fourth manager only takes what no rule claims


def test_language_of_a_lead_and_a_managers_languages(make_mql: MakeMql, auto: Auto) -> None:
    auto("round_robin")
    a, b = managers(2)
    ManagerProfile.objects.create(user=a, languages=["en"])
    lead = make_mql(name="Ирина")
    decision = candidates(lead, AssignmentSettings.get(), T0)
    assert decision.manager == b
    assert decision.why["skipped"][0]["reason"] == "language"
    assert lead_language(Lead(name="Irina", company="", message="", extra={"language": "ru"})) == (
        "ru"
    )
    assert lead_language(Lead(name="Irina", company="Acme", message="")) == "en"


@pytest.mark.parametrize(
    ("amount", "currency", "band"),
    [
        (Decimal("99999"), "RUB", "lt_100k"),
        (Decimal("100000"), "RUB", "100k_300k"),
        (Decimal("999999.99"), "RUB", "300k_1m"),
        (Decimal("3000000"), "RUB", "gt_3m"),
        (Decimal("5000"), "USD", ""),
        (None, "RUB", ""),
    ],
)
def test_budget_bands_of_an_amount(amount: Decimal | None, currency: str, band: str) -> None:
    assert band_of(amount, currency) == band


def test_the_batch_decides_with_a_fixed_number_of_queries(
    make_mql: MakeMql, auto: Auto, django_assert_max_num_queries: Callable[..., object]
) -> None:
    """Reading the team costs the same for 3 leads as for 30: only the writes grow."""
    auto("least_loaded")
    managers(3)
    for _ in range(3):
        make_mql()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assign_next(now=T0)
    for _ in range(30):
        make_mql()
    with CaptureQueriesContext(connection) as big:
        assign_next(now=T0)
    per_lead = (len(big) - len(small)) / 27
    assert len(small) - 3 * per_lead < 15  # the fixed part: settings, team, loads, rules
