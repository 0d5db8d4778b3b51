"""Who gets an MQL: the head's strategy and rules, each manager's cap, absences and shift.

The engine works on a ``Pool``: everything it needs about the sales team (profiles,
absences, shift calendars, open-lead counts, rules), read with a fixed number of
queries. A decision is made in memory and the pool is updated as leads are given, so a
burst of thousands of MQLs costs the writes, not a recount per lead.

``assign`` is the one way a lead gets (or changes) its sales manager; a plain move into
``assigned`` (a manager taking a lead, the API's transition with ``manager``) leaves the
same record through the ``on_change`` hook.
"""

from __future__ import annotations

import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.errors import (
    Forbidden,
    InvalidInput,
    LeadError,
    TransitionNotAllowed,
    VersionConflict,
)
from leadrelay.leads.hooks import Change
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import MoveOptions, _changed, move_locked
from leadrelay.notify.outbox import notify
from leadrelay.qualify.models import Answers, Bant, BudgetBand
from leadrelay.sales.access import SALES_OPEN, locked_lead
from leadrelay.sales.models import (
    Absence,
    Assignment,
    AssignmentRule,
    AssignmentSettings,
    ManagerProfile,
    Strategy,
)
from leadrelay.sla.calendar import BusinessCalendar

log = logging.getLogger("leadrelay.sales")
BATCH = 200
# Set while ``assign`` moves a lead itself, so the hook does not record it a second time.
_ASSIGNING: ContextVar[bool] = ContextVar("leadrelay_assigning", default=False)
_CYRILLIC = re.compile("[а-яё]", re.IGNORECASE)
# The upper bounds (roubles) of the budget bands, lowest first; above the last: over 3m.
_BANDS = (
    (Decimal(100_000), BudgetBand.UNDER_100K),
    (Decimal(300_000), BudgetBand.FROM_100K),
    (Decimal(1_000_000), BudgetBand.FROM_300K),
    (Decimal(3_000_000), BudgetBand.FROM_1M),
)


def may_assign(user: User) -> bool:
    """The head of sales and admins hand leads to managers and see the queue."""
    return user.is_superuser or user.role in (Role.HEAD_SALES, Role.ADMIN)


# What the engine reads about a lead ----------------------------------------------------


def lead_language(lead: Lead) -> str:
    """``ru`` or ``en``: the language the request stated, else Cyrillic in its words."""
    stated = str((lead.extra or {}).get("language", "")).strip().lower()
    if stated[:2] in ("ru", "en"):
        return stated[:2]
    text = " ".join((lead.name, lead.company, lead.message or ""))
    return "ru" if _CYRILLIC.search(text) else "en"


def band_of(amount: Decimal | None, currency: str = "RUB") -> str:
    """The budget band of an amount; the bands are in roubles, so other currencies: ''."""
    if amount is None or currency != "RUB":
        return ""
    for bound, band in _BANDS:
        if amount < bound:
            return str(band)
    return str(BudgetBand.OVER_3M)


@dataclass(frozen=True)
class Facts:
    """What the rules compare: the lead's service, region, budget band and language."""

    service_id: int | None
    region: str
    budget_band: str
    language: str


def facts_of(leads: list[Lead]) -> dict[int, Facts]:
    """The facts of many leads in two queries (common answers, BANT)."""
    ids = [lead.pk for lead in leads]
    regions: dict[int, str] = {}
    for lead_id, values in Answers.objects.filter(
        lead_id__in=ids, questionnaire__common=True
    ).values_list("lead_id", "values"):
        region = (values or {}).get("region")
        regions[lead_id] = region.strip() if isinstance(region, str) else ""
    bands: dict[int, str] = {}
    for lead_id, band, amount, currency in Bant.objects.filter(lead_id__in=ids).values_list(
        "lead_id", "budget_band", "budget_amount", "currency"
    ):
        bands[lead_id] = band or band_of(amount, currency)
    return {
        lead.pk: Facts(
            service_id=lead.service_id,
            region=regions.get(lead.pk, ""),
            budget_band=bands.get(lead.pk, ""),
            language=lead_language(lead),
        )
        for lead in leads
    }


# The team as the engine sees it ---------------------------------------------------------


@dataclass
class Member:
    """One active sales manager with what the engine weighs (no profile: the defaults)."""

    user: User
    auto: bool
    weight: int
    cap: int
    languages: list[str]
    shift: BusinessCalendar | None
    absence: Absence | None

    @property
    def id(self) -> int:
        return int(self.user.pk)

    @property
    def name(self) -> str:
        return str(self.user)


@dataclass(frozen=True)
class RuleView:
    rule: AssignmentRule
    managers: frozenset[int]

    def matches(self, facts: Facts) -> bool:
        r = self.rule
        return (
            (r.service_id is None or r.service_id == facts.service_id)
            and (not r.region or r.region.strip().casefold() == facts.region.casefold())
            and (not r.budget_band or r.budget_band == facts.budget_band)
            and (not r.language or r.language == facts.language)
        )


@dataclass
class Pool:
    """The team, their loads and the rotation state at one moment; updated in memory
    as leads are given, so a batch decides each lead on what the batch already did."""

    settings: AssignmentSettings
    now: datetime
    members: list[Member]
    open: dict[int, int]
    rules: list[RuleView]
    cursor: int | None
    credits: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: AssignmentSettings, now: datetime) -> Pool:
        """Six queries, whatever the size of the team or the queue."""
        users = list(User.objects.filter(role=Role.SALES, is_active=True).order_by("pk"))
        ids = [u.pk for u in users]
        profiles = {
            p.user_id: p
            for p in ManagerProfile.objects.filter(user_id__in=ids)
            .select_related("calendar")
            .prefetch_related("calendar__days")
        }
        away: dict[int, Absence] = {}
        for absence in Absence.objects.filter(
            user_id__in=ids, starts_at__lte=now, ends_at__gt=now
        ).order_by("-ends_at"):
            away.setdefault(absence.user_id, absence)
        members = []
        for user in users:
            profile = profiles.get(user.pk)
            cal = profile.calendar if profile is not None else None
            members.append(
                Member(
                    user=user,
                    auto=profile.auto if profile is not None else True,
                    weight=max(1, profile.weight) if profile is not None else 1,
                    cap=(
                        profile.cap
                        if profile is not None and profile.cap is not None
                        else settings.default_cap
                    ),
                    languages=list(profile.languages or []) if profile is not None else [],
                    shift=cal.business_calendar() if cal is not None else None,
                    absence=away.get(user.pk),
                )
            )
        return cls(
            settings=settings,
            now=now,
            members=members,
            open=open_counts(ids),
            rules=[
                RuleView(r, frozenset(m.pk for m in r.managers.all()))
                for r in AssignmentRule.objects.filter(active=True).prefetch_related("managers")
            ],
            cursor=settings.last_manager_id,
            credits={str(k): int(v) for k, v in (settings.credits or {}).items()},
        )

    def on_shift(self, member: Member) -> bool:
        return member.shift is None or member.shift.is_working_time(self.now)

    def given(self, decision: Decision) -> None:
        """Count a lead the decision gave: the load, the cursor, the credits."""
        assert decision.manager is not None
        self.open[decision.manager.pk] = self.open.get(decision.manager.pk, 0) + 1
        self.cursor = decision.manager.pk
        if decision.credits is not None:
            self.credits = decision.credits


def open_counts(manager_ids: list[int]) -> dict[int, int]:
    """Open sales leads per manager, one grouped query (the ``lead_manager_status`` index)."""
    rows = (
        Lead.objects.filter(status__in=SALES_OPEN, manager_id__in=manager_ids)
        .values("manager_id")
        .annotate(n=Count("id"))
        .values_list("manager_id", "n")
    )
    counts = {pk: 0 for pk in manager_ids}
    counts.update({int(pk): int(n) for pk, n in rows})
    return counts


# Deciding -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """Who gets the lead (None: nobody eligible) and why, as stored in ``Assignment.why``."""

    manager: User | None
    strategy: str
    rule: AssignmentRule | None
    why: dict[str, Any]
    # Weighted round-robin's credits after this choice (None: other strategies).
    credits: dict[str, int] | None = None


def _skip_reason(pool: Pool, member: Member, facts: Facts, rule: RuleView | None) -> str:
    if rule is not None and member.id not in rule.managers:
        return "not_in_rule"
    if not member.auto:
        return "manual_only"
    if member.absence is not None:
        return "absent"
    if not pool.on_shift(member):
        return "off_shift"
    if member.languages and facts.language not in member.languages:
        return "language"
    if pool.open.get(member.id, 0) >= member.cap:
        return "at_cap"
    return ""


def decide(pool: Pool, facts: Facts) -> Decision:
    """The engine's choice for one lead, from the pool as it stands (nothing written)."""
    rule = next((r for r in pool.rules if r.matches(facts)), None)
    strategy = (rule.rule.strategy if rule else "") or pool.settings.strategy
    eligible: list[Member] = []
    skipped = []
    for member in pool.members:
        reason = _skip_reason(pool, member, facts, rule)
        if reason:
            skipped.append({"id": member.id, "name": member.name, "reason": reason})
        else:
            eligible.append(member)
    why: dict[str, Any] = {
        "strategy": strategy,
        "rule": {"id": rule.rule.pk, "name": rule.rule.name} if rule else None,
        "considered": [
            {
                "id": m.id,
                "name": m.name,
                "open": pool.open.get(m.id, 0),
                "cap": m.cap,
                "weight": m.weight,
            }
            for m in eligible
        ],
        "skipped": skipped,
        "chosen": None,
        "because": "nobody_eligible",
    }
    if not eligible:
        return Decision(None, strategy, rule.rule if rule else None, why)
    credits = None
    if strategy == Strategy.LEAST_LOADED:
        chosen = min(eligible, key=lambda m: (pool.open.get(m.id, 0), m.id))
        why["because"] = f"least_loaded: {pool.open.get(chosen.id, 0)} open leads"
    elif strategy == Strategy.WEIGHTED:
        chosen, credits = _smooth_weighted(eligible, pool.credits)
        why["because"] = f"weighted: weight {chosen.weight} of {sum(m.weight for m in eligible)}"
    else:
        after = [m for m in eligible if pool.cursor is None or m.id > pool.cursor]
        chosen = (after or eligible)[0]
        why["because"] = f"round_robin: next after {pool.cursor or '-'}"
    why["chosen"] = {"id": chosen.id, "name": chosen.name}
    return Decision(chosen.user, strategy, rule.rule if rule else None, why, credits)


def _smooth_weighted(
    eligible: list[Member], credits: dict[str, int]
) -> tuple[Member, dict[str, int]]:
    """Smooth weighted round-robin (as nginx does): each eligible manager gains their
    weight, the richest is chosen and pays the total. Over any run the shares match the
    weights, without sending a heavy manager several leads in a row."""
    new = dict(credits)
    total = sum(m.weight for m in eligible)
    for m in eligible:
        new[str(m.id)] = new.get(str(m.id), 0) + m.weight
    chosen = max(eligible, key=lambda m: (new[str(m.id)], -m.id))
    new[str(chosen.id)] -= total
    return chosen, new


def candidates(lead: Lead, settings: AssignmentSettings, now: datetime) -> Decision:
    """The engine's decision for one lead right now (reads, writes nothing)."""
    return decide(Pool.load(settings, now), facts_of([lead])[lead.pk])


def preview(leads: list[Lead], settings: AssignmentSettings, now: datetime) -> list[Decision]:
    """What a run would decide for these leads, in this order (the queue page's column):
    each decision counts the ones before it, as ``assign_next`` would."""
    pool = Pool.load(settings, now)
    facts = facts_of(leads)
    out = []
    for lead in leads:
        decision = decide(pool, facts[lead.pk])
        if decision.manager is not None:
            pool.given(decision)
        out.append(decision)
    return out


# Writing --------------------------------------------------------------------------------


def _check_manager(manager: User | None) -> User:
    if manager is None or manager.role != Role.SALES or not manager.is_active:
        message = _("The assignee must be an active sales manager.")
        raise InvalidInput(message, field="manager", errors={"manager": message})
    return manager


def assign(
    actor: User | None,
    lead_id: int,
    manager: User | None,
    *,
    how: str,
    strategy: str = "",
    rule: AssignmentRule | None = None,
    why: dict[str, Any] | None = None,
    version: int | None = None,
    now: datetime | None = None,
) -> Lead:
    """Give the lead to ``manager``: an MQL awaiting assignment moves to ``assigned``; a
    lead already in sales (assigned … contract) is reassigned, its version bumped.

    ``actor`` None is the engine. Raises ``Forbidden`` (not the head of sales or an
    admin), ``InvalidInput`` (``manager`` not an active sales manager),
    ``VersionConflict`` (stale ``version``), ``TransitionNotAllowed`` (the lead is not
    awaiting a manager nor in sales' hands).
    """
    now = now or timezone.now()
    if actor is not None and not may_assign(actor):
        raise Forbidden(_("Only the head of sales or an admin assigns leads."))
    manager = _check_manager(manager)
    with transaction.atomic():
        if actor is None:
            lead = Lead.objects.select_for_update().get(pk=lead_id)
        else:
            lead = locked_lead(actor, lead_id)
        if version is not None and lead.version != version:
            raise VersionConflict(
                _("The lead was changed by someone else; reload it."),
                current_version=lead.version,
                status=lead.status,
            )
        return _assign_locked(actor, lead, manager, how, strategy, rule, why, now)


def _assign_locked(
    actor: User | None,
    lead: Lead,
    manager: User,
    how: str,
    strategy: str,
    rule: AssignmentRule | None,
    why: dict[str, Any] | None,
    now: datetime,
) -> Lead:
    """The writes of ``assign`` for a caller holding the lead's row lock."""
    if lead.status == Status.AWAITING_ASSIGNMENT:
        token = _ASSIGNING.set(True)
        try:
            move_locked(
                actor,
                lead,
                Status.ASSIGNED,
                reason="",
                options=MoveOptions(manager=manager),
                now=now,
                role_checked=True,
            )
        finally:
            _ASSIGNING.reset(token)
        record(lead, manager, actor, how, now, strategy=strategy, rule=rule, why=why)
        return lead
    if lead.status not in SALES_OPEN:
        raise TransitionNotAllowed(
            _("Only a lead awaiting a manager or with one can be assigned; this one is “%(s)s”.")
            % {"s": Status(lead.status).label}
        )
    if lead.manager_id == manager.pk:
        return lead  # already theirs: nothing to record
    previous = lead.manager_id
    version = lead.version + 1
    Lead.objects.filter(pk=lead.pk).update(manager=manager, version=version)
    event = record(
        lead,
        manager,
        actor,
        Assignment.How.REASSIGN,
        now,
        strategy=strategy,
        rule=rule,
        why=why,
        previous=previous,
        version=version,
    )
    _changed(lead, event, actor, now, from_status=lead.status)
    return lead


def record(
    lead: Lead,
    manager: User,
    actor: User | None,
    how: str,
    now: datetime,
    *,
    strategy: str = "",
    rule: AssignmentRule | None = None,
    why: dict[str, Any] | None = None,
    previous: int | None = None,
    version: int | None = None,
) -> LeadEvent:
    """The Assignment row, its ``assignment`` event and the manager's notification."""
    assignment = Assignment.objects.create(
        lead=lead,
        manager=manager,
        previous_id=previous,
        at=now,
        by=actor,
        how=how,
        strategy=strategy,
        rule=rule,
        why=why or {},
    )
    data: dict[str, Any] = {
        "assignment": assignment.pk,
        "manager": manager.pk,
        "how": how,
        "strategy": strategy,
        "rule": rule.pk if rule is not None else None,
    }
    if how == Assignment.How.REASSIGN:
        data["version"] = version
        data["previous"] = previous
    event = LeadEvent.objects.create(
        lead=lead, at=now, actor=actor, kind=LeadEvent.Kind.ASSIGNMENT, data=data
    )
    if how != Assignment.How.SELF:  # nobody needs telling what they just did
        notify(
            [manager],
            "lead_assigned_manager",
            dedup_key=f"assigned:{assignment.pk}",
            now=now,
            lead=lead,
            data={"company": lead.company},
        )
    return event


def on_change(change: Change) -> None:
    """A plain move into ``assigned`` (a manager taking a lead, a head's move with a
    manager) leaves the same record as ``assign``: the row, the event, the notice."""
    if _ASSIGNING.get() or change.event.kind != LeadEvent.Kind.STATUS:
        return
    lead = change.lead
    if lead.status != Status.ASSIGNED or lead.manager is None:
        return
    actor = change.actor
    self_take = actor is not None and actor.pk == lead.manager_id
    how = Assignment.How.SELF if self_take else Assignment.How.MANUAL
    record(lead, lead.manager, actor, how, change.now, why={"how": how})


# The worker's job -----------------------------------------------------------------------


def assign_next(
    now: datetime | None = None, limit: int = BATCH, *, even_manual: bool = False
) -> int:
    """Give waiting MQLs (no manager yet, oldest first) to managers by the strategy and
    rules; returns how many were given. Does nothing unless the mode is automatic, or
    ``even_manual`` (the head's "assign all now").

    Race-safe with any number of workers: the settings row is locked for the batch (on
    SQLite the IMMEDIATE transaction already holds the write lock), the leads are taken
    with SKIP LOCKED where the database has it, and each move is conditional on the
    version read. Loads are counted once per batch and kept in memory.
    """
    now = now or timezone.now()
    auto = AssignmentSettings.Mode.AUTO
    if not even_manual and AssignmentSettings.get().mode != auto:
        return 0
    done = 0
    with transaction.atomic():
        settings = AssignmentSettings.objects.select_for_update().order_by("pk").first()
        if settings is None and even_manual:
            settings = AssignmentSettings.objects.create()  # the defaults, now saved
        if settings is None or (settings.mode != auto and not even_manual):
            return 0
        queue = Lead.objects.filter(
            status=Status.AWAITING_ASSIGNMENT, manager__isnull=True
        ).order_by("status_changed_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            queue = queue.select_for_update(skip_locked=True)
        leads = list(queue[:limit])
        if not leads:
            return 0
        pool = Pool.load(settings, now)
        facts = facts_of(leads)
        for lead in leads:
            decision = decide(pool, facts[lead.pk])
            if decision.manager is None:
                continue
            try:
                with transaction.atomic():
                    _assign_locked(
                        None,
                        lead,
                        decision.manager,
                        Assignment.How.AUTO,
                        decision.strategy,
                        decision.rule,
                        decision.why,
                        now,
                    )
            except LeadError:
                # A gate or a hook refused this one lead: it stays in the queue, the
                # head sees it there; the rest of the batch goes on.
                log.exception("could not assign lead %s", lead.pk)
                continue
            pool.given(decision)
            done += 1
        if done:
            AssignmentSettings.objects.filter(pk=settings.pk).update(
                last_manager_id=pool.cursor, credits=pool.credits, updated_at=now
            )
    return done
