"""Realistic, reproducible demo data: a year of a Russian B2B marketing agency's requests.

``load_demo`` creates the agency (departments, teams, one demo user per role, partners,
sources) with the ORM, then generates leads, their contacts and companies, and their
status histories in plain Python and writes them with the database cursor in large
batches inside one transaction. The ORM would cost a round trip and model overhead per
row; a million leads with ~4.5 million events must load in minutes, not hours.

Histories are walks over ``statuses.TRANSITIONS`` (every move is checked against the
table when this module is imported), with the human touches ``transitions.log_touch``
records between the moves: the SDR's first call or e-mail some working minutes after
the request (mostly within the 30-minute deadline), the manager's after assignment.
Each lead row is left exactly as ``move_lead`` and ``log_touch`` would leave it, and each
history gets the SLA clocks the hooks of ``sla.clocks`` would have started and stopped
on it, with the breaches and notifications the worker would have recorded
(``sla.demo``). The SDR workspace's records come with the histories: BANT and the
questionnaires' answers saved before every hand-off (and partly, by those still being
qualified), reason codes on disqualifications and losses, the referral, routing and
return rows ``qualify.routing`` writes, and returns answered and disputes decided as
``qualify.returns`` records them. The tests replay the generated events through the real
functions, with every gate on, and compare. The newest requests are left for the SDRs,
so their clocks run (amber, red), and a few recent returns wait for an answer.

The sales workspace comes with them, as its functions record it: each MQL's assignment
(``sales.engine.assign``: the engine's by the rules and least load, with its reasons,
the head's by hand, a manager's own take; a few reassignments), the pre-sale brief sent
as a link and filled by the client (or from a call), demos held before the proposal
(required for the services with a demo policy), the proposal's versions, the contract
and the client's charges up to now (``deals``), the lead's client, deal value and the
competitor who won a lost deal. Sales leads nobody moves on are closed as lost after a
few weeks, and a big load gets a big sales team, so a manager's board holds tens of
leads at the default size and a few hundred at a million.

The same ``seed`` (and ``now``) gives the same data; only the demo users' passwords
come from ``secrets``, because they are printed once and must not be guessable.
"""

from __future__ import annotations

import bisect
import gc
import json
import math
import multiprocessing
import pickle
import random
import secrets
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from statistics import NormalDist
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from leadrelay.accounts.models import Department, Team, User
from leadrelay.accounts.roles import Role
from leadrelay.catalog.models import Company, Contact, Partner, Service, Source
from leadrelay.deals.models import Contract, Payment, Proposal, ProposalItem
from leadrelay.intake.demo import load_intake_demo
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import STAGE_OF_STATUS, STAGE_ORDER, Status, find
from leadrelay.notify.models import Notification
from leadrelay.presale.briefs import template_fields
from leadrelay.presale.models import Brief, BriefTemplate, Demo, DemoPolicy
from leadrelay.qualify.defaults import install_now as install_qualify_defaults
from leadrelay.qualify.models import (
    Answers,
    Bant,
    DepartmentContact,
    NeedCategory,
    Questionnaire,
    Referral,
    Return,
    Routing,
    SdrQueueSettings,
)
from leadrelay.sales.models import (
    Absence,
    Assignment,
    AssignmentRule,
    AssignmentSettings,
    ManagerProfile,
    Strategy,
)
from leadrelay.sla.demo import (
    CREATED,
    STATUS,
    TOUCH,
    History,
    SlaSetup,
    WorkTime,
    ensure_sla,
    load_webhook_demo,
)
from leadrelay.sla.models import Breach, Calendar, Clock

__all__ = ["has_leads", "load_demo"]

Row = tuple[Any, ...]

# --------------------------------------------------------------------------------------
# Statuses as plain strings: the generator compares them millions of times.
NEW = Status.NEW.value
SDR_PROCESSING = Status.SDR_PROCESSING.value
AWAITING = Status.AWAITING_ASSIGNMENT.value
ASSIGNED = Status.ASSIGNED.value
DISCUSSION = Status.DISCUSSION.value
BRIEF = Status.BRIEF_FILLED.value
PROPOSAL = Status.PROPOSAL.value
CONTRACT = Status.CONTRACT.value
CONVERTED = Status.CONVERTED.value
DISQUALIFIED = Status.DISQUALIFIED.value
REFERRED = Status.REFERRED.value
ROUTED = Status.ROUTED.value
LOST = Status.LOST.value

# transitions._BEFORE_SALES: entering one of these clears the sales manager.
_BEFORE_SALES = frozenset({NEW, SDR_PROCESSING, AWAITING, DISQUALIFIED})
# The index in reached_*_at of the stage a status reaches (history.reach).
_STAGE_INDEX = {s.value: STAGE_ORDER.index(stage) for s, stage in STAGE_OF_STATUS.items()}
_STAGE_COUNT = len(STAGE_ORDER)

_HOUR = 3600
_DAY = 86400
_WORK_START = 9 * _HOUR  # the agency's working day, local time
_WORK_END = 19 * _HOUR
_MAX_BACKWARD = 2  # a real request is bounced back and forth a couple of times at most

# --------------------------------------------------------------------------------------
# Where requests go next. Weights per status; "" means the lead stalls there (a few are
# forgotten, which is what SLA dashboards are for). Tuned so that of all requests about
# 62% reach MQL, 36% SQL, 25% SAL, 15% proposal and 8% a deal.
_Weights = tuple[tuple[str, float], ...]
_NEXT: dict[str, _Weights] = {
    NEW: ((SDR_PROCESSING, 0.97), (DISQUALIFIED, 0.03)),
    SDR_PROCESSING: (
        (AWAITING, 0.6832),
        (DISQUALIFIED, 0.195),
        (REFERRED, 0.065),
        (ROUTED, 0.045),
        (NEW, 0.01),
        # Forgotten: about one in 550, so a million requests leave ~5,000 open on the
        # SDR side with the newest (the queue the SDR workspace is measured on).
        ("", 0.0018),
    ),
    AWAITING: ((ASSIGNED, 0.95), (SDR_PROCESSING, 0.05)),
    ASSIGNED: (
        (DISCUSSION, 0.52),
        (LOST, 0.36),
        (SDR_PROCESSING, 0.04),
        (AWAITING, 0.06),
        ("", 0.02),
    ),
    DISCUSSION: ((BRIEF, 0.70), (LOST, 0.25), (SDR_PROCESSING, 0.02), ("", 0.03)),
    BRIEF: ((PROPOSAL, 0.6), (LOST, 0.35), (DISCUSSION, 0.04), ("", 0.01)),
    PROPOSAL: ((CONTRACT, 0.60), (LOST, 0.32), (BRIEF, 0.05), ("", 0.03)),
    CONTRACT: ((CONVERTED, 0.86), (LOST, 0.10), (PROPOSAL, 0.04)),
}
# A request bounced back to the SDR is usually good on the second pass.
_NEXT_AFTER_RETURN: _Weights = ((AWAITING, 0.85), (DISQUALIFIED, 0.15))

# Median calendar hours each move takes (log-normal around it), then moved into working
# hours: sales cycles are days and weeks, SDR work is hours.
_MEDIAN_HOURS: dict[tuple[str, str], float] = {
    (NEW, SDR_PROCESSING): 20,  # called back later, as the client asked
    (SDR_PROCESSING, AWAITING): 3,
    (SDR_PROCESSING, DISQUALIFIED): 2,
    (SDR_PROCESSING, REFERRED): 5,
    (SDR_PROCESSING, ROUTED): 4,
    (SDR_PROCESSING, NEW): 0.5,
    (AWAITING, ASSIGNED): 1,  # the head of sales hands MQLs out within the 2-hour SLA
    (AWAITING, SDR_PROCESSING): 4,
    (ASSIGNED, DISCUSSION): 20,
    (ASSIGNED, LOST): 72,
    (ASSIGNED, SDR_PROCESSING): 24,
    (ASSIGNED, AWAITING): 20,
    (DISCUSSION, BRIEF): 140,
    (DISCUSSION, LOST): 170,
    (DISCUSSION, SDR_PROCESSING): 48,
    (BRIEF, PROPOSAL): 96,
    (BRIEF, LOST): 140,
    (BRIEF, DISCUSSION): 48,
    (PROPOSAL, CONTRACT): 190,
    (PROPOSAL, LOST): 240,
    (PROPOSAL, BRIEF): 72,
    (CONTRACT, CONVERTED): 160,
    (CONTRACT, LOST): 240,
    (CONTRACT, PROPOSAL): 96,
}
_REOPEN_MEDIAN_HOURS = {LOST: 24 * 30, DISQUALIFIED: 24 * 5, REFERRED: 24 * 7, ROUTED: 24 * 4}

# (what the user wrote, the code from the configurable list: qualify.defaults.REASONS).
_Reason = tuple[str, str]
_DISQUALIFY_REASONS: tuple[tuple[_Reason, float], ...] = (
    (("Не наша услуга", "not_our_service"), 0.21),
    (("Маленький бюджет", "budget_too_small"), 0.24),
    (("Не дозвонились", "unreachable"), 0.2),
    (("Нет потребности: собирали цены", "no_need"), 0.12),
    (("Не ЛПР, контакт руководителя не дали", "no_authority"), 0.07),
    (("Сроки не определены", "no_need"), 0.05),
    (("Конкурент собирает информацию", "no_need"), 0.03),
    (("Поставщик предлагает свои услуги", "job_seeker"), 0.03),
    (("Спам", "spam"), 0.05),
)
_SPAM: _Reason = ("Спам", "spam")
_DUPLICATE: _Reason = ("Дубль заявки", "duplicate")
_NEW_DISQUALIFY_REASONS: tuple[tuple[_Reason, float], ...] = (
    (_SPAM, 0.75),
    (("Тестовая заявка", "spam"), 0.25),
)
_LOST_REASONS: tuple[tuple[_Reason, float], ...] = (
    (("Дорого: не устроила цена", "price"), 0.27),
    (("Выбрали конкурента", "competitor"), 0.22),
    (("Нет бюджета", "no_budget"), 0.17),
    (("Проект отложен", "postponed"), 0.13),
    (("Клиент перестал выходить на связь", "no_response"), 0.12),
    (("Не устроили сроки", "postponed"), 0.05),
    (("Решили делать своими силами", "in_house"), 0.04),
)
# Disqualifications nobody reopens, and the one that is reopened most (a later call).
_FINAL_CODES = frozenset({"spam", "duplicate", "job_seeker"})
_UNREACHABLE = "unreachable"
# What sales writes when it sends an MQL back (a "return": qualify.handoff.is_return),
# with a code from the list of return reasons, by the status it is returned from.
_RETURN_REASONS: dict[str, tuple[_Reason, ...]] = {
    "awaiting_assignment": (
        ("Бюджет из анкеты не подтвердился: клиент рассчитывает на 30 тыс. ₽", "no_budget"),
        ("Регион продвижения в анкете указан неверно", "wrong_answers"),
        ("Задача клиента не ясна, нужна повторная квалификация", "not_qualified"),
        ("Клиенту нужна другая услуга", "wrong_service"),
        ("Клиент уже работает с нами по другому договору", "duplicate"),
    ),
    "assigned": (
        ("Клиент не подтвердил потребность: нужна повторная квалификация", "not_qualified"),
        ("Контакт не ЛПР: нужен руководитель", "not_qualified"),
        ("Три дня не могу дозвониться до клиента", "unreachable"),
        ("Бюджета нет: клиент собирал цены", "no_budget"),
        ("В анкете не та услуга: клиенту нужен сайт, а не реклама", "wrong_service"),
    ),
    "discussion": (("Клиент сменил задачу: нужна новая анкета", "wrong_service"),),
}
# The SDR's answer to a return and a head's decision on a dispute (an accepted return
# may go without a word; a dispute and a decision say why).
_ACCEPT_NOTES = ("", "", "Согласна, доквалифицирую", "Принято, уточню у клиента бюджет и сроки")
_DISPUTE_NOTES = (
    "Бюджет подтверждён в переписке с клиентом, письмо в истории",
    "Клиент подтвердил задачу по телефону",
    "Контакт — собственник бизнеса, это указано в BANT",
    "Анкета заполнена со слов клиента, всё верно",
)
_UPHOLD_NOTES = (
    "Возврат обоснован: бюджет не подтверждён",
    "Согласен с продажами: нужна повторная квалификация",
)
_OVERTURN_NOTES = (
    "Квалификация корректна, лид возвращается в продажи",
    "Данные анкеты подтверждены, берите в работу",
)
_ACCEPT_SHARE, _OVERTURN_SHARE = 0.65, 0.4  # of returns answered; of disputes decided
_ANSWER_MEDIAN = 2.5 * _HOUR  # working time the SDR takes to answer a return
_JUDGE_MEDIAN = 7 * _HOUR  # … and a head to decide a dispute
# Where sales holds an MQL: a move from here back to the SDR by sales is a return.
_SALES_HELD = frozenset({AWAITING, ASSIGNED, DISCUSSION})
# The path of a request forced to be returned lately (_Generator._forced_returns), and
# what becomes of the returns: as many as there are kinds, fewer in a small demo.
_FORCED_PATH = {
    NEW: SDR_PROCESSING,
    SDR_PROCESSING: AWAITING,
    AWAITING: ASSIGNED,
    ASSIGNED: SDR_PROCESSING,
}
_FORCED_KINDS = ("open", "disputed", "open", "disputed", "overturned", "accepted")
_BACKWARD_REASONS: dict[tuple[str, str], tuple[str, ...]] = {
    (SDR_PROCESSING, NEW): (
        "Клиент попросил связаться позже",
        "Взял по ошибке, возвращаю в очередь",
    ),
    # The SDR takes back their own MQL (sales' returns: _RETURN_REASONS).
    (AWAITING, SDR_PROCESSING): (
        "Забираю на доквалификацию: клиент уточняет бюджет",
        "Клиент перезвонил: меняется регион продвижения",
        "Нужно уточнить задачу у клиента",
    ),
    (ASSIGNED, SDR_PROCESSING): (
        "Клиент не подтвердил потребность: нужна повторная квалификация",
        "Контакт не ЛПР: нужен руководитель",
    ),
    (ASSIGNED, AWAITING): (
        "Перераспределение: менеджер в отпуске",
        "Перегружен, передаю другому менеджеру",
    ),
    (DISCUSSION, SDR_PROCESSING): ("Клиент сменил задачу: нужна новая анкета",),
    (BRIEF, DISCUSSION): ("Клиент изменил задачу после брифа",),
    (PROPOSAL, BRIEF): ("Бриф пересмотрен после обсуждения КП",),
    (CONTRACT, PROPOSAL): ("Клиент попросил пересчитать КП",),
    (LOST, "*"): ("Клиент вернулся: конкурент не справился", "Клиент вернулся, бюджет согласован"),
    (DISQUALIFIED, SDR_PROCESSING): ("Дозвонились повторно", "Ошибочная дисквалификация"),
    (REFERRED, SDR_PROCESSING): ("Партнёр отказался от заявки",),
    (ROUTED, SDR_PROCESSING): ("Вернули из группы компаний: это наш профиль",),
}
# Touches, as (channel, call outcome): the SDR's first one, a second call after no answer,
# the sales manager's first one after assignment.
_SDR_TOUCHES: tuple[tuple[tuple[str, str], float], ...] = (
    (("call", "reached"), 0.53),
    (("call", "no_answer"), 0.19),
    (("call", "busy"), 0.06),
    (("call", "voicemail"), 0.05),
    (("call", "wrong_number"), 0.02),
    (("email", ""), 0.15),
)
_RECALL_OUTCOMES: _Weights = (("reached", 0.6), ("no_answer", 0.3), ("busy", 0.1))
_MANAGER_TOUCHES: tuple[tuple[tuple[str, str], float], ...] = (
    (("call", "reached"), 0.45),
    (("call", "no_answer"), 0.07),
    (("call", "voicemail"), 0.03),
    (("email", ""), 0.3),
    (("meeting", ""), 0.15),
)
_MANAGER_DAY = 9 * _HOUR  # working time a new manager usually acts within

_ROUTE_REASONS = ("Заявка по профилю группы компаний", "Резюме: передано в HR", "")


def _check_table() -> None:
    """Every move the generator can make is in the transition table: fail at import."""
    pairs: set[tuple[str, str]] = set()
    for source, weights in (*_NEXT.items(), (SDR_PROCESSING, _NEXT_AFTER_RETURN)):
        pairs.update((source, target) for target, _ in weights if target)
    pairs.update((s, SDR_PROCESSING) for s in (DISQUALIFIED, REFERRED, ROUTED))
    pairs.update((LOST, s) for s in (DISCUSSION, BRIEF, PROPOSAL, CONTRACT))
    for source, target in pairs:
        move = find(source, target)
        if move is None:
            raise AssertionError(f"demo: {source} -> {target} is not in the transition table")
        # The generator tells backward moves (which count against _MAX_BACKWARD and get
        # a reason) by _BACKWARD_REASONS: it must agree with the table.
        listed = (source, target) in _BACKWARD_REASONS or source == LOST
        if move.backward != listed:
            raise AssertionError(f"demo: {source} -> {target} backward is {move.backward}")
        if move.reason_required and not (listed or target in (DISQUALIFIED, LOST)):
            raise AssertionError(f"demo: {source} -> {target} needs a reason")


_check_table()

# --------------------------------------------------------------------------------------
# The sales workspace: who gets an MQL, the brief, demos, proposals, contracts, payments.
# How an MQL reaches its manager (Assignment.How): the engine mostly, the head of sales
# by hand now and then, a manager taking one from the queue a few times.
_ASSIGN_HOW: _Weights = (("auto", 0.78), ("manual", 0.15), ("self", 0.07))
_REASSIGN_SHARE = 0.015  # of the stretches a lead spends in discussion..contract
# The assignment rules the head set: (name, order, condition, strategy). A language rule
# (``engine.lead_language``) goes to the managers who speak it, a service rule to the
# SMM and development team.
_RULES: tuple[tuple[str, int, tuple[str, str], str], ...] = (
    ("Англоязычные клиенты", 1, ("language", "en"), "round_robin"),
    ("Разработка сайтов", 2, ("service", "development"), ""),
    ("SMM", 3, ("service", "smm"), ""),
)
_SMM_TEAM = "Продажи: SMM и разработка"
# Each named manager's profile: (weight, cap at the default size, languages).
_PROFILES = {
    "sales1": (3, 40, ["ru", "en"]),
    "sales2": (3, 40, ["ru", "en"]),
    "sales3": (2, 35, ["ru"]),
    "sales4": (2, 30, ["ru"]),
}
# sales4 works an afternoon shift; sales1 is on vacation now, sales2 was ill ten weeks
# ago (start and end in days from now).
_SHIFT_MANAGER = "sales4"
_SHIFT_CALENDAR = "Смена продаж: 12:00-20:00"
_SHIFT_HOURS = {day: [["12:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
_ABSENCES = (
    ("sales1", "vacation", -4, 10, "Отпуск"),
    ("sales2", "sick", -75, -68, "Больничный"),
)
# A big agency has a big sales team: one more manager per this many leads past the four
# named ones, so a manager's board holds hundreds of open leads at a million, not tens
# of thousands.
_LEADS_PER_MANAGER = 9000
# Services whose leads must have a demo held before the proposal (DemoPolicy): a site
# and an analytics set-up are bought after seeing one. Other leads get one now and then.
_DEMO_REQUIRED = ("development", "analytics")
_DEMO_SHARE = 0.3
_BRIEF_BY_CLIENT = 0.78  # the rest are filled in by the manager from a call
_STALE_MEDIAN_DAYS = 20  # a forgotten sales lead is closed as lost after about this
_NO_RESPONSE: _Reason = ("Клиент перестал выходить на связь", "no_response")
# Who won the deal, for about a third of the price and competitor losses.
_COMPETITORS = (
    "Ingate", "Ашманов и партнёры", "Kokoc Group", "SEO.RU", "iConText", "Demis Group",
    "Артикс", "Текарт", "Фрилансер", "Студия «Веб-Точка»", "Aori", "Convert Monster",
)  # fmt: skip
_COMPETITOR_CODES = frozenset({"price", "competitor"})
# Retainer services are billed monthly; development is a project; analytics is either.
_ONE_OFF_SHARE = {"development": 1.0, "analytics": 0.5}
_TERMS = (3, 6, 6, 12, 12, 12, 24)
# Proposal items: (description, share of the amount); the first is the service itself.
_ITEMS: dict[str, tuple[tuple[str, float], ...]] = {
    "seo": (("SEO-продвижение, ежемесячно", 0.85), ("Аудит и семантическое ядро", 0.15)),
    "ppc": (("Ведение Директа и VK Рекламы, ежемесячно", 0.9), ("Настройка кампаний", 0.1)),
    "smm": (("Ведение сообществ, ежемесячно", 0.75), ("Таргетированная реклама", 0.25)),
    "analytics": (("Сквозная аналитика: настройка", 0.7), ("Поддержка и отчёты", 0.3)),
    "development": (
        ("Разработка сайта", 0.7), ("Дизайн и прототипы", 0.2), ("Наполнение контентом", 0.1),
    ),
}  # fmt: skip
_DEMO_FORMATS: _Weights = (("online", 0.65), ("office", 0.25), ("client", 0.1))
_OFFICE = "Москва, ул. Большая Новодмитровская, 36, стр. 4, офис 412"
_DEMO_NOTES = ("", "", "Показать кейсы по отрасли клиента", "Подготовить аудит сайта к встрече")
_PAYMENT_SOURCES: _Weights = (("manual", 0.45), ("csv", 0.35), ("api", 0.2))
# Where sales keeps records between moves, and the least time the records there need.
_SALES_RECORDS = frozenset({DISCUSSION, BRIEF, PROPOSAL, CONTRACT})
_ROOM = {DISCUSSION: 2 * _HOUR, BRIEF: 2 * _DAY, PROPOSAL: _DAY, CONTRACT: 4 * _HOUR}
# Where a forgotten lead is closed as lost (no response) instead of waiting forever.
_SALES_STALL = frozenset({ASSIGNED, DISCUSSION, BRIEF, PROPOSAL})
_EPOCH = date(1970, 1, 1)


def _iso(t: int) -> str:
    """A moment as ``datetime.isoformat`` writes it in UTC (the events' data)."""
    return datetime.fromtimestamp(t, UTC).isoformat()


def _add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day if it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


_NO_DEAL = (None, None, "", "")


class _Deal:
    """The sales-side records of the lead being walked, kept as lists until its walk
    ends: a brief is filled, a demo held, a proposal accepted after they are made."""

    __slots__ = (
        "accepted", "amount", "amount_currency", "briefs", "client", "contract", "currency",
        "demos", "email", "fill", "filled", "halves", "held", "items", "lost_to", "monthly",
        "paid_at", "payments", "price", "proposals", "source", "term",
    )  # fmt: skip

    def __init__(self, email: str) -> None:
        self.email = email
        self.client: int | None = None
        self.fill = ""  # how the brief due at the next move is filled: client, call
        self.filled = self.held = self.accepted = self.halves = False
        self.briefs: list[list[Any]] = []
        self.demos: list[list[Any]] = []
        self.proposals: list[list[Any]] = []
        self.items: list[Row] = []
        self.contract: list[Any] | None = None
        self.payments: list[Row] = []
        self.price = self.monthly = self.paid_at = 0
        self.term: int | None = None
        self.currency = "RUB"
        self.amount: str | None = None  # the expected deal value, as stored
        self.amount_currency = ""
        self.lost_to = ""
        self.source = "manual"

    def flush(self, batch: _Batch) -> None:
        batch.briefs.extend(tuple(row) for row in self.briefs)
        batch.demos.extend(tuple(row) for row in self.demos)
        batch.proposals.extend(tuple(row) for row in self.proposals)
        batch.proposal_items.extend(self.items)
        if self.contract is not None:
            row = self.contract
            dates = (row[5].isoformat(), row[6].isoformat(), row[7].isoformat())
            batch.contracts.append((*row[:5], *dates, *row[8:]))
        batch.payments.extend(self.payments)

    def row(self) -> tuple[Any, ...]:
        """The lead's client, deal value and currency, and who won it if lost."""
        return (self.client, self.amount, self.amount_currency, self.lost_to)


# --------------------------------------------------------------------------------------
# The agency.
_DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("marketing", "Маркетинг"),
    ("sales", "Продажи"),
    ("partners", "Отдел по работе с партнёрами"),
    ("group_company", "Группа компаний: студия мобильной разработки «Апп-Лаб»"),
    ("other", "HR-отдел"),
)
_TEAMS: tuple[tuple[str, str], ...] = (
    ("marketing", "SDR"),
    ("marketing", "Performance-маркетинг"),
    ("sales", "Продажи: SEO и контекст"),
    ("sales", "Продажи: SMM и разработка"),
    ("partners", "Партнёрская программа"),
)


@dataclass(frozen=True)
class _DemoUser:
    username: str
    role: Role
    first_name: str
    last_name: str
    department: str  # kind
    team: str | None
    label: str


_USERS: tuple[_DemoUser, ...] = (
    _DemoUser("sdr1", Role.SDR, "Анна", "Соколова", "marketing", "SDR", "SDR, lead SDR"),
    _DemoUser("sdr2", Role.SDR, "Дмитрий", "Кузнецов", "marketing", "SDR", "SDR"),
    _DemoUser("sdr3", Role.SDR, "Екатерина", "Морозова", "marketing", "SDR", "SDR"),
    _DemoUser(
        "sales1", Role.SALES, "Алексей", "Волков", "sales", "Продажи: SEO и контекст", "sales"
    ),
    _DemoUser(
        "sales2", Role.SALES, "Мария", "Лебедева", "sales", "Продажи: SEO и контекст", "sales"
    ),
    _DemoUser(
        "sales3", Role.SALES, "Игорь", "Новиков", "sales", "Продажи: SMM и разработка", "sales"
    ),
    _DemoUser(
        "sales4", Role.SALES, "Ольга", "Павлова", "sales", "Продажи: SMM и разработка", "sales"
    ),
    _DemoUser(
        "partners1",
        Role.PARTNER_MANAGER,
        "Сергей",
        "Фёдоров",
        "partners",
        "Партнёрская программа",
        "partner manager",
    ),
    _DemoUser(
        "head_marketing",
        Role.HEAD_MARKETING,
        "Наталья",
        "Смирнова",
        "marketing",
        None,
        "head of marketing",
    ),
    _DemoUser("head_sales", Role.HEAD_SALES, "Павел", "Орлов", "sales", None, "head of sales"),
)
# Share of requests each SDR takes (the lead SDR also coaches, so takes a little less)
# and of deals each sales manager is given.
_SDR_WEIGHTS = (0.3, 0.36, 0.34)
_SALES_WEIGHTS = (0.3, 0.28, 0.22, 0.2)

# (name, contact e-mail, commission %, share of referrals, what the SDR writes)
_PARTNERS: tuple[tuple[str, str, str, float, tuple[str, ...]], ...] = (
    (
        "Контент-Фабрика",
        "partners@content-fabrika.ru",
        "12.50",
        0.35,
        ("Нужен копирайтинг: тексты для сайта и блога", "Нужен контент-маркетинг", ""),
    ),
    (
        "ТаргетПро",
        "hello@targetpro.ru",
        "15.00",
        0.3,
        ("Нужен таргет в соцсетях с бюджетом меньше нашего минимума", ""),
    ),
    (
        "Бюро репутации «Отзыв+»",
        "info@otzyv-plus.ru",
        "10.00",
        0.2,
        ("Нужна работа с отзывами (SERM)", "Негатив в выдаче по бренду", ""),
    ),
    (
        "Мобайл Девелопмент",
        "sales@mobdev.ru",
        "8.00",
        0.15,
        ("Нужна разработка мобильного приложения", ""),
    ),
)
# Who hears about a request routed to a group company or to HR: (department, name, e-mail).
_DEPARTMENT_CONTACTS: tuple[tuple[str, str, str], ...] = (
    ("group_company", "Руслан Тимофеев, коммерческий директор", "r.timofeev@app-lab.example"),
    ("group_company", "Отдел продаж «Апп-Лаб»", "sales@app-lab.example"),
    ("other", "Ирина Белова, HR", "hr@agency.example"),
)
# SDRs on shift when the demo starts (round-robin, if switched on, gives them requests).
_ON_SHIFT = frozenset({"sdr1", "sdr2"})

# (kind, name, share of requests)
_SOURCES: tuple[tuple[str, str, float], ...] = (
    ("form", "Форма на сайте агентства", 0.26),
    ("form", "Квиз «Рассчитать стоимость продвижения»", 0.08),
    ("tilda", "Лендинг на Tilda: SEO под ключ", 0.07),
    ("tilda", "Лендинг на Tilda: Яндекс Директ", 0.05),
    ("yandex_forms", "Яндекс Формы: лид-формы в Директе", 0.1),
    ("google_ads", "Google Ads: лид-формы", 0.05),
    ("meta", "Meta Lead Ads (зарубежные клиенты)", 0.03),
    ("api", "API: калькулятор на сайте партнёра", 0.05),
    ("manual", "Звонок или письмо (вручную)", 0.15),
    ("import", "Импорт из amoCRM", 0.06),
    ("calendly", "Calendly: запись на консультацию", 0.04),
    ("typeform", "Typeform: бриф для зарубежных клиентов", 0.01),
    ("tally", "Tally: форма вебинара", 0.03),
    ("jotform", "Jotform: заявка с выставки", 0.02),
)
_SERVICE_WEIGHTS: _Weights = (
    ("seo", 0.3),
    ("ppc", 0.3),
    ("smm", 0.13),
    ("analytics", 0.09),
    ("development", 0.13),
    ("", 0.05),
)
_DEFAULT_SERVICES = (
    ("seo", "SEO", "SEO-продвижение"),
    ("ppc", "Contextual advertising", "Контекстная реклама"),
    ("smm", "SMM", "SMM"),
    ("analytics", "Web analytics", "Веб-аналитика"),
    ("development", "Web development", "Разработка сайтов"),
)


# --------------------------------------------------------------------------------------
# People and companies.
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_TRANSLIT = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        _words("a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya"),
        strict=True,
    )
)


def _translit(text: str) -> str:
    out = []
    for ch in text.lower():
        lat = _TRANSLIT.get(ch)
        if lat is None:
            out.append(ch if ch.isascii() and ch.isalnum() else "")
        elif lat != "_":
            out.append(lat)
    return "".join(out)


_RU_MALE = _words(
    "Александр Алексей Андрей Антон Артём Арсений Борис Вадим Василий Виктор Виталий "
    "Владимир Владислав Вячеслав Георгий Глеб Григорий Денис Дмитрий Евгений Егор Иван "
    "Игорь Илья Кирилл Константин Леонид Максим Матвей Михаил Никита Николай Олег Павел "
    "Пётр Роман Руслан Сергей Станислав Степан Тимур Фёдор Юрий Ярослав"
)
_RU_FEMALE = _words(
    "Александра Алина Алла Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья "
    "Диана Евгения Екатерина Елена Елизавета Жанна Инна Ирина Карина Кристина Ксения "
    "Лариса Любовь Людмила Маргарита Марина Мария Надежда Наталья Нина Оксана Олеся Ольга "
    "Полина Светлана София Татьяна Ульяна Юлия Яна"
)
_RU_SURNAMES = _words(
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров "
    "Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов "
    "Андреев Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов "
    "Воробьёв Сергеев Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин "
    "Максимов Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков "
    "Баранов Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев "
    "Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов Гаврилов Тихонов "
    "Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов "
    "Федотов Щербаков Назаров Калинин Исаев Быков Маслов Родионов Коновалов Лазарев "
    "Воронин Климов Филатов Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв Трофимов "
    "Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин "
    "Ефремов Архипов Громов Кириллов Малышев Панов Моисеев Румянцев Акимов Бирюков "
    "Горбунов Анисимов Галкин Лукьянов Скворцов Юдин Белоусов Нестеров Симонов Цветков "
    "Левин Логинов Горшков Савин Краснов Майоров Демидов Елисеев Рыбаков Жданов Руденко "
    "Шевченко Бондаренко Кравченко Островский Вишневский Ковальский Шульц Ким Цой"
)
_EN_FIRST_MALE = _words(
    "James John Robert Michael David William Richard Thomas Daniel Matthew Mark Paul "
    "Steven Andrew Kevin Brian George Oliver Harry Jack"
)
_EN_FIRST_FEMALE = _words(
    "Mary Jennifer Linda Sarah Emily Emma Olivia Sophie Laura Anna Kate Rachel Lucy "
    "Hannah Amy Julia Megan Chloe Grace Alice"
)
_EN_SURNAMES = _words(
    "Smith Johnson Williams Brown Jones Miller Davis Wilson Taylor Anderson Thomas Moore "
    "Martin Jackson Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott "
    "Green Baker Adams Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker "
    "Evans Edwards Collins Stewart"
)


def _feminine(surname: str) -> str:
    if surname.endswith("ский"):
        return surname[:-4] + "ская"
    if surname.endswith(("ов", "ев", "ёв", "ин")):
        return surname + "а"
    return surname


# (display, latin) pairs, so e-mails need no transliteration per lead.
@dataclass(frozen=True)
class _NamePool:
    first: tuple[tuple[str, str], ...]
    last: tuple[tuple[str, str], ...]


def _pool(first: Sequence[str], last: Sequence[str], female: bool, ru: bool) -> _NamePool:
    lasts = [_feminine(s) if female and ru else s for s in last]
    return _NamePool(
        tuple((f, _translit(f)) for f in first), tuple((s, _translit(s)) for s in lasts)
    )


_POOLS = {
    (True, False): _pool(_RU_MALE, _RU_SURNAMES, False, True),
    (True, True): _pool(_RU_FEMALE, _RU_SURNAMES, True, True),
    (False, False): _pool(_EN_FIRST_MALE, _EN_SURNAMES, False, False),
    (False, True): _pool(_EN_FIRST_FEMALE, _EN_SURNAMES, True, False),
}

_RU_COMPANY_HEADS = _words(
    "Техно Агро Строй Мед Энерго Финанс Транс Эко Гранд Альфа Вектор Спектр Прайм Мега "
    "Инвест Лес Хим Авто Дом Сити Проф Стар Нова Бизнес Смарт Фуд Эксперт Инфо Реал "
    "Металл Пласт Тур Фарм Урал Сибирь Нева Волга Север Арт Юг"
)
_RU_COMPANY_TAILS = _words(
    "Сервис Групп Пром Трейд Маркет Логистик Консалт Софт Лайн Систем Строй Снаб "
    "Комплект Холдинг Ресурс Стиль Мастер Плюс Центр Лаб Тех Партнер Юнион Вэй"
)
_RU_HEADS = tuple((w, _translit(w)) for w in _RU_COMPANY_HEADS)
_RU_TAILS = tuple((w, _translit(w)) for w in _RU_COMPANY_TAILS)
_BRAND_EXTRAS = (("-М", "-m"), ("+", "plus"), (" 24", "24"), ("-Про", "-pro"), (" Плюс", "plus"))
_SLUG_TAILS = ("-msk", "-spb", "-group", "-pro", "-shop", "-24")
_INITIALS = tuple(f"{a}. {b}" for a in "АВГДЕИКМНОПРСТЮ" for b in "АВГДИНСЮ")
_RU_COMPANY_FORMS: _Weights = (
    ("ООО", 0.55),
    ("АО", 0.07),
    ("ИП", 0.12),
    ("ГК", 0.05),
    ("Интернет-магазин", 0.09),
    ("Клиника", 0.04),
    ("Студия", 0.04),
    ("", 0.04),
)
_EN_COMPANY_HEADS = _words(
    "North Bright Blue Silver Green Prime Nova Smart Urban Global Rapid Clear True Open"
)
_EN_COMPANY_TAILS = _words(
    "Logistics Labs Foods Systems Ventures Retail Health Travel Energy Software Media"
)
_EN_COMPANY_FORMS = ("Ltd", "LLC", "Inc.", "GmbH", "")
_RU_FREE_MAIL: _Weights = (
    ("mail.ru", 0.32),
    ("yandex.ru", 0.34),
    ("gmail.com", 0.18),
    ("bk.ru", 0.05),
    ("list.ru", 0.04),
    ("inbox.ru", 0.03),
    ("rambler.ru", 0.04),
)
_EN_FREE_MAIL: _Weights = (("gmail.com", 0.7), ("outlook.com", 0.2), ("yahoo.com", 0.1))
_RU_TLDS: _Weights = (("ru", 0.8), ("com", 0.1), ("su", 0.03), ("net", 0.04), ("online", 0.03))
_POSITIONS = (
    "",
    "",
    "",
    "Маркетолог",
    "Директор по маркетингу",
    "Генеральный директор",
    "Владелец бизнеса",
    "Руководитель отдела продаж",
    "Менеджер проекта",
    "Коммерческий директор",
)
_EN_POSITIONS = ("", "", "Marketing Manager", "CEO", "Head of Growth", "Founder")
_REGIONS = (
    "Москва",
    "Москва и область",
    "Санкт-Петербург",
    "Екатеринбург",
    "Новосибирск",
    "Казань",
    "Нижний Новгород",
    "Краснодар",
    "Самара",
    "Ростов-на-Дону",
    "вся Россия",
)
_BUDGETS = (30, 50, 70, 100, 150, 200, 300, 500)

_RU_MESSAGES: dict[str, tuple[str, ...]] = {
    "seo": (
        "Здравствуйте! Нужно SEO-продвижение сайта {site}, регион — {region}. "
        "Бюджет около {budget} тыс. ₽ в месяц.",
        "Сайт {site} просел в Яндексе после апдейта. Можете провести аудит и взять на продвижение?",
        "Интересует продвижение интернет-магазина в топ-10, регион — {region}. Сколько стоит?",
        "Хотим увеличить органический трафик. Пришлите, пожалуйста, коммерческое предложение.",
    ),
    "ppc": (
        "Нужна настройка и ведение Яндекс Директ, рекламный бюджет {budget} тыс. ₽ в месяц.",
        "Реклама не окупается, заявка обходится в 3000 ₽. Нужен аудит рекламных кампаний.",
        "Запускаем новое направление, нужна контекстная реклама, регион — {region}.",
        "Интересует ведение рекламы в Яндекс Директ и VK Рекламе под ключ.",
    ),
    "smm": (
        "Нужно ведение сообщества ВКонтакте и Telegram-канала компании.",
        "Ищем подрядчика на SMM: контент-план, посты, таргет. Бюджет {budget} тыс. ₽.",
        "Хотим запустить таргетированную рекламу ВКонтакте, регион — {region}.",
    ),
    "analytics": (
        "Нужно настроить Яндекс Метрику, цели и сквозную аналитику с CRM.",
        "Не понимаем, какие каналы приносят продажи. Нужна сквозная аналитика.",
        "Настройте, пожалуйста, коллтрекинг и передачу заявок в amoCRM.",
    ),
    "development": (
        "Нужен новый сайт для компании: текущий {site} устарел.",
        "Требуется интернет-магазин на 1С-Битрикс, около 2000 товаров.",
        "Нужен лендинг под рекламную кампанию, срок — две недели.",
    ),
    "": (
        "Здравствуйте, перезвоните, пожалуйста.",
        "Хотим обсудить комплексное продвижение.",
        "Сколько стоят ваши услуги?",
        "Нужна консультация по маркетингу для {site}.",
    ),
}
_EN_MESSAGES: dict[str, tuple[str, ...]] = {
    "seo": ("We need SEO for {site} in the Russian market.",),
    "ppc": ("We are looking for an agency to run Yandex and Google ads, ~{budget}k RUB/month.",),
    "smm": ("Could you send a proposal for social media management?",),
    "analytics": ("We need web analytics set up: GA4 and Yandex Metrica with goals.",),
    "development": ("Please call me back about a redesign of {site}.",),
    "": ("Hi, could you tell us about your services and prices?",),
}
_SPAM_MESSAGES = (
    "Предлагаем базы данных клиентов по всем регионам. Недорого!",
    "Раскрутка сайта в ТОП за 3 дня, гарантия результата!",
    "Хотите увеличить продажи? Пишите в Telegram @promo_best_2024",
    "тест",
    "Продам готовый бизнес, звоните.",
)

# Attribution: (utm_source, utm_medium, click id parameter, share) per source kind.
_CHANNELS: dict[str, tuple[tuple[str, str, str, float], ...]] = {
    "form": (
        ("yandex", "cpc", "yclid", 0.36),
        ("google", "cpc", "gclid", 0.12),
        ("", "", "", 0.34),  # organic and direct visits carry no tags
        ("newsletter", "email", "", 0.06),
        ("vc.ru", "referral", "", 0.07),
        ("vk", "paid_social", "", 0.05),
    ),
    "tilda": (("yandex", "cpc", "yclid", 0.7), ("vk", "paid_social", "", 0.3)),
    "yandex_forms": (("yandex", "cpc", "yclid", 1.0),),
    "google_ads": (("google", "cpc", "gclid", 1.0),),
    "meta": (
        ("facebook", "paid_social", "fbclid", 0.6),
        ("instagram", "paid_social", "fbclid", 0.4),
    ),
    "api": (("calculator", "widget", "", 1.0),),
    "manual": (("", "", "", 1.0),),
    "import": (("amocrm", "import", "", 1.0),),
    "calendly": (("webinar", "email", "", 0.6), ("", "", "", 0.4)),
    "typeform": (("linkedin", "paid_social", "", 1.0),),
    "tally": (("webinar", "email", "", 1.0),),
    "jotform": (("expo", "offline", "", 1.0),),
}
_CAMPAIGN_KINDS = ("search", "rsya", "retargeting", "brand", "lookalike")
_CAMPAIGN_REGIONS = ("msk", "spb", "rf", "ekb", "kzn")
_CLICK_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"

# Russian public holidays (month, day) the agency does not work on.
_HOLIDAYS = frozenset(
    {(1, d) for d in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}
)
_MONTH_SEASON = {
    1: 1.0, 2: 1.0, 3: 1.03, 4: 1.03, 5: 0.95, 6: 0.97,
    7: 0.95, 8: 0.95, 9: 1.03, 10: 1.03, 11: 1.03, 12: 1.0,
}  # fmt: skip
# Arrival hour weights, local time: business hours on working days, flatter on days off.
_WORKDAY_HOURS = (
    1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 3, 7, 12, 16, 17, 15, 14, 16, 16, 14, 12, 8, 6, 5, 4, 3, 2,
)  # fmt: skip
_DAYOFF_HOURS = (
    1, 0.5, 0.3, 0.3, 0.3, 0.4, 0.6, 1, 2, 3, 4, 5, 5, 5, 5, 5, 5, 4, 4, 4, 4, 3, 2, 1.5,
)  # fmt: skip


_NORMAL_SIZE = 4096
# exp(0.75 z) at evenly spaced quantiles z of the standard normal: multiplying a median
# by a random entry draws a log-normal delay.
_SPREAD = [
    math.exp(0.75 * NormalDist().inv_cdf((i + 0.5) / _NORMAL_SIZE)) for i in range(_NORMAL_SIZE)
]


def _cumulative(weights: Sequence[float]) -> list[float]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


class _Picker:
    """Weighted choice by bisecting cumulative weights: a few hundred ns per pick."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _ in pairs]
        self.cum = _cumulative([w for _, w in pairs])
        self.total = self.cum[-1]

    def pick(self, r: float) -> Any:
        """The item for ``r`` drawn uniformly from [0, 1)."""
        return self.items[bisect.bisect_right(self.cum, r * self.total)]


# --------------------------------------------------------------------------------------
# The calendar.
class _Calendar:
    """Working days and hours of the agency, on integer UTC seconds.

    Day arrays cover the demo year plus a margin; a time past their end is simply not
    moved (such events are in the future and never stored).
    """

    def __init__(self, now: int, offset: int) -> None:
        self.now = now
        self.offset = offset  # local = UTC + offset (Moscow has had no DST since 2014)
        today = (now + offset) // _DAY
        self.first_day = today - 380
        self.last_day = today + 200
        epoch = date(1970, 1, 1)
        self.work: list[bool] = []
        self.dates: list[date] = []
        for d in range(self.first_day, self.last_day + 1):
            day = epoch + timedelta(days=d)
            self.dates.append(day)
            self.work.append(day.weekday() < 5 and (day.month, day.day) not in _HOLIDAYS)
        self.month_keys = [day.strftime("%Y_%m") for day in self.dates]
        # next_work[i]: index of the first working day after day i.
        size = len(self.work)
        self.next_work = [size - 1] * size
        nxt = size - 1
        for i in range(size - 1, -1, -1):
            self.next_work[i] = nxt
            if self.work[i]:
                nxt = i

    def day_of(self, t: int) -> date:
        """The local date of ``t``."""
        return self.dates[(t + self.offset) // _DAY - self.first_day]

    def is_work_time(self, t: int) -> bool:
        d, s = divmod(t + self.offset, _DAY)
        i = d - self.first_day
        return 0 <= i < len(self.work) and self.work[i] and _WORK_START <= s < _WORK_END

    def to_work(self, t: int, jitter: int) -> int:
        """``t`` if in working hours, else the next opening plus ``jitter`` seconds."""
        d, s = divmod(t + self.offset, _DAY)
        i = d - self.first_day
        if i < 0 or i >= len(self.work):
            return t
        if self.work[i]:
            if _WORK_START <= s < _WORK_END:
                return t
            if s < _WORK_START:
                return (d * _DAY) + _WORK_START + jitter - self.offset
        return (self.next_work[i] + self.first_day) * _DAY + _WORK_START + jitter - self.offset

    def arrivals(self, rng: random.Random, n: int) -> list[int]:
        """``n`` arrival times over the 365 days before ``now``, sorted."""
        today = (self.now + self.offset) // _DAY
        days = list(range(today - 364, today + 1))
        weights = []
        for k, d in enumerate(days):
            i = d - self.first_day
            trend = 0.95 + 0.1 * k / len(days)  # the agency grows through the year
            base = 1.0 if self.work[i] else 0.4
            weights.append(base * trend * _MONTH_SEASON[self.dates[i].month])
        work_hours = _cumulative(_WORKDAY_HOURS)
        off_hours = _cumulative(_DAYOFF_HOURS)
        picked = rng.choices(days, weights=weights, k=n)
        out: list[int] = []
        rand = rng.random
        for d in picked:
            cum = work_hours if self.work[d - self.first_day] else off_hours
            while True:
                hour = bisect.bisect_right(cum, rand() * cum[-1])
                t = d * _DAY + hour * _HOUR + int(rand() * _HOUR) - self.offset
                if t <= self.now:  # today's arrivals stop at now
                    break
                d -= 1 if rand() < 0.5 else 0
            out.append(t)
        out.sort()
        return out


# --------------------------------------------------------------------------------------
# What the SDR learns while qualifying: BANT and the questionnaires' answers, written as
# ``qualify.answers.save_bant`` and ``save_answers`` store them (cleaned values).
_CHANGED_BANT = json.dumps(
    {
        "bant": True,
        "changed": [
            "budget_amount",
            "budget_band",
            "currency",
            "authority_role",
            "decision_maker",
            "need",
            "need_text",
            "timeframe_date",
            "timeframe_band",
        ],
    }
)
# The region as the SDR types it (the suggestions of qualify.fields.REGIONS where one fits).
_REGION_ANSWERS = {"Москва и область": "Московская область", "вся Россия": "Вся Россия"}
_AUDIENCES = (
    "B2C: женщины 25–45 лет, доход средний и выше",
    "B2B: отделы закупок строительных компаний",
    "Владельцы малого бизнеса в регионах",
    "B2B: производственные предприятия, 50–500 сотрудников",
    "Семьи с детьми, жители новостроек",
    "Автовладельцы 30–55 лет",
    "Пациенты частных клиник, 25–60 лет",
    "Оптовые покупатели: магазины и HoReCa",
    "B2B: IT-директора среднего бизнеса",
    "Молодые родители, покупают онлайн",
)
_TASKS: dict[str, tuple[str, ...]] = {
    "seo": (
        "Вывести сайт в топ-10 Яндекса по коммерческим запросам",
        "Вернуть трафик, потерянный после апдейта Яндекса",
        "Продвинуть интернет-магазин по категорийным запросам",
        "Увеличить органический трафик в два раза за полгода",
    ),
    "ppc": (
        "Снизить стоимость заявки из Директа в полтора раза",
        "Запустить рекламу на новый регион",
        "Настроить и вести Яндекс Директ под ключ",
        "Аудит кампаний: реклама не окупается",
    ),
    "smm": (
        "Вести сообщество ВКонтакте и Telegram-канал",
        "Запустить таргетированную рекламу ВКонтакте",
        "Контент-план и ведение соцсетей бренда",
    ),
    "analytics": (
        "Настроить сквозную аналитику с CRM",
        "Понять, какие каналы приносят продажи",
        "Настроить цели Метрики и коллтрекинг",
    ),
    "development": (
        "Новый корпоративный сайт вместо устаревшего",
        "Интернет-магазин на 1С-Битрикс, около 2000 товаров",
        "Лендинг под рекламную кампанию",
    ),
}
_NEEDS = {
    "seo": ("traffic", "leads"),
    "ppc": ("leads", "cost_per_lead"),
    "smm": ("awareness", "leads"),
    "analytics": ("analytics", "cost_per_lead"),
    "development": ("new_site", "launch"),
}
_ROLES = (
    ("Генеральный директор", 0.9),
    ("Владелец бизнеса", 0.95),
    ("Коммерческий директор", 0.7),
    ("Директор по маркетингу", 0.5),
    ("Маркетолог", 0.1),
    ("Руководитель отдела продаж", 0.3),
    ("Менеджер проекта", 0.1),
)
# How likely a contact in this role decides (the English ones: the contact's position).
_ROLE_DECIDES = {**dict(_ROLES), "CEO": 0.9, "Founder": 0.95, "Head of Growth": 0.5}
_ROLE_DECIDES["Marketing Manager"] = 0.1
_BANDS: _Weights = (("now", 0.3), ("month", 0.3), ("quarter", 0.25), ("later", 0.1))
_SYSTEMS = (
    "Яндекс Метрика",
    "Яндекс Метрика и Google Analytics 4",
    "Метрика стоит, цели не настроены",
    "Ничего не настроено",
    "Roistat, но данные расходятся с CRM",
)
_CRMS = ("amoCRM", "Битрикс24", "RetailCRM", "1С", "Таблица в Google Sheets")
_GENERIC_TEXT = (
    "Уточнено у клиента по телефону",
    "Со слов клиента: да",
    "Есть, подробности в заметке",
)
_GENERIC_LONG = (
    "Обсудили по телефону, подробности в заметке к заявке",
    "Клиент пришлёт подробности письмом, основное записала",
)


def _band(amount: int) -> str:
    """BudgetBand of an amount in roubles."""
    if amount < 100_000:
        return "lt_100k"
    if amount < 300_000:
        return "100k_300k"
    if amount < 1_000_000:
        return "300k_1m"
    return "1m_3m" if amount < 3_000_000 else "gt_3m"


@dataclass(frozen=True)
class _Form:
    """One questionnaire's current version: what its answers row points at."""

    questionnaire: int
    version: int
    number: int
    fields: tuple[tuple[str, str, bool, tuple[str, ...]], ...]  # key, type, required, choices


class _Answers:
    """Plausible BANT and answers for one lead at a time, in the stored form.

    ``begin`` takes what the request said (service, region, budget…), so the answers agree
    with the message; the values are those ``qualify.fields.clean`` returns, so the
    real ``save_answers`` given them stores them unchanged (the demo tests replay them).
    Fields an admin added later get a plausible value by their type.
    """

    def __init__(
        self,
        rng: random.Random,
        common: _Form | None,
        by_service: dict[str, _Form],
        need_ids: dict[str, int],
        day_of: Callable[[int], date],
    ) -> None:
        self.rng = rng
        self.common = common
        self.by_service = by_service
        self.need_ids = need_ids
        self.day_of = day_of
        self.band_pick = _Picker(_BANDS)
        self.role_pick = _Picker(_ROLES)
        self.service = ""
        self.english = False
        self.region = ""
        self.budget = 0
        self.currency = "RUB"
        self.site = ""
        self.position = ""
        self.task = ""

    def forms(self, service: str) -> list[_Form]:
        """The questionnaires a lead with this service answers (``questionnaires_for``)."""
        own = self.by_service.get(service)
        return [f for f in (self.common, own) if f is not None]

    def begin(
        self, service: str, english: bool, region: str, budget_k: int, site: str, position: str
    ) -> None:
        rand = self.rng.random
        self.service = service
        self.english = english
        self.region = _REGION_ANSWERS.get(region, region)
        # Development is a one-off budget; the rest are monthly.
        scale = 3 + int(rand() * 8) if service == "development" else 1
        amount = budget_k * 1000 * scale
        self.currency = "RUB"
        if english and rand() < 0.7:
            self.currency = "USD" if rand() < 0.6 else "EUR"
            amount = max(500, int(round(amount / 95, -2)))
        self.budget = amount
        self.site = site
        self.position = position
        tasks = _TASKS.get(service) or _GENERIC_LONG
        self.task = tasks[int(rand() * len(tasks))]

    def _money(self, amount: int) -> dict[str, str]:
        return {"amount": f"{amount}.00", "currency": self.currency}

    def bant(self, at: int, complete: bool) -> tuple[Any, ...]:
        """budget_amount, budget_band, currency, authority_role, decision_maker, need,
        need_text, timeframe_date, timeframe_band: complete, or with a part or two missing."""
        rand = self.rng.random
        skip = set() if complete else {int(rand() * 4), int(rand() * 4)}
        amount: str | None = None
        band = ""
        if 0 not in skip:
            if rand() < 0.65:
                amount = f"{self.budget}.00"
            else:
                band = _band(self.budget if self.currency == "RUB" else self.budget * 95)
        role = self.position or self.role_pick.pick(rand())
        decides: bool | None = rand() < _ROLE_DECIDES.get(role, 0.5)
        if 1 in skip:
            decides = None
        needs = _NEEDS.get(self.service, ("leads",))
        need = self.need_ids.get(needs[int(rand() * len(needs))])
        need_text = self.task if need is None or rand() < 0.5 else ""
        if 2 in skip:
            need, need_text = None, ""
        when: str | None = None
        tband = ""
        if 3 not in skip:
            if rand() < 0.3:
                when = (self.day_of(at) + timedelta(days=7 + int(rand() * 60))).isoformat()
            else:
                tband = self.band_pick.pick(rand())
        return (amount, band, self.currency, role, decides, need, need_text, when, tband)

    def values(self, form: _Form, at: int, complete: bool) -> dict[str, Any]:
        """Answers to one questionnaire: every required one if ``complete``, else some."""
        rand = self.rng.random
        out: dict[str, Any] = {}
        for key, kind, required, choices in form.fields:
            if required:
                if not complete and rand() < 0.35:
                    continue
            elif rand() < 0.35:
                continue  # optional answers are often left empty
            value = self._value(key, kind, choices, at)
            if value is not None:
                out[key] = value
        return out

    def _value(self, key: str, kind: str, choices: tuple[str, ...], at: int) -> Any:
        rand = self.rng.random
        r = rand()
        if kind == "choice" and choices:
            preferred = {
                "project_type": ("existing", "existing", "new", "relaunch"),
                "site_kind": ("corporate", "shop", "landing", "landing"),
            }.get(key, choices)
            value = preferred[int(r * len(preferred))]
            return value if value in choices else choices[0]
        if kind == "multi_choice" and choices:
            wanted: tuple[str, ...]
            if key == "search_engines":
                wanted = (
                    ("yandex",) if r < 0.55 else ("yandex", "google") if r < 0.95 else ("google",)
                )
            elif key == "platforms":
                wanted = (
                    ("yandex_direct",)
                    if r < 0.5
                    else ("yandex_direct", "vk_ads")
                    if r < 0.85
                    else ("vk_ads",)
                    if r < 0.93
                    else ("yandex_direct", "google_ads")
                )
            elif key == "networks":
                wanted = ("vk",) if r < 0.4 else ("vk", "telegram") if r < 0.8 else ("telegram",)
            else:
                wanted = tuple(c for c in choices if rand() < 0.5) or (choices[0],)
            chosen = [c for c in choices if c in wanted]
            return chosen or [choices[0]]
        if kind == "region":
            return self.region
        if kind == "money":
            if key == "target_cpl":
                return self._money(500 + 100 * int(r * 45))
            return self._money(self.budget if key == "ad_budget" else max(100, self.budget // 2))
        if kind == "yes_no":
            return r < (0.2 if key == "had_sanctions" else 0.5)
        if kind == "date":
            return (self.day_of(at) + timedelta(days=14 + int(r * 100))).isoformat()
        if kind == "number":
            return str(1 + int(r * (15 if key == "site_age" else 20)))
        if kind == "long_text":
            if key == "audience":
                return _AUDIENCES[int(r * len(_AUDIENCES))]
            if key == "task":
                return self.task
            return _GENERIC_LONG[int(r * len(_GENERIC_LONG))]
        if kind == "text":
            if key == "site_url":
                return self.site
            if key == "systems":
                return _SYSTEMS[int(r * len(_SYSTEMS))]
            if key == "crm":
                return _CRMS[int(r * len(_CRMS))]
            return _GENERIC_TEXT[int(r * len(_GENERIC_TEXT))]
        return None  # an unknown type: left empty


def _form(version: Any) -> _Form:
    fields = []
    for f in version.fields:
        choices = tuple(str(c["value"]) for c in f.get("choices") or [])
        fields.append((str(f["key"]), str(f["type"]), bool(f.get("required")), choices))
    return _Form(version.questionnaire_id, version.pk, version.number, tuple(fields))


# The summary's row counts, by _Batch table (and "leads" etc. as before).
_COUNTED = (
    "leads", "events", "contacts", "companies", "clocks", "breaches", "notifications",
    "bants", "answers", "referrals", "routings", "returns", "assignments", "briefs", "demos",
    "proposals", "proposal_items", "contracts", "payments",
)  # fmt: skip


# --------------------------------------------------------------------------------------
@dataclass
class _Cast:
    sdrs: list[int]
    managers: list[int]
    partner_manager: int
    head_marketing: int
    head_sales: int
    partners: list[tuple[int, float]]
    group_company: int
    other_department: int
    sources: list[tuple[int, str, float]]
    services: dict[str, int]
    sdr_team: Team | None = None
    lead_sdr: User | None = None  # the SDR team's lead: the middle step of escalation
    # Partner id -> (name, commission percent as stored, what the SDR writes on a referral).
    partner_info: dict[int, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)
    judges: list[int] = field(default_factory=list)  # the heads who settle disputed returns
    heads: list[int] = field(default_factory=list)  # active heads, told of a dispute
    partner_managers: list[int] = field(default_factory=list)  # active, told of a referral
    active: frozenset[int] = frozenset()
    # The current version of the common block and of each service's questionnaire.
    common_form: _Form | None = None
    service_forms: dict[str, _Form] = field(default_factory=dict)
    need_ids: dict[str, int] = field(default_factory=dict)
    # The sales side (_ensure_sales): the settings' strategy, each manager's weight,
    # cap, name and e-mail; the rules as (id, name, kind, value, managers, strategy);
    # absences as (manager, from, until); who works a shift and its hours.
    strategy: str = "least_loaded"
    weights: dict[int, int] = field(default_factory=dict)
    caps: dict[int, int] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    speaks: dict[int, tuple[str, ...]] = field(default_factory=dict)
    emails: dict[int, str] = field(default_factory=dict)
    rules: list[tuple[int, str, str, str, tuple[int, ...], str]] = field(default_factory=list)
    absences: list[tuple[int, int, int]] = field(default_factory=list)
    shift_manager: int | None = None
    shift: WorkTime | None = None
    expected_load: int = 1
    demo_required: frozenset[str] = frozenset()
    # Service code -> (service id, the brief's fields as stored, as a form, link days).
    brief_forms: dict[str, tuple[int, str, _Form, int]] = field(default_factory=dict)


@dataclass
class _Batch:
    companies: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    leads: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    clocks: list[Row] = field(default_factory=list)
    breaches: list[Row] = field(default_factory=list)
    notifications: list[Row] = field(default_factory=list)
    bants: list[Row] = field(default_factory=list)
    answers: list[Row] = field(default_factory=list)
    referrals: list[Row] = field(default_factory=list)
    routings: list[Row] = field(default_factory=list)
    returns: list[Row] = field(default_factory=list)
    assignments: list[Row] = field(default_factory=list)
    briefs: list[Row] = field(default_factory=list)
    demos: list[Row] = field(default_factory=list)
    proposals: list[Row] = field(default_factory=list)
    proposal_items: list[Row] = field(default_factory=list)
    contracts: list[Row] = field(default_factory=list)
    payments: list[Row] = field(default_factory=list)

    def tables(self) -> tuple[list[Row], ...]:
        """The rows of each table, in the order of the fields (and of writing)."""
        return (
            self.companies,
            self.contacts,
            self.leads,
            self.events,
            self.clocks,
            self.breaches,
            self.notifications,
            self.bants,
            self.answers,
            self.referrals,
            self.routings,
            self.returns,
            self.assignments,
            self.briefs,
            self.demos,
            self.proposals,
            self.proposal_items,
            self.contracts,
            self.payments,
        )


@dataclass(slots=True)
class _Identity:
    """What a duplicate request copies from the first one."""

    lead_id: int
    name: str
    email: str
    phone: str
    company: str
    website: str
    contact_id: int
    english: bool
    site: str  # the company's site, whether or not the form gave it
    position: str


class _Generator:
    """Leads and their histories as rows, in id order; all randomness from one Random."""

    def __init__(
        self,
        rng: random.Random,
        cast: _Cast,
        calendar: _Calendar,
        fmt: Callable[[int], str],
        ids: dict[str, int],
        sla: SlaSetup,
    ) -> None:
        self.rng = rng
        self.cast = cast
        self.cal = calendar
        self.fmt = fmt
        # The clocks draw from the same Random and write the same timestamps; their ids
        # follow the tables' largest ones.
        self.sla = sla
        sla.rng = rng
        sla.fmt = fmt
        sla.next_clock = ids["clock"] + 1
        sla.next_breach = ids["breach"] + 1
        sla.next_notification = ids["notification"] + 1
        self.next_lead = ids["lead"] + 1
        self.next_event = ids["event"] + 1
        self.next_contact = ids["contact"] + 1
        self.next_company = ids["company"] + 1
        self.next_bant = ids["bant"] + 1
        self.next_answers = ids["answers"] + 1
        self.next_referral = ids["referral"] + 1
        self.next_routing = ids["routing"] + 1
        self.next_return = ids["return"] + 1
        self.next_assignment = ids["assignment"] + 1
        self.next_brief = ids["brief"] + 1
        self.next_demo = ids["demo"] + 1
        self.next_proposal = ids["proposal"] + 1
        self.next_item = ids["proposal_item"] + 1
        self.next_contract = ids["contract"] + 1
        self.next_payment = ids["payment"] + 1
        # The sales side: a picker per rule's managers (None: everyone), by weight.
        self.pools: dict[int | None, _Picker] = {
            rule[0]: _Picker([(m, cast.weights.get(m, 1)) for m in rule[4]]) for rule in cast.rules
        }
        self.pools[None] = _Picker([(m, cast.weights.get(m, 1)) for m in cast.managers])
        self.members: dict[int | None, frozenset[int]] = {r[0]: frozenset(r[4]) for r in cast.rules}
        self.speaks = cast.speaks
        self.expected_load = cast.expected_load
        self.how_pick = _Picker(_ASSIGN_HOW)
        self.demo_format_pick = _Picker(_DEMO_FORMATS)
        self.payment_source_pick = _Picker(_PAYMENT_SOURCES)
        self.at = 0  # when the assignment being decided is made
        self.deal: _Deal | None = None
        self.lead_email = ""
        self.lead_site = ""  # the request's website's host, for deals.find_client
        # deals.find_client: the first company by website host, else by name.
        self.company_by_host: dict[str, int] = {}
        self.company_by_name: dict[str, int] = {}
        self.clients: list[tuple[int, str, str, bool]] = []  # converted clients' companies
        if ids["company"]:  # a load added to earlier data links leads to its companies too
            for pk, name, website in (
                Company.objects.order_by("pk")
                .values_list("pk", "name", "website")
                .iterator(chunk_size=20000)
            ):
                host = website.removeprefix("https://").removeprefix("http://").lower()
                self.company_by_host.setdefault(host.removeprefix("www.").split("/")[0], pk)
                self.company_by_name.setdefault(name, pk)
        self.recent: list[_Identity] = []  # ring of recent first requests, for duplicates
        self.recent_pos = 0
        self.companies: list[tuple[int, str, str, bool]] = []  # ring, for colleagues
        self.companies_pos = 0
        self.sdr_pick = _Picker(list(zip(cast.sdrs, _SDR_WEIGHTS, strict=False)))
        self.sales_pick = _Picker(list(zip(cast.managers, _SALES_WEIGHTS, strict=False)))
        self.partner_pick = _Picker(cast.partners)
        self.source_pick = _Picker([((sid, kind), w) for sid, kind, w in cast.sources])
        self.service_pick = _Picker(_SERVICE_WEIGHTS)
        self.next_pick = {s: _Picker(w) for s, w in _NEXT.items()}
        # The same choices without backward moves, once a lead has bounced enough.
        self.next_forward_pick = {
            s: _Picker([(t, w) for t, w in ws if (s, t) not in _BACKWARD_REASONS])
            for s, ws in _NEXT.items()
        }
        self.after_return_pick = _Picker(_NEXT_AFTER_RETURN)
        self.disq_pick = _Picker(_DISQUALIFY_REASONS)
        self.new_disq_pick = _Picker(_NEW_DISQUALIFY_REASONS)
        self.lost_pick = _Picker(_LOST_REASONS)
        self.form_pick = _Picker(_RU_COMPANY_FORMS)
        self.ru_mail_pick = _Picker(_RU_FREE_MAIL)
        self.en_mail_pick = _Picker(_EN_FREE_MAIL)
        self.tld_pick = _Picker(_RU_TLDS)
        self.channel_pick = {
            kind: _Picker([((s, m, c), w) for s, m, c, w in chans])
            for kind, chans in _CHANNELS.items()
        }
        self.medians = {k: v * _HOUR for k, v in _MEDIAN_HOURS.items()}
        for source, hours in _REOPEN_MEDIAN_HOURS.items():
            for target in (SDR_PROCESSING, DISCUSSION, BRIEF, PROPOSAL, CONTRACT):
                if find(source, target) is not None:
                    self.medians[(source, target)] = hours * _HOUR
        self.sdr_ids = frozenset(cast.sdrs)
        self.sales = frozenset((*cast.managers, cast.head_sales))  # sales-side roles
        # The lead being walked: its service (set when the SDR finds it out), what the
        # answers draw on (english, region, budget, site, position), its company.
        self.lead_service = ""
        self.named_at: int | None = None  # when the SDR named it, if the form did not
        self.lead_context: tuple[bool, str, int, str, str] = (False, "", 0, "", "")
        self.lead_company = ""
        self.status_counts: dict[str, int] = {}
        self.stage_counts = [0] * _STAGE_COUNT
        self.counts = dict.fromkeys(_COUNTED, 0)
        self.return_states: dict[str, int] = {}
        self.answers = _Answers(
            rng, cast.common_form, cast.service_forms, cast.need_ids, calendar.day_of
        )
        # A request the SDR could not hand off for want of a service gets one (the form
        # did not ask; the SDR learnt it on the call).
        self.known_service_pick = _Picker([(s, w) for s, w in _SERVICE_WEIGHTS if s])
        # The first-contact clock runs on the default calendar (nobody owns a new request).
        self.first_contact_work = sla.calendar(None, None)[1]
        self.sdr_touch_pick = _Picker(_SDR_TOUCHES)
        self.recall_pick = _Picker(_RECALL_OUTCOMES)
        self.manager_touch_pick = _Picker(_MANAGER_TOUCHES)
        self.touched: History = []  # the history entries of the last touches logged

    # ---- identities --------------------------------------------------------------
    def _company(
        self, english: bool, surname: str, received: str, batch: _Batch
    ) -> tuple[int, str, str, bool]:
        rand = self.rng.random
        if self.companies and rand() < 0.08:  # a colleague of an earlier client
            company = self.companies[int(rand() * len(self.companies))]
            if company[3] == english:
                return company
        if self.clients and rand() < 0.03:  # a client comes back for more
            company = self.clients[int(rand() * len(self.clients))]
            if company[3] == english:
                return company
        if english:
            head = _EN_COMPANY_HEADS[int(rand() * len(_EN_COMPANY_HEADS))]
            tail = _EN_COMPANY_TAILS[int(rand() * len(_EN_COMPANY_TAILS))]
            form = _EN_COMPANY_FORMS[int(rand() * len(_EN_COMPANY_FORMS))]
            name = f"{head} {tail} {form}".strip()
            domain = f"{head}{tail}".lower() + (".com", ".io", ".co.uk", ".de")[int(rand() * 4)]
        else:
            head, head_lat = _RU_HEADS[int(rand() * len(_RU_HEADS))]
            tail, tail_lat = _RU_TAILS[int(rand() * len(_RU_TAILS))]
            brand = head + tail.lower()
            slug = head_lat + tail_lat
            if rand() < 0.2:
                extra, extra_lat = _BRAND_EXTRAS[int(rand() * len(_BRAND_EXTRAS))]
                brand += extra
                slug += extra_lat
            form = self.form_pick.pick(rand())
            if form == "ИП":
                name = f"ИП {surname} {_INITIALS[int(rand() * len(_INITIALS))]}."
            elif form:
                name = f"{form} «{brand}»"
            else:
                name = brand
            if rand() < 0.25:
                slug += _SLUG_TAILS[int(rand() * len(_SLUG_TAILS))]
            domain = f"{slug}.{self.tld_pick.pick(rand())}"
        cid = self.next_company
        self.next_company += 1
        batch.companies.append((cid, name, f"https://{domain}", received))
        self.company_by_host.setdefault(domain.lower(), cid)
        self.company_by_name.setdefault(name, cid)
        company = (cid, name, domain, english)
        if len(self.companies) < 20000:
            self.companies.append(company)
        else:
            self.companies[self.companies_pos] = company
            self.companies_pos = (self.companies_pos + 1) % 20000
        return company

    def _identity(self, lead_id: int, received: str, batch: _Batch) -> _Identity:
        rng = self.rng
        rand = rng.random
        english = rand() < 0.12
        female = rand() < 0.45
        pool = _POOLS[(not english, female)]
        first, first_lat = pool.first[int(rand() * len(pool.first))]
        last, last_lat = pool.last[int(rand() * len(pool.last))]
        cid, cname, domain, _ = self._company(english, last, received, batch)
        style = int(rand() * 6)
        if style == 0:
            local = f"{first_lat}.{last_lat}"
        elif style == 1:
            local = f"{first_lat[0]}.{last_lat}"
        elif style == 2:
            local = f"{last_lat}.{first_lat}"
        elif style == 3:
            local = f"{first_lat[0]}{last_lat}"
        elif style == 4:
            local = f"{first_lat}_{last_lat[0]}"
        else:
            local = f"{last_lat}{int(rand() * 90) + 10}"
        if rand() < 0.55:
            email = f"{local}@{domain}"
        else:
            mails = self.en_mail_pick if english else self.ru_mail_pick
            if rand() < 0.5:
                local += str(int(rand() * 2000))
            email = f"{local}@{mails.pick(rand())}"
        r = rand()
        if english and r < 0.5:
            phone = "+44" + str(7000000000 + int(rand() * 999999999))
        elif r < 0.8:
            phone = "+79" + str(100000000 + int(rand() * 899999999))  # mobile
        elif r < 0.96:
            code = ("495", "499", "812", "343", "383", "843")[int(rand() * 6)]
            phone = "+7" + code + str(1000000 + int(rand() * 8999999))
        else:
            phone = ""  # an e-mail-only request
        website = f"https://{domain}" if rand() < 0.8 else ""
        name = f"{first} {last}" if rand() < 0.85 else first
        contact_id = self.next_contact
        self.next_contact += 1
        positions = _EN_POSITIONS if english else _POSITIONS
        position = positions[int(rand() * len(positions))]
        batch.contacts.append((contact_id, name, email, phone, position, cid, received))
        return _Identity(
            lead_id,
            name,
            email,
            phone,
            cname,
            website,
            contact_id,
            english,
            f"https://{domain}",
            position,
        )

    def _attribution(self, kind: str, service: str, month: str) -> str:
        """The attribution JSON, written out directly: every value is a known token
        with nothing to escape, and json.dumps per lead is measurable at a million."""
        rand = self.rng.random
        utm_source, medium, click = self.channel_pick[kind].pick(rand())
        parts = []
        if utm_source:  # organic visits and manual entries carry no tags at all
            parts.append(f'"utm_source": "{utm_source}", "utm_medium": "{medium}"')
            if medium in ("cpc", "paid_social"):
                region = _CAMPAIGN_REGIONS[int(rand() * len(_CAMPAIGN_REGIONS))]
                ckind = _CAMPAIGN_KINDS[int(rand() * len(_CAMPAIGN_KINDS))]
                parts.append(f'"utm_campaign": "{service or "brand"}_{region}_{ckind}"')
            elif medium == "email":
                parts.append(f'"utm_campaign": "digest_{month}"')
        if click and rand() < 0.8:  # click ids get lost on some redirects
            if click == "yclid":
                value = str(10**16 + int(rand() * 9 * 10**16))
            else:
                size = 34 if click == "gclid" else 40
                alphabet = _CLICK_ALPHABET
                value = ("Cj0KCQ" if click == "gclid" else "IwAR") + "".join(
                    [alphabet[int(rand() * 64)] for _ in range(size)]
                )
            parts.append(f'"{click}": "{value}"')
        return "{" + ", ".join(parts) + "}"

    def _message(
        self, service: str, english: bool, spam: bool, website: str
    ) -> tuple[str, str, int]:
        """The request's text, and the region and monthly budget (thousand roubles) the
        client has in mind: the SDR's answers agree with them."""
        rng = self.rng
        rand = rng.random
        region = _REGIONS[int(rand() * len(_REGIONS))]
        budget = _BUDGETS[int(rand() * len(_BUDGETS))]
        if spam:
            return _SPAM_MESSAGES[int(rand() * len(_SPAM_MESSAGES))], region, budget
        templates = (_EN_MESSAGES if english else _RU_MESSAGES)[service]
        text = templates[int(rand() * len(templates))]
        if "{" not in text:
            return text, region, budget
        site = website.removeprefix("https://") or ("our website" if english else "нашего сайта")
        return text.format(site=site, region=region, budget=budget), region, budget

    # ---- histories ---------------------------------------------------------------
    def _delay(self, source: str, target: str) -> int:
        """Seconds the move takes: log-normal around its median, from a quantile table
        (a fifth of the cost of rng.lognormvariate; a million leads make 5 million)."""
        median = self.medians[(source, target)]
        return max(300, int(median * _SPREAD[int(self.rng.random() * _NORMAL_SIZE)]))

    def _first_contact(self, received: int) -> int:
        """When a request closed without a call (spam, a test entry) is closed: within
        30 minutes in working hours, as a rule."""
        rng = self.rng
        cal = self.cal
        start = cal.to_work(received, int(rng.random() * 2400))
        r = rng.random()
        if start != received:  # arrived after hours: first thing next morning
            delay = 60 + int(rng.expovariate(1 / 900))
        elif r < 0.8:
            delay = 60 + int(rng.random() * 1620)
        elif r < 0.95:
            delay = 1800 + int(rng.random() * 5400)
        else:
            delay = 7200 + int(rng.random() * 18000)
        return cal.to_work(start + delay, int(rng.random() * 1800))

    def generate(self, n: int) -> Iterator[_Batch]:
        """Yield batches of rows for ``n`` leads, in id order."""
        arrivals = self.cal.arrivals(self.rng, n)
        held = self._held(arrivals)
        forced = self._forced_returns(arrivals, held)
        batch = _Batch()
        outputs = (batch.clocks, batch.breaches, batch.notifications)
        fmt = self.fmt
        rng = self.rng
        services = self.cast.services
        for i in range(n):
            received = arrivals[i]
            lead_id = self.next_lead
            self.next_lead += 1
            received_s = fmt(received)
            force = forced.get(i, "")
            spam = rng.random() < 0.035 and not force
            dup_of: _Identity | None = None
            if self.recent and rng.random() < 0.03 and not force:
                # Someone writes again about the same need, usually within weeks.
                window = min(len(self.recent), 4000)
                back = 1 + int(rng.random() * window)
                dup_of = self.recent[(self.recent_pos - back) % len(self.recent)]
                ident = dup_of
            else:
                ident = self._identity(lead_id, received_s, batch)
                if len(self.recent) < 20000:
                    self.recent.append(ident)
                    self.recent_pos = len(self.recent) % 20000
                else:
                    self.recent[self.recent_pos] = ident
                    self.recent_pos = (self.recent_pos + 1) % 20000
            service = self.service_pick.pick(rng.random())
            source_id, kind = self.source_pick.pick(rng.random())
            month = self.cal.month_keys[(received + self.cal.offset) // _DAY - self.cal.first_day]
            attribution = self._attribution(kind, service, month)
            message, region, budget = self._message(service, ident.english, spam, ident.website)
            company = ident.company if not spam else ""
            self.lead_service = service
            self.named_at = None
            self.lead_context = (ident.english, region, budget, ident.site, ident.position)
            self.lead_company = company
            self.lead_email = ident.email
            self.lead_site = ident.website.removeprefix("https://")
            hold = i in held
            state = self._walk(lead_id, received, spam, dup_of is not None, hold, force, batch)
            status, version, changed, sdr, manager, partner, routed = state[:7]
            end_reason, end_code, reached, first_touch, history = state[7:]
            service_id = services.get(self.lead_service)
            due, warn = self.sla.clocks(
                lead_id, service_id, source_id, history, outputs, self.named_at
            )
            batch.leads.append(
                (
                    lead_id,
                    status,
                    version,
                    ident.name,
                    ident.email,
                    ident.phone,
                    company,
                    ident.website,
                    message,
                    attribution,
                    ident.contact_id,
                    service_id,
                    source_id,
                    received_s,
                    sdr,
                    manager,
                    dup_of.lead_id if dup_of else None,
                    partner,
                    routed,
                    end_reason,
                    end_code,
                    changed,
                    *reached,
                    first_touch,
                    fmt(due) if due is not None else None,
                    fmt(warn) if warn is not None else None,
                    *(deal.row() if (deal := self.deal) is not None else _NO_DEAL),
                )
            )
            self.status_counts[status] = self.status_counts.get(status, 0) + 1
            for k, t in enumerate(reached):
                if t is not None:
                    self.stage_counts[k] += 1
            if len(batch.leads) >= 5000:
                self._count(batch)
                yield batch
                batch = _Batch()
                outputs = (batch.clocks, batch.breaches, batch.notifications)
        self._count(batch)
        yield batch

    def _held(self, arrivals: list[int]) -> set[int]:
        """The newest requests nobody has picked up yet, so the list shows live clocks:
        one in the second half of its first-contact deadline (amber), one past it (red).

        Their arrival times are set so, whenever ``now`` is: two of the year's oldest
        arrivals are moved to a few working minutes before it (before the last closing
        time when ``now`` is outside working hours). Returns their positions.
        """
        if len(arrivals) < 50:
            return set()
        work = self.first_contact_work
        rand = self.rng.random
        now = self.cal.now
        amber = work.back(now, 1200 + int(rand() * 450))
        red = work.back(now, 2700 + int(rand() * 3600))
        del arrivals[:2]
        arrivals.extend((amber, red))
        arrivals.sort()
        return {bisect.bisect_left(arrivals, amber), bisect.bisect_left(arrivals, red)}

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "statuses": dict(sorted(self.status_counts.items())),
            "stages": {s.value: n for s, n in zip(STAGE_ORDER, self.stage_counts, strict=True)},
            "return_states": dict(sorted(self.return_states.items())),
        }

    def _count(self, batch: _Batch) -> None:
        for name in _COUNTED:
            self.counts[name] += len(getattr(batch, name))
        for row in batch.returns:
            self.return_states[row[8]] = self.return_states.get(row[8], 0) + 1

    def _walk(
        self,
        lead_id: int,
        received: int,
        spam: bool,
        duplicate: bool,
        hold: bool,
        force: str,
        batch: _Batch,
    ) -> tuple[Any, ...]:
        """Walk one lead through the transition table; append its events and records.

        Mirrors ``transitions._apply`` for the row's owners, end reason and stages, and
        ``transitions.log_touch`` for the touches between the moves: the SDR's first
        call or e-mail (which stops the first-contact clock), a follow-up call when
        nobody answered, the manager's first touch after assignment. Before the first
        hand-off the SDR saves BANT and the questionnaires (``qualify.answers``); a
        disqualification and a loss carry a reason code; a referral, a routing and a
        return by sales leave their records (``qualify.routing``), and a return is
        answered and disputes decided as ``qualify.returns`` records them. ``hold``: a
        newest request nobody has picked up yet; ``force``: see ``_forced_returns``.
        Returns the row's values and the history the SLA clocks are worked out from.
        """
        rng = self.rng
        rand = rng.random
        cal = self.cal
        now = cal.now
        fmt = self.fmt
        cast = self.cast
        sdr_ids = self.sdr_ids
        self.touched = []
        events = batch.events
        append = events.append
        event_id = self.next_event
        status = NEW
        version = 1
        t = received
        sdr: int | None = None
        manager: int | None = None
        partner: int | None = None
        routed: int | None = None
        end_reason = ""
        end_code = ""
        reached: list[str | None] = [None] * _STAGE_COUNT  # as stored: formatted times
        at = fmt(t)
        append((event_id, lead_id, at, None, "created", "", NEW, "", '{"version": 1}'))
        event_id += 1
        history: History = [(received, CREATED, "", NEW, None, None, None, at)]
        first_touch: str | None = None  # as stored
        # Touches planned before the next move: (at, actor, channel, outcome), in order.
        pending: list[tuple[int, int, str, str]] = []
        manager_touch: int | None = None  # when the assigned manager means to act

        designated_sdr = self.sdr_pick.pick(rand())
        backward = 0
        returned = False  # bounced back to the SDR side at least once
        lost_from = ""
        disq_code = ""
        qualified = False  # BANT and every required answer saved
        ret: list[Any] | None = None  # a return by sales awaiting the SDR or a head
        self.deal = deal = None  # its sales records, once a manager has it
        how = ""
        assignment: list[Any] = []
        while not hold:
            # ---- decide the move ----
            reason = ""
            code = ""
            stale = False
            option_manager: int | None = None
            option_partner: int | None = None
            option_routed: int | None = None
            decided: tuple[int, int, str] | None = None  # a head overturns a return
            if status == SDR_PROCESSING and ret is not None:
                event_id, state, t, judge, note = self._answer_return(
                    ret, lead_id, t, force, event_id, batch
                )
                if state in ("open", "disputed"):
                    break  # waiting for the SDR or a head now
                force = ""
                if state == "overturned":
                    assert judge is not None
                    target, reason, decided = AWAITING, note, (t, judge, note)
                else:  # accepted or upheld: the SDR reworks the request
                    batch.returns.append(tuple(ret))
                    ret = None
                    target = self.after_return_pick.pick(rand())
                    if target == DISQUALIFIED:
                        reason, code = self.disq_pick.pick(rand())
            elif force and status in _FORCED_PATH:
                target = _FORCED_PATH[status]
            elif status == NEW:
                if spam and rand() < 0.7:
                    target = DISQUALIFIED
                    reason, code = _SPAM
                elif returned:
                    target = SDR_PROCESSING
                else:
                    target = self.next_pick[NEW].pick(rand())
                    if target == DISQUALIFIED:
                        reason, code = self.new_disq_pick.pick(rand())
            elif status == SDR_PROCESSING:
                if spam:
                    target = DISQUALIFIED
                    reason, code = _SPAM
                elif duplicate and not returned and rand() < 0.7:
                    target = DISQUALIFIED
                    reason, code = _DUPLICATE
                elif returned:
                    target = self.after_return_pick.pick(rand())
                else:
                    picks = self.next_pick if backward < _MAX_BACKWARD else self.next_forward_pick
                    target = picks[SDR_PROCESSING].pick(rand())
                if target == DISQUALIFIED and not code:
                    reason, code = self.disq_pick.pick(rand())
                elif target == REFERRED:
                    option_partner = self.partner_pick.pick(rand())
                    reasons = cast.partner_info[option_partner][2]
                    reason = reasons[int(rand() * len(reasons))]
                elif target == ROUTED:
                    use_group = rand() < 0.7
                    option_routed = cast.group_company if use_group else cast.other_department
                    reason = _ROUTE_REASONS[0 if use_group else 1] if rand() < 0.6 else ""
            elif status == AWAITING and now - t < 5 * _DAY and rand() < 0.3:
                break  # the newest MQLs still wait in the assignment queue
            elif status in _NEXT:
                picks = self.next_pick if backward < _MAX_BACKWARD else self.next_forward_pick
                target = picks[status].pick(rand())
                if not target and status in _SALES_STALL:
                    # Forgotten by sales: the client stops answering, and the lead is
                    # closed as lost a month or so later (until then, it waits).
                    target = LOST
                    reason, code = _NO_RESPONSE
                    stale = True
                    lost_from = status
                elif target == LOST:
                    reason, code = self.lost_pick.pick(rand())
                    lost_from = status
            elif status == LOST:
                if backward >= _MAX_BACKWARD or rand() >= 0.04:
                    break
                target = lost_from if lost_from in (BRIEF, PROPOSAL, CONTRACT) else DISCUSSION
                options = _BACKWARD_REASONS[(LOST, "*")]
                reason = options[int(rand() * len(options))]
            elif status in (DISQUALIFIED, REFERRED, ROUTED):
                chance = 0.03
                if status == DISQUALIFIED:
                    chance = 0.12 if disq_code == _UNREACHABLE else 0.01
                    if disq_code in _FINAL_CODES:
                        chance = 0.0
                if backward >= _MAX_BACKWARD or rand() >= chance:
                    break
                target = SDR_PROCESSING
            else:  # converted
                break
            if not target:
                break  # stalled: nobody moved it further
            move_back = (status, target) in _BACKWARD_REASONS
            if move_back and not reason:
                options = _BACKWARD_REASONS[(status, target)]
                reason = options[int(rand() * len(options))]

            # ---- when, and by whom ----
            actor: int | None
            if decided is not None:
                nt = decided[0]
            elif status == NEW and not returned and target == SDR_PROCESSING and not spam:
                nt = self._plan_first_touch(received, designated_sdr, pending)
            elif status == NEW and not returned:
                nt = self._first_contact(t)
            else:
                delay = self._delay(status, target)
                if stale:
                    delay = int(_STALE_MEDIAN_DAYS * _DAY * _SPREAD[int(rand() * _NORMAL_SIZE)])
                # A move due out of hours: SDR work waits for the next opening, while
                # sales work that takes days lands anywhere in a working day.
                span = 3600 if delay < 12 * _HOUR else _WORK_END - _WORK_START - 600
                nt = cal.to_work(t + delay, int(rand() * span))
                if force and status == ASSIGNED:
                    # Returned lately, so the SDR (or a head) has it to answer now.
                    hours = (1 + rand() * 3) if force == "open" else (6 + rand() * 10)
                    nt = max(nt, self.first_contact_work.back(now, int(hours * _HOUR)))
            if nt <= t:
                nt = t + 60
            if manager is not None and status in _SALES_RECORDS:
                event_id, version, manager, nt = self._sales_before(
                    lead_id, status, target, code, t, nt, manager, version, event_id, batch
                )
            if manager_touch is not None:
                # The manager acts before the lead moves on: when they meant to, or just
                # before the move; a lead handed back to the queue was never touched.
                if target != AWAITING and nt - t > 180:
                    touch_at = min(manager_touch, nt - 60 - int(rand() * min(1800, nt - t - 120)))
                    channel, outcome = self.manager_touch_pick.pick(rand())
                    assert manager is not None
                    pending.append((touch_at, manager, channel, outcome))
                manager_touch = None
            if pending:
                event_id, version, sdr = self._touches(
                    lead_id, pending, nt - 1, status, version, sdr, manager, event_id, events
                )
                history.extend(self.touched)
                if first_touch is None and self.touched:
                    first_touch = self.touched[0][7]
            if nt > now:
                break  # not happened yet: the lead waits in its status
            if decided is not None:
                actor = decided[1]
            elif target == ASSIGNED:
                option_manager, actor, how, assignment = self._assignee(nt, manager)
            elif target == BRIEF and status == DISCUSSION and deal is not None and deal.fill:
                # The client's own fill moves the lead; a call's, the manager who took it.
                actor = None if deal.fill == "client" else manager
            elif status == AWAITING and target == SDR_PROCESSING:
                # Whoever looked at the MQL: a sales manager from the queue or its SDR.
                actor = self.sales_pick.pick(rand()) if rand() < 0.5 else (sdr or designated_sdr)
            elif status in (NEW, SDR_PROCESSING, DISQUALIFIED, ROUTED, REFERRED):
                if status == REFERRED and rand() < 0.5:
                    actor = cast.partner_manager
                elif sdr is not None and rand() < 0.05:
                    actor = cast.head_marketing
                else:
                    actor = sdr if sdr is not None else designated_sdr
            else:  # the sales side works its own leads; the head steps in now and then
                assert manager is not None
                actor = cast.head_sales if rand() < 0.08 else manager
            returning = target == SDR_PROCESSING and status in _SALES_HELD and actor in self.sales
            if returning:
                # Sales sends the MQL back: a return, with a code from the list.
                why = _RETURN_REASONS[status]
                reason, code = why[int(rand() * len(why))]
            if target == AWAITING and status == SDR_PROCESSING and not qualified:
                assert sdr is not None
                start = max(t, self.touched[-1][0]) if self.touched else t
                event_id, named = self._qualify(lead_id, start, nt, sdr, True, event_id, batch)
                version += named
                qualified = True

            # ---- apply, as transitions._apply does ----
            version += 1
            data = f'{{"version": {version}'
            if code:
                data += f', "reason_code": "{code}"'
            if deal is not None:
                if target == LOST and code in _COMPETITOR_CODES and rand() < 0.33:
                    deal.lost_to = _COMPETITORS[int(rand() * len(_COMPETITORS))]
                    data += f', "competitor": "{deal.lost_to}"'
                else:
                    deal.lost_to = ""
            if target == NEW:
                if sdr is not None:  # released to the queue: anyone may claim it again
                    sdr = None
                    data += ', "sdr": null'
            elif sdr is None and actor in sdr_ids:
                sdr = actor
                data += f', "sdr": {sdr}'
            if target == ASSIGNED:
                manager = option_manager
                data += f', "manager": {manager}'
            if target in _BEFORE_SALES and manager is not None:
                manager = None
                data += ', "manager": null'
            if target == REFERRED:
                partner = option_partner
                data += f', "partner": {partner}'
            elif partner is not None:  # a reopened referral is no longer the partner's
                partner = None
                data += ', "partner": null'
            if target == ROUTED:
                routed = option_routed
                data += f', "routed_to": {routed}'
            elif routed is not None:
                routed = None
                data += ', "routed_to": null'
            data += "}"
            ends = target in (DISQUALIFIED, LOST)
            end_reason = reason if ends else ""
            end_code = code if ends else ""
            if target == DISQUALIFIED:
                disq_code = code
            at = fmt(nt)
            stage = _STAGE_INDEX.get(target)
            if stage is not None:
                for k in range(stage + 1):
                    if reached[k] is None:
                        reached[k] = at
            if move_back:
                backward += 1
                if target in (NEW, SDR_PROCESSING):
                    returned = True
            if deal is not None and deal.fill and target == BRIEF:
                assert manager is not None
                event_id = self._fill_brief(lead_id, nt, at, manager, event_id, batch)
                deal.fill = ""
            append((event_id, lead_id, at, actor, "status", status, target, reason, data))
            if target == ASSIGNED:
                assert manager is not None
                if deal is None:
                    deal = self.deal = _Deal(self.lead_email)
                event_id = self._assigned(
                    lead_id, nt, at, manager, actor, how, assignment, None, None,
                    event_id + 1, batch,
                ) - 1  # fmt: skip
            elif target == DISCUSSION and deal is not None and deal.client is None:
                deal.client = self._client()  # deals.link_client, when sales accepts it
            if target == REFERRED:
                assert partner is not None and actor is not None
                self._referred(lead_id, event_id, nt, at, actor, partner, reason, batch)
            elif target == ROUTED:
                routing_id = self.next_routing
                self.next_routing += 1
                batch.routings.append((routing_id, lead_id, routed, reason, at, actor))
            event_id += 1
            history.append((nt, STATUS, status, target, actor, sdr, manager, at))
            if returning:
                ret = [self.next_return, lead_id, status, at, actor, sdr, code, reason]
                ret += ["open", "", None, None, "", None]
                self.next_return += 1
                data = json.dumps({"reason_code": code, "reason": reason}, ensure_ascii=False)
                self._tell((sdr,), lead_id, "lead_returned", data, nt, f"return-{ret[0]}", batch)
            elif decided is not None:
                assert ret is not None
                _, judge, note = decided
                event_id = self._decided(
                    ret, lead_id, "overturned", nt, judge, note, event_id, batch
                )
                batch.returns.append(tuple(ret))
                ret = None
            status = target
            t = nt
            if pending:  # the SDR calls after taking the request: the next move waits
                t = max(t, pending[-1][0])
            if target == ASSIGNED:
                assert manager is not None
                manager_touch = self._manager_touch(nt, sdr, manager)
        if pending:
            event_id, version, sdr = self._touches(
                lead_id, pending, now, status, version, sdr, manager, event_id, events
            )
            history.extend(self.touched)
            if first_touch is None and self.touched:
                first_touch = self.touched[0][7]
        if status == SDR_PROCESSING and not qualified and sdr is not None:
            start = max(t, self.touched[-1][0]) if self.touched else t
            if now - start > 600:
                # Being qualified now: the SDR has saved some of it, or all.
                event_id, named = self._qualify(lead_id, start, now, sdr, False, event_id, batch)
                version += named
        if ret is not None:
            batch.returns.append(tuple(ret))
        if deal is not None:
            if status == CONVERTED:
                assert manager is not None
                event_id = self._later_payments(lead_id, manager, event_id, batch)
                if deal.client is not None and self.lead_site and len(self.clients) < 5000:
                    english = self.lead_context[0]
                    self.clients.append((deal.client, self.lead_company, self.lead_site, english))
            deal.flush(batch)
        self.next_event = event_id
        return (
            status,
            version,
            at,
            sdr,
            manager,
            partner,
            routed,
            end_reason,
            end_code,
            reached,
            first_touch,
            history,
        )

    # ---- the sales workspace's records ----------------------------------------------
    def _assignee(self, at: int, previous: int | None) -> tuple[int, int | None, str, list[Any]]:
        """Who gets an MQL at ``at`` and how (``engine.assign``): (manager, the actor, how,
        the Assignment row's strategy, rule and why). The engine goes by the first
        matching rule, else the settings' strategy, skipping whoever is away or off
        shift; the head and a manager taking a lead keep to the rules' teams too."""
        rand = self.rng.random
        cast = self.cast
        how = self.how_pick.pick(rand())
        english = self.lead_context[0]
        rule: int | None = None
        strategy = cast.strategy
        pool = self.pools[None]
        for rule_id, _, kind, value, _, rule_strategy in cast.rules:
            if (value == "en") == english if kind == "language" else value == self.lead_service:
                rule, pool = rule_id, self.pools[rule_id]
                strategy = rule_strategy or cast.strategy
                break
        away = self._away(at)
        self.at = at
        manager = pool.pick(rand())
        for _ in range(12):
            off = how == "auto" and manager == cast.shift_manager and not self._on_shift(at)
            if manager != previous and manager not in away and not off:
                break
            manager = (pool if rand() < 0.7 else self.pools[None]).pick(rand())
        if how != "auto":
            # The head's pick goes through engine.assign; a manager's own take is a plain
            # move, which the engine's hook records the same way.
            if how == "manual":
                return manager, cast.head_sales, how, ["", None, "{}"]
            return manager, manager, how, ["", None, '{"how": "self"}']
        return manager, None, how, [strategy, rule, self._why(manager, strategy, rule, away)]

    def _on_shift(self, at: int) -> bool:
        return self.cast.shift is None or self.cast.shift.working(at)

    def _away(self, at: int) -> tuple[int, ...]:
        return tuple(m for m, start, end in self.cast.absences if start <= at < end)

    def _why(self, manager: int, strategy: str, rule: int | None, away: tuple[int, ...]) -> str:
        """The engine's reasons (``engine.decide``): the rule, the managers it compared
        with their open leads, cap and weight, those it skipped and why, and the one it
        chose. At most a few of each: a big team's full lists would be most of the data."""
        rand = self.rng.random
        cast = self.cast
        names = cast.names
        english = self.lead_context[0]
        members = self.members.get(rule)
        open_ = int(self.expected_load * (0.5 + 0.4 * rand()))
        considered = [(manager, open_)]
        skipped: list[tuple[int, str]] = []
        for m in cast.managers:
            if len(considered) >= 4 and len(skipped) >= 4:
                break  # a big team's lists would be most of the data
            if m == manager:
                continue
            if members is not None and m not in members:
                reason = "not_in_rule"
            elif m in away:
                reason = "absent"
            elif m == cast.shift_manager and not self._on_shift(self.at):
                reason = "off_shift"
            elif english and "en" not in self.speaks.get(m, ("en",)):
                reason = "language"
            else:
                reason = ""
            if reason:
                if len(skipped) < 4:
                    skipped.append((m, reason))
            elif len(considered) < 4:
                more = 1 + int(rand() * 5) if strategy == "least_loaded" else int(rand() * 9) - 4
                considered.append((m, max(0, open_ + more)))
        considered.sort()
        rows = ", ".join(
            f'{{"id": {m}, "name": "{names[m]}", "open": {n}, "cap": {cast.caps[m]}, '
            f'"weight": {cast.weights[m]}}}'
            for m, n in considered
        )
        gone = ", ".join(
            f'{{"id": {m}, "name": "{names[m]}", "reason": "{r}"}}' for m, r in skipped
        )
        if strategy == "least_loaded":
            because = f"least_loaded: {open_} open leads"
        elif strategy == "weighted":
            total = sum(cast.weights[m] for m, _ in considered)
            because = f"weighted: weight {cast.weights[manager]} of {total}"
        else:
            before = [m for m, _ in considered if m < manager]
            because = f"round_robin: next after {before[-1] if before else '-'}"
        found = next((r for r in cast.rules if r[0] == rule), None)
        ruled = f'{{"id": {rule}, "name": "{found[1]}"}}' if found is not None else "null"
        return (
            f'{{"strategy": "{strategy}", "rule": {ruled}, "considered": [{rows}], '
            f'"skipped": [{gone}], "chosen": {{"id": {manager}, "name": "{names[manager]}"}}, '
            f'"because": "{because}"}}'
        )

    def _assigned(
        self,
        lead_id: int,
        when: int,
        at: str,
        manager: int,
        actor: int | None,
        how: str,
        record: list[Any],
        previous: int | None,
        version: int | None,
        event_id: int,
        batch: _Batch,
    ) -> int:
        """The Assignment row and its ``assignment`` event (``engine.assign``), and the
        manager told unless they took the lead themselves. Returns the next event id."""
        strategy, rule, why = record
        assignment_id = self.next_assignment
        self.next_assignment += 1
        batch.assignments.append(
            (assignment_id, lead_id, manager, previous, at, actor, how, strategy, rule, why)
        )
        data = (
            f'{{"assignment": {assignment_id}, "manager": {manager}, "how": "{how}", '
            f'"strategy": "{strategy}", "rule": {rule if rule is not None else "null"}'
        )
        if version is not None:  # a reassignment moves the lead's version on
            data += f', "version": {version}, "previous": {previous}'
        batch.events.append((event_id, lead_id, at, actor, "assignment", "", "", "", data + "}"))
        if how != "self":
            told = json.dumps({"company": self.lead_company}, ensure_ascii=False)
            key = f"assigned:{assignment_id}"
            self._tell((manager,), lead_id, "lead_assigned_manager", told, when, key, batch)
        return event_id + 1

    def _reassign(
        self, lead_id: int, when: int, manager: int, version: int, event_id: int, batch: _Batch
    ) -> tuple[int, int, int]:
        """The head gives an accepted lead to another manager (a colleague leaves, a
        load to even out). Returns the next event id, the version, the new manager."""
        rand = self.rng.random
        away = self._away(when)
        new = self.pools[None].pick(rand())
        for _ in range(12):
            if new != manager and new not in away:
                break
            new = self.pools[None].pick(rand())
        if new == manager:
            return event_id, version, manager
        version += 1
        event_id = self._assigned(
            lead_id, when, self.fmt(when), new, self.cast.head_sales, "reassign",
            ["", None, "{}"], manager, version, event_id, batch,
        )  # fmt: skip
        return event_id, version, new

    def _between(self, lo: int, hi: int, share: float) -> int:
        """A moment ``share`` of the way from ``lo`` to ``hi``, in working hours when it
        fits, always strictly between them (given room)."""
        x = lo + int((hi - lo) * share)
        y = self.cal.to_work(x, int(self.rng.random() * 1800))
        if lo < y < hi:
            return y
        return min(max(x, lo + 1), hi - 1)

    def _sales_before(
        self,
        lead_id: int,
        status: str,
        target: str,
        code: str,
        t: int,
        nt: int,
        manager: int,
        version: int,
        event_id: int,
        batch: _Batch,
    ) -> tuple[int, int, int, int]:
        """What the manager (or the client) records while the lead is in ``status``
        before its move to ``target`` at ``nt``: a reassignment now and then, the brief
        sent, demos, the proposal's versions, the contract and first payment the gates
        want. What would happen after ``now`` has not happened yet. Returns the next
        event id, the lead's version, its manager and when the move comes (later, if
        the records need more room than the walk gave them)."""
        deal = self.deal
        assert deal is not None
        rand = self.rng.random
        now = self.cal.now
        nt = max(nt, t + _ROOM[status])
        if rand() < _REASSIGN_SHARE:
            when = self._between(t, nt, 0.03 + 0.1 * rand())
            if when <= now:
                event_id, version, manager = self._reassign(
                    lead_id, when, manager, version, event_id, batch
                )
                t = when
        if status == DISCUSSION:
            deal.fill = ""
            if target == BRIEF and deal.filled:
                return event_id, version, manager, nt  # filled before it went back
            if target == BRIEF:
                deal.fill = "client" if rand() < _BRIEF_BY_CLIENT else "call"
            if deal.fill == "client" or (target != BRIEF and rand() < 0.35):
                link = self.cast.brief_forms[self.lead_service][3] * _DAY
                sent = self._between(t, nt, 0.1 + 0.5 * rand())
                if deal.fill == "client" and nt - sent >= link:
                    sent = self._between(max(t, nt - link + _HOUR), nt, 0.2)
                if sent <= now:
                    event_id = self._send_brief(lead_id, sent, manager, event_id, batch)
        elif status == BRIEF:
            required = self.lead_service in self.cast.demo_required
            if target == PROPOSAL and not deal.held and (required or rand() < _DEMO_SHARE):
                event_id = self._demos(lead_id, t, nt, manager, True, event_id, batch)
            elif target in (LOST, PROPOSAL) and not deal.held and rand() < 0.25:
                event_id = self._demos(lead_id, t, nt, manager, False, event_id, batch)
        elif status == PROPOSAL:
            event_id = self._proposals(lead_id, target, code, t, nt, manager, event_id, batch)
        elif status == CONTRACT and (target == CONVERTED or rand() < 0.55):
            when = self._between(t, nt, 0.1 + 0.3 * rand())
            if when <= now:
                event_id = self._contract(lead_id, when, manager, event_id, batch)
            if target == CONVERTED:
                # The first charge comes soon after signing; the deal is marked
                # converted when the manager gets to it.
                paid = min(when + _HOUR + int(rand() * 4 * _DAY), nt - 60)
                if paid <= now:
                    event_id = self._first_payment(lead_id, paid, manager, event_id, batch)
        return event_id, version, manager, nt

    def _uuid(self, row_id: int) -> str:
        """A random UUID from the generator's Random, unique per row id: the same seed
        gives the same data, and a second load with it no taken (unique) value."""
        bits = self.rng.getrandbits(128) >> 64 << 64 | row_id
        return str(uuid.UUID(int=bits, version=4))

    def _client(self) -> int | None:
        """``deals.find_client``: the first company with the request's website, else
        with its company's name (every request that reaches sales names one)."""
        if self.lead_site:
            found = self.company_by_host.get(self.lead_site)
            if found is not None:
                return found
        return self.company_by_name.get(self.lead_company)

    # The brief.
    def _send_brief(
        self, lead_id: int, when: int, manager: int, event_id: int, batch: _Batch
    ) -> int:
        """``briefs.send_brief``: a brief made from the service's template, the link
        e-mailed to the client. Returns the next event id."""
        deal = self.deal
        assert deal is not None
        service_id, fields, _, days = self.cast.brief_forms[self.lead_service]
        brief_id = self.next_brief
        self.next_brief += 1
        at = self.fmt(when)
        expires = self.fmt(when + days * _DAY)
        nonce = self._uuid(brief_id)
        email = deal.email
        for row in deal.briefs:  # a new link withdraws the ones not filled in
            if row[11] is None and row[14] is None:
                row[14] = at
        deal.briefs.append(
            [brief_id, lead_id, service_id, fields, "{}", nonce, at, manager, email, at,
             expires, None, "", None, None]
        )  # fmt: skip
        data = f'{{"brief": {brief_id}, "action": "sent", "to": "{email}"}}'
        batch.events.append((event_id, lead_id, at, manager, "brief", "", "", "", data))
        return event_id + 1

    def _fill_brief(
        self, lead_id: int, when: int, at: str, manager: int, event_id: int, batch: _Batch
    ) -> int:
        """``fill_by_client`` (the link sent last) or ``fill_from_call`` (a brief made
        and filled at once), just before the move to ``brief_filled`` they make."""
        deal = self.deal
        assert deal is not None
        service_id, fields, form, _ = self.cast.brief_forms[self.lead_service]
        values = json.dumps(self._brief_values(form, when), ensure_ascii=False)
        client = deal.fill == "client"
        if client:
            row = deal.briefs[-1]
            row[4], row[11], row[12] = values, at, "client"
            actor = None
            told = json.dumps({"company": self.lead_company}, ensure_ascii=False)
            key = f"brief_filled:{row[0]}"
            self._tell((manager,), lead_id, "brief_filled", told, when, key, batch)
        else:
            # A link sent and not used is the brief the manager fills in from the call.
            open_ = [row for row in deal.briefs if row[11] is None and row[14] is None]
            if open_:
                row = open_[-1]
                row[4], row[11], row[12], row[13] = values, at, "call", manager
            else:
                nonce = self._uuid(self.next_brief)
                row = [self.next_brief, lead_id, service_id, fields, values, nonce, at,
                       manager, "", None, None, at, "call", manager, None]  # fmt: skip
                self.next_brief += 1
                deal.briefs.append(row)
            actor = manager
        deal.filled = True
        data = f'{{"brief": {row[0]}, "action": "filled", "via": "{row[12]}"}}'
        batch.events.append((event_id, lead_id, at, actor, "brief", "", "", "", data))
        return event_id + 1

    def _brief_values(self, form: _Form, at: int) -> dict[str, Any]:
        """Every required answer and most optional ones, as ``fields.clean`` keeps them."""
        rand = self.rng.random
        out: dict[str, Any] = {}
        value = self.answers._value
        for key, kind, required, choices in form.fields:
            if required or rand() < 0.7:
                found = value(key, kind, choices, at)
                if found is not None:
                    out[key] = found
        return out

    # Demos.
    def _demos(
        self, lead_id: int, t: int, nt: int, manager: int, held: bool, event_id: int,
        batch: _Batch,
    ) -> int:  # fmt: skip
        """``demos.schedule_demo`` and ``update_demo``: one demo held before the proposal
        (now and then moved, or a first one the client missed), or, for a lead that goes
        nowhere, one cancelled or missed. Those still ahead stay scheduled."""
        rand = self.rng.random
        r = rand()
        if held and r < 0.12:  # the client did not come; a second one is held
            event_id, when = self._demo(lead_id, t, t + (nt - t) // 2, manager, "no_show",
                                        event_id, batch)  # fmt: skip
            return self._demo(lead_id, when, nt, manager, "held", event_id, batch)[0]
        if held:
            end = "rescheduled" if r < 0.22 else "held"
        else:
            end = "cancelled" if r < 0.5 else "no_show" if r < 0.7 else "held"
        return self._demo(lead_id, t, nt, manager, end, event_id, batch)[0]

    def _demo(
        self, lead_id: int, t: int, nt: int, manager: int, end: str, event_id: int,
        batch: _Batch,
    ) -> tuple[int, int]:  # fmt: skip
        """One demo between ``t`` and ``nt``: scheduled, then (once it is past) ``end``;
        "rescheduled": moved once, then held. Returns the next event id and when the
        last thing about it was recorded."""
        deal = self.deal
        assert deal is not None
        rand = self.rng.random
        now = self.cal.now
        fmt = self.fmt
        cast = self.cast
        scheduled = self._between(t, nt, 0.05 + 0.15 * rand())
        if scheduled > now:
            return event_id, scheduled
        minutes = (60, 60, 45, 90, 30)[int(rand() * 5)]
        starts = self._slot(scheduled, nt, 0.45 + 0.2 * rand(), minutes)
        kind = self.demo_format_pick.pick(rand())
        if kind == "online":
            location = f"https://telemost.yandex.ru/j/{int(rand() * 9e13) + 10**13}"
        elif kind == "office":
            location = _OFFICE
        else:
            location = f"Офис клиента, {self.answers.region or 'Москва'}"
        attendees = json.dumps([deal.email, cast.emails[manager]])
        note = _DEMO_NOTES[int(rand() * len(_DEMO_NOTES))]
        demo_id = self.next_demo
        self.next_demo += 1
        uid = self._uuid(demo_id)
        at = fmt(scheduled)
        row = [demo_id, lead_id, fmt(starts), minutes, kind, location, attendees, "scheduled",
               note, uid, 0, at, manager, at]  # fmt: skip
        deal.demos.append(row)
        events = batch.events
        actions = [(scheduled, "scheduled", starts)]
        last = scheduled
        if end == "rescheduled":
            moved = self._between(scheduled, starts, 0.5)
            later = self._slot(starts, nt, 0.5, minutes)
            actions.append((moved, "rescheduled", later))
            starts = later
            end = "held"
        over = starts + minutes * 60
        if end == "cancelled":
            actions.append((self._between(scheduled, starts, 0.6), "cancelled", starts))
        else:
            done = over + 300 + int(rand() * 1800) if end == "held" else starts + 1800
            actions.append((min(done, nt - 60), end, starts))
        for when, action, begins in actions:
            if when > now:
                break
            at = fmt(when)
            row[13] = at
            if action == "rescheduled":
                row[2] = fmt(begins)
                row[10] += 1
            elif action != "scheduled":
                row[7] = action
                if action == "cancelled":
                    row[10] += 1
                elif action == "held":
                    deal.held = True
            data = f'{{"demo": {demo_id}, "action": "{action}", "starts_at": "{_iso(begins)}"}}'
            events.append((event_id, lead_id, at, manager, "demo", "", "", "", data))
            event_id += 1
            last = when
        return event_id, last

    def _slot(self, lo: int, hi: int, share: float, minutes: int) -> int:
        """A demo's start on the half hour in working hours, ending before ``hi``."""
        x = self._between(lo, hi - minutes * 60 - 600, share)
        slot = x - x % 1800
        return slot if slot > lo else x

    # Proposals.
    def _price(self) -> None:
        """The deal's shape from the client's budget: a retainer's monthly fee and
        term, or a project's price, in the budget's currency."""
        deal = self.deal
        assert deal is not None
        rand = self.rng.random
        service = self.lead_service
        budget = max(self.answers.budget, 1)
        rub = self.answers.currency == "RUB"
        step = 1000 if rub else 100
        deal.currency = self.answers.currency
        if rand() < _ONE_OFF_SHARE.get(service, 0.0):
            deal.term = None
            price = budget * (0.8 + 0.5 * rand())
        else:
            deal.term = _TERMS[int(rand() * len(_TERMS))]
            factor = 0.3 + 0.4 * rand() if service == "ppc" else 0.6 + 0.6 * rand()
            deal.monthly = max(30 * step if rub else 5 * step, round(budget * factor / step) * step)
            price = deal.monthly * deal.term
        deal.price = max(step, round(price / step) * step)

    def _proposals(
        self, lead_id: int, target: str, code: str, t: int, nt: int, manager: int,
        event_id: int, batch: _Batch,
    ) -> int:  # fmt: skip
        """``proposals.save_proposal`` and ``set_proposal_state`` while the lead is in
        ``proposal``: one to three versions, each sent; the last accepted before the
        contract, rejected after a loss on price or to a competitor."""
        deal = self.deal
        assert deal is not None
        rand = self.rng.random
        now = self.cal.now
        r = rand()
        count = 1 if r < 0.55 else 2 if r < 0.88 else 3
        if target == BRIEF:
            count = 1
        end = "accepted" if target == CONTRACT else ""
        if target == LOST and code in _COMPETITOR_CODES:
            end = "rejected"
        if deal.price == 0:
            self._price()
        span = (nt - t) / count
        for k in range(count):
            lo = t + int(span * k)
            hi = t + int(span * (k + 1))
            created = self._between(lo, hi, 0.1 + 0.2 * rand())
            if created > now:
                break
            if deal.proposals:
                deal.price = max(1, round(deal.price * (0.85 + 0.12 * rand()) / 100) * 100)
                if deal.monthly and deal.term:
                    deal.monthly = max(1, deal.price // deal.term)
                    deal.price = deal.monthly * deal.term
            event_id, row = self._proposal(lead_id, created, manager, event_id, batch)
            sent = self._between(created, hi, 0.2 + 0.3 * rand())
            if sent > now:
                break
            event_id = self._proposal_state(lead_id, row, "sent", sent, manager, event_id, batch)
            last = k == count - 1
            state = end if last else ("rejected" if rand() < 0.45 else "")
            if state:
                when = self._between(sent, hi, 0.7 + 0.25 * rand())
                if when <= now:
                    event_id = self._proposal_state(
                        lead_id, row, state, when, manager, event_id, batch
                    )
        return event_id

    def _proposal(
        self, lead_id: int, when: int, manager: int, event_id: int, batch: _Batch
    ) -> tuple[int, list[Any]]:
        """A new version with its items; the lead's expected deal value follows it."""
        deal = self.deal
        assert deal is not None
        proposal_id = self.next_proposal
        self.next_proposal += 1
        version = len(deal.proposals) + 1
        amount = f"{deal.price}.00"
        at = self.fmt(when)
        row = [proposal_id, lead_id, version, amount, deal.currency, deal.term, "draft", "",
               "", "", at, manager, None, None]  # fmt: skip
        deal.proposals.append(row)
        service_id = self.cast.services.get(self.lead_service)
        items = _ITEMS.get(self.lead_service) or (("Услуги агентства", 1.0),)
        left = deal.price
        for order, (text, share) in enumerate(items):
            part = left if order == len(items) - 1 else int(deal.price * share)
            left -= part
            deal.items.append(
                (self.next_item, proposal_id, service_id if order == 0 else None, text,
                 f"{part}.00", order)
            )  # fmt: skip
            self.next_item += 1
        deal.amount, deal.amount_currency = amount, deal.currency
        data = (
            f'{{"proposal": {proposal_id}, "version": {version}, "action": "created", '
            f'"amount": "{amount}", "currency": "{deal.currency}"}}'
        )
        batch.events.append((event_id, lead_id, at, manager, "proposal", "", "", "", data))
        return event_id + 1, row

    def _proposal_state(
        self, lead_id: int, row: list[Any], state: str, when: int, manager: int,
        event_id: int, batch: _Batch,
    ) -> int:  # fmt: skip
        at = self.fmt(when)
        row[6] = state
        if state == "sent":
            row[12] = at
        else:
            row[13] = at
        if state == "accepted":
            self.deal.accepted = True  # type: ignore[union-attr]
        data = (
            f'{{"proposal": {row[0]}, "version": {row[2]}, "action": "{state}", '
            f'"amount": "{row[3]}", "currency": "{row[4]}"}}'
        )
        batch.events.append((event_id, lead_id, at, manager, "proposal", "", "", "", data))
        return event_id + 1

    # The contract and payments.
    def _contract(self, lead_id: int, when: int, manager: int, event_id: int, batch: _Batch) -> int:
        """``contracts.save_contract``: created on the accepted proposal's terms, or
        amended to a new price when the lead comes back to the contract."""
        deal = self.deal
        assert deal is not None
        at = self.fmt(when)
        if deal.price == 0:
            self._price()
        kind = "one_off" if deal.term is None else "retainer"
        signed = self.cal.day_of(when)
        if kind == "retainer":
            assert deal.term is not None
            ends = _add_months(signed, deal.term) - timedelta(days=1)
            monthly: str | None = f"{deal.monthly}.00"
        else:
            ends = signed + timedelta(days=30 * (1 + int(self.rng.random() * 4)))
            monthly = None
        value = f"{deal.price}.00"
        row = deal.contract
        if row is not None:  # an amendment: the price changes, the dates stay
            signed, ends = row[5], row[7]
        terms = [kind, signed, signed, ends, value, deal.currency, monthly]
        if row is not None and row[4:11] == terms:
            return event_id  # nothing to change: save_contract writes nothing
        if row is None:
            contract_id = self.next_contract
            self.next_contract += 1
            number = f"Д-{signed.year}/{contract_id:05d}"  # numbers are unique
            row = [contract_id, lead_id, deal.client, number, kind, signed, signed, ends,
                   value, deal.currency, monthly, at, manager, at]  # fmt: skip
            deal.contract = row
            action = "created"
        else:
            row[4:11] = terms
            row[13] = at
            action = "updated"
        deal.amount, deal.amount_currency = value, deal.currency
        data = (
            f'{{"contract": {row[0]}, "action": "{action}", "value": "{value}", '
            f'"currency": "{deal.currency}", "kind": "{kind}"}}'
        )
        batch.events.append((event_id, lead_id, at, manager, "contract", "", "", "", data))
        return event_id + 1

    def _first_payment(
        self, lead_id: int, when: int, manager: int, event_id: int, batch: _Batch
    ) -> int:
        """The client's first charge, which the move to ``converted`` waits for."""
        deal = self.deal
        assert deal is not None and deal.contract is not None
        contract = deal.contract
        deal.source = self.payment_source_pick.pick(self.rng.random())
        paid = self.cal.day_of(when)
        if contract[4] == "retainer":
            start = contract[6]
            amount = contract[10]
            end = _add_months(start, 1) - timedelta(days=1)
        else:
            start, end = contract[6], contract[7]
            deal.halves = self.rng.random() < 0.4
            amount = f"{deal.price // 2}.00" if deal.halves else contract[8]
        return self._payment(lead_id, when, paid, amount, start, end, manager, event_id, batch)

    def _payment(
        self, lead_id: int, when: int, paid: date, amount: str, start: date, end: date,
        manager: int, event_id: int, batch: _Batch,
    ) -> int:  # fmt: skip
        """``contracts.record_payment``: by hand (the manager), by the head's CSV import,
        or by the billing system over the API (nobody)."""
        deal = self.deal
        assert deal is not None and deal.contract is not None
        contract = deal.contract
        source = deal.source
        payment_id = self.next_payment
        self.next_payment += 1
        number = len(deal.payments) + 1
        if source == "csv":
            external = f"1C-{contract[3][2:]}-{number:02d}"
            actor: int | None = self.cast.head_sales
        elif source == "api":
            external = f"inv_{self.rng.getrandbits(48):012x}"
            actor = None
        else:
            external = ""
            actor = manager
        at = self.fmt(when)
        deal.paid_at = when
        paid_s = paid.isoformat()
        deal.payments.append(
            (payment_id, contract[0], lead_id, deal.client, paid_s, amount, contract[9],
             start.isoformat(), end.isoformat(), source, external, "", at, actor)
        )  # fmt: skip
        data = (
            f'{{"payment": {payment_id}, "amount": "{amount}", "currency": "{contract[9]}", '
            f'"paid_on": "{paid_s}", "source": "{source}"}}'
        )
        batch.events.append((event_id, lead_id, at, actor, "payment", "", "", "", data))
        return event_id + 1

    def _later_payments(self, lead_id: int, manager: int, event_id: int, batch: _Batch) -> int:
        """A converted client's charges after the first, up to now: a retainer monthly
        until its term ends or the client leaves early, a project's second half."""
        deal = self.deal
        assert deal is not None and deal.contract is not None
        contract = deal.contract
        rand = self.rng.random
        now = self.cal.now
        last = deal.paid_at
        if contract[4] == "one_off":
            if not deal.halves:
                return event_id
            due = contract[7]
            plans = [(due, f"{deal.price - deal.price // 2}.00", contract[6], contract[7])]
        else:
            term = deal.term or 1
            months = term if rand() < 0.7 else 1 + int(rand() * term)
            plans = []
            for k in range(1, months):
                start = _add_months(contract[6], k)
                plans.append((start - timedelta(days=int(rand() * 5)), contract[10], start,
                              _add_months(contract[6], k + 1) - timedelta(days=1)))  # fmt: skip
        for paid, amount, start, end in plans:
            when = self._day_at(paid, 10 * _HOUR + int(rand() * 7 * _HOUR))
            if deal.source == "csv":
                when += _DAY * (1 + int(rand() * 3))
            when = max(when, last + 60)
            if when > now:
                break
            event_id = self._payment(lead_id, when, paid, amount, start, end, manager,
                                     event_id, batch)  # fmt: skip
            last = when
        return event_id

    def _day_at(self, day: date, seconds: int) -> int:
        """UTC seconds of a local day's ``seconds`` after midnight."""
        return (day - _EPOCH).days * _DAY + seconds - self.cal.offset

    # ---- the SDR workspace's records ------------------------------------------------
    def _qualify(
        self,
        lead_id: int,
        start: int,
        end: int,
        sdr: int,
        complete: bool,
        event_id: int,
        batch: _Batch,
    ) -> tuple[int, bool]:
        """The SDR's saves of BANT and the questionnaires between ``start`` and ``end``,
        as ``save_bant`` and ``save_answers`` record them (a ``qualification`` event
        each): all of it before a hand-off, some or all of it while still qualifying.
        A request that came without a service gets it named first (``set_service``,
        which moves the lead's version on; ``self.named_at`` says when). Returns the
        next event id and whether the service was named."""
        rand = self.rng.random
        answers = self.answers
        if complete:
            level = 4
        else:
            r = rand()
            level = 0 if r < 0.2 else 1 if r < 0.4 else 2 if r < 0.65 else 3 if r < 0.85 else 4
            if level == 0:
                return event_id, False  # only talked so far
        service = self.lead_service
        name = level >= 2 and service not in self.cast.services
        if name:
            # The form did not say which service; the SDR asked on the call.
            service = self.known_service_pick.pick(rand())
            self.lead_service = service
        english, region, budget, site, position = self.lead_context
        answers.begin(service, english, region, budget, site, position)
        forms = answers.forms(service)
        saves: list[tuple[_Form | None, bool]]  # (None: BANT), complete
        if level == 1:
            saves = [(None, False)]
        elif level == 2:
            saves = [(None, rand() < 0.5), *((f, False) for f in forms[:1])]
        elif level == 3:
            saves = [(None, True), *((f, i == 0) for i, f in enumerate(forms))]
        else:
            saves = [(None, True), *((f, True) for f in forms)]  # ready to hand off
        count = len(saves) + name
        step = max(1, min(900, (end - start) // (count + 1)))
        when = end - step * count if complete else start + step
        fmt = self.fmt
        events = batch.events
        if name:
            data = f'{{"service": "{service}", "service_before": null}}'
            events.append((event_id, lead_id, fmt(when), sdr, "qualification", "", "", "", data))
            event_id += 1
            self.named_at = when
            when += step
        for form, whole in saves:
            at = fmt(when)
            if form is None:
                bant_id = self.next_bant
                self.next_bant += 1
                batch.bants.append((bant_id, lead_id, *answers.bant(when, whole), at, sdr))
                data = _CHANGED_BANT
            else:
                values = answers.values(form, when, whole)
                if not values:
                    continue
                answers_id = self.next_answers
                self.next_answers += 1
                text = json.dumps(values, ensure_ascii=False)
                batch.answers.append(
                    (answers_id, lead_id, form.questionnaire, form.version, text, at, sdr)
                )
                # As json.dumps would write it (keys are [a-z0-9_]: nothing to escape).
                changed = ", ".join([f'"{key}"' for key in sorted(values)])
                data = (
                    f'{{"questionnaire": {form.questionnaire}, "version": {form.number}, '
                    f'"changed": [{changed}]}}'
                )
            events.append((event_id, lead_id, at, sdr, "qualification", "", "", "", data))
            event_id += 1
            when += step
        return event_id, name

    def _referred(
        self,
        lead_id: int,
        event_id: int,
        when: int,
        at: str,
        actor: int,
        partner: int,
        reason: str,
        batch: _Batch,
    ) -> None:
        """``routing._referred``: the referral at the partner's commission, and the
        partner managers told (the e-mail to the partner is not queued: delivered long
        ago)."""
        name, percent, _ = self.cast.partner_info[partner]
        referral_id = self.next_referral
        self.next_referral += 1
        batch.referrals.append((referral_id, lead_id, partner, reason, at, actor, percent))
        data = {"partner": name, "reason": reason, "company": self.lead_company}
        text = json.dumps(data, ensure_ascii=False)
        people = self.cast.partner_managers
        self._tell(people, lead_id, "lead_referred", text, when, f"event-{event_id}", batch)

    def _tell(
        self,
        users: Sequence[int | None],
        lead_id: int,
        kind: str,
        data: str,
        when: int,
        key: str,
        batch: _Batch,
    ) -> None:
        """``outbox.notify``'s in-app notifications, for what happened in the days the
        demo keeps notifications of (``sla.demo.NOTIFY_DAYS``); unread."""
        if when < self.sla.notify_since:
            return
        at = self.fmt(when)
        for user in dict.fromkeys(users):
            if user is None or user not in self.cast.active:
                continue
            note_id = self.sla.next_notification
            self.sla.next_notification += 1
            batch.notifications.append(
                (note_id, user, lead_id, kind, data, at, None, f"{key}:{user}")
            )

    def _return_event(
        self, ret: list[Any], lead_id: int, at: str, actor: int, note: str, event_id: int,
        batch: _Batch,
    ) -> int:  # fmt: skip
        data = json.dumps({"return": ret[0], "state": ret[8], "reason_code": ret[6]})
        batch.events.append((event_id, lead_id, at, actor, "return", "", "", note, data))
        return event_id + 1

    def _answer_return(
        self, ret: list[Any], lead_id: int, t: int, force: str, event_id: int, batch: _Batch
    ) -> tuple[int, str, int, int | None, str]:
        """The SDR's answer to a return (``returns.decide``) and, for a dispute, a head's
        decision (``returns.judge``), unless they are still to come at ``now``.

        Updates the Return row ``ret`` and writes the events and notifications, but for
        an overturn: the head's move comes first (``_decided`` then). Returns the next
        event id, the state, when it was reached, the head who decided and their note.
        """
        rand = self.rng.random
        cal = self.cal
        now = cal.now
        fmt = self.fmt
        if force == "open":
            return event_id, "open", t, None, ""
        spread = _SPREAD[int(rand() * _NORMAL_SIZE)]
        answered = cal.to_work(t + int(_ANSWER_MEDIAN * spread), int(rand() * 3600))
        if force == "disputed":
            answered = min(answered, t + max(300, (now - t) // 3))
        if answered > now:
            return event_id, "open", t, None, ""
        accept = force == "accepted" or (not force and rand() < _ACCEPT_SHARE)
        notes = _ACCEPT_NOTES if accept else _DISPUTE_NOTES
        note = notes[int(rand() * len(notes))]
        ret[8] = "accepted" if accept else "disputed"
        ret[9] = note
        ret[10] = fmt(answered)
        sdr = ret[5]
        event_id = self._return_event(ret, lead_id, ret[10], sdr, note, event_id, batch)
        if accept:
            return event_id, "accepted", answered, None, note
        data = json.dumps({"reason_code": ret[6], "note": note}, ensure_ascii=False)
        key = f"return-{ret[0]}-disputed"
        self._tell(self.cast.heads, lead_id, "return_disputed", data, answered, key, batch)
        judges = self.cast.judges
        if force == "disputed" or not judges:
            return event_id, "disputed", answered, None, note
        spread = _SPREAD[int(rand() * _NORMAL_SIZE)]
        judged = cal.to_work(answered + int(_JUDGE_MEDIAN * spread), int(rand() * 3600))
        if judged > now:
            return event_id, "disputed", answered, None, note
        judge = judges[int(rand() * len(judges))]
        overturn = force == "overturned" or (not force and rand() < _OVERTURN_SHARE)
        verdicts = _OVERTURN_NOTES if overturn else _UPHOLD_NOTES
        note = verdicts[int(rand() * len(verdicts))]
        if overturn:
            return event_id, "overturned", judged, judge, note
        event_id = self._decided(ret, lead_id, "upheld", judged, judge, note, event_id, batch)
        return event_id, "upheld", judged, judge, note

    def _decided(
        self, ret: list[Any], lead_id: int, state: str, when: int, judge: int, note: str,
        event_id: int, batch: _Batch,
    ) -> int:  # fmt: skip
        """A head's decision on a dispute (``returns.judge``): the Return row, the event
        and who is told. Returns the next event id."""
        ret[8] = state
        ret[11] = judge
        ret[12] = note
        ret[13] = self.fmt(when)
        event_id = self._return_event(ret, lead_id, ret[13], judge, note, event_id, batch)
        data = json.dumps({"state": state, "note": note}, ensure_ascii=False)
        people = (ret[4], ret[5])  # who returned it, and the SDR
        self._tell(people, lead_id, "return_judged", data, when, f"return-{ret[0]}-judged", batch)
        return event_id

    def _forced_returns(self, arrivals: list[int], held: set[int]) -> dict[int, str]:
        """A few requests of the week before last that sales returns lately, whatever
        the odds: the return still open, disputed and waiting for a head, overturned,
        accepted. So the SDRs and the heads have some to answer however many leads the
        demo has. Returns their positions and what becomes of their return."""
        now = self.cal.now
        first = bisect.bisect_left(arrivals, now - 10 * _DAY)
        last = bisect.bisect_left(arrivals, now - 5 * _DAY)
        window = [i for i in range(first, last) if i not in held]
        count = min(len(_FORCED_KINDS), len(window) // 2)
        picked = sorted(self.rng.sample(window, count))
        return dict(zip(picked, _FORCED_KINDS, strict=False))

    def _touches(
        self,
        lead_id: int,
        pending: list[tuple[int, int, str, str]],
        until: int,
        status: str,
        version: int,
        sdr: int | None,
        manager: int | None,
        event_id: int,
        events: list[Row],
    ) -> tuple[int, int, int | None]:
        """Log the planned touches up to ``until`` as ``log_touch`` would (those after
        ``now`` never happened: dropped); their history entries go to ``self.touched``.
        Returns the next event id, the lead's version and its SDR after them.

        (A method rather than a closure in ``_walk``: a closure's variables are slower
        to read in the whole of the walk.)
        """
        touched: list[Any] = []
        self.touched = touched
        now = self.cal.now
        while pending and pending[0][0] <= until:
            when, actor, channel, outcome = pending.pop(0)
            if when > now:
                pending.clear()
                break
            version += 1
            data = f'{{"channel": "{channel}", "version": {version}'
            if outcome:
                data += f', "outcome": "{outcome}"'
            if sdr is None and actor in self.sdr_ids:
                sdr = actor
                data += f', "sdr": {sdr}'
            data += "}"
            when_s = self.fmt(when)
            events.append((event_id, lead_id, when_s, actor, "touch", "", "", "", data))
            event_id += 1
            touched.append((when, TOUCH, status, status, actor, sdr, manager, when_s))
        return event_id, version, sdr

    def _plan_first_touch(
        self, received: int, actor: int, pending: list[tuple[int, int, str, str]]
    ) -> int:
        """Plan the SDR's first touch (and a second call when nobody answered the first)
        into ``pending``; return when the SDR takes the request (moves it on).

        The touch comes some working minutes after the request, as the first-contact
        clock counts them: most within its 30 minutes, some later, a few much later.
        The SDR takes the request just before calling, or logs the call first.
        """
        rand = self.rng.random
        r = rand()
        if r < 0.87:
            delay = 45 + int(rand() ** 1.4 * 1740)
        elif r < 0.985:
            delay = 1800 + int(self.rng.expovariate(1 / 3000))
        else:
            delay = 4 * _HOUR + int(rand() * 30 * _HOUR)  # lost in the queue for days
        first = self.first_contact_work.add(received, delay)
        channel, outcome = self.sdr_touch_pick.pick(rand())
        pending.append((first, actor, channel, outcome))
        if outcome not in ("", "reached") and rand() < 0.6:
            again = self.cal.to_work(first + 3600 + int(rand() * 3 * _HOUR), int(rand() * 3600))
            pending.append((max(again, first + 60), actor, "call", self.recall_pick.pick(rand())))
        if first - received < 120 or rand() < 0.4:
            return first + 60 + int(rand() * 600)  # called first, then moved it
        if first - received > 1800 and rand() < 0.5:
            # Took it early, then did not get round to calling.
            taken = self.first_contact_work.add(received, 60 + int(rand() * 900))
            if taken < first - 60:
                return taken
        return first - 30 - int(rand() * min(600, first - received - 90))

    def _manager_touch(self, assigned: int, sdr: int | None, manager: int) -> int:
        """When the new manager means to act: within the working day as a rule."""
        rand = self.rng.random
        _, work = self.sla.calendar(sdr, manager)
        if rand() < 0.86:
            delay = 300 + int(rand() ** 2 * (_MANAGER_DAY - 600))
        else:
            delay = _MANAGER_DAY + int(self.rng.expovariate(1 / (4 * _HOUR)))
        return work.add(assigned, delay)


# --------------------------------------------------------------------------------------
# The agency, with the ORM: a few dozen rows.
_HASH_THREADS = 4


def _ensure_agency(leads: int = 0) -> tuple[_Cast, list[str]]:
    """Departments, teams, users, partners, sources and services; existing ones reused."""
    departments: dict[str, Department] = {}
    for kind, name in _DEPARTMENTS:
        departments[kind], _ = Department.objects.get_or_create(name=name, defaults={"kind": kind})
    teams: dict[str, Team] = {}
    for kind, name in _TEAMS:
        teams[name], _ = Team.objects.get_or_create(department=departments[kind], name=name)

    users: dict[str, User] = {}
    to_create: list[tuple[_DemoUser, str]] = []
    for spec in _USERS:
        existing = User.objects.filter(username=spec.username).first()
        if existing is None:
            to_create.append((spec, spec.username))
        elif existing.role == spec.role:
            users[spec.username] = existing  # someone's account: used, never changed
        elif not User.objects.filter(username=f"{spec.username}_demo").exists():
            to_create.append((spec, f"{spec.username}_demo"))
    passwords = {username: secrets.token_urlsafe(9) for _, username in to_create}
    # PBKDF2 takes ~0.35 s per password and releases the GIL: hash them side by side.
    with ThreadPoolExecutor(_HASH_THREADS) as pool:
        hashes = list(pool.map(make_password, [passwords[u] for _, u in to_create]))
    lines: list[str] = []
    for (spec, username), hashed in zip(to_create, hashes, strict=True):
        users[spec.username] = User.objects.create(
            username=username,
            password=hashed,
            role=spec.role,
            first_name=spec.first_name,
            last_name=spec.last_name,
            email=f"{username}@agency.example",
            department=departments[spec.department],
            team=teams[spec.team] if spec.team else None,
            on_shift=username in _ON_SHIFT,
        )
        lines.append(f"Demo user {username} ({spec.label}): password {passwords[username]}")

    def ids(role: Role) -> list[int]:
        return [u.pk for s in _USERS if s.role == role and (u := users.get(s.username))]

    sdrs, managers = ids(Role.SDR), ids(Role.SALES)
    if not sdrs or not managers:
        raise RuntimeError("demo: no SDR or sales manager account could be set up")
    sales_teams = [teams[name] for kind, name in _TEAMS if kind == "sales"]
    _extra_managers(leads, sales_teams, departments["sales"])
    managers += list(
        User.objects.filter(username__startswith="sales_", role=Role.SALES, is_active=True)
        .exclude(pk__in=managers)
        .order_by("pk")
        .values_list("pk", flat=True)
    )

    partners = []
    partner_info: dict[int, tuple[str, str, tuple[str, ...]]] = {}
    for name, email, percent, share, reasons in _PARTNERS:
        partner, _ = Partner.objects.get_or_create(
            name=name, defaults={"contact_email": email, "commission_percent": Decimal(percent)}
        )
        partners.append((partner.pk, share))
        # The referral records the commission agreed with the partner as it is now.
        partner_info[partner.pk] = (partner.name, str(partner.commission_percent), reasons)
    for kind, name, email in _DEPARTMENT_CONTACTS:
        DepartmentContact.objects.get_or_create(
            department=departments[kind], email=email, defaults={"name": name}
        )
    sources = []
    for kind, name, share in _SOURCES:
        source = Source.objects.filter(kind=kind, name=name).first()
        if source is None:
            source = Source.objects.create(kind=kind, name=name)
        sources.append((source.pk, kind, share))
    services = {}
    for code, name_en, name_ru in _DEFAULT_SERVICES:
        service, _ = Service.objects.get_or_create(
            code=code, defaults={"name_en": name_en, "name_ru": name_ru}
        )
        services[code] = service.pk
    # The lists and questionnaires a new installation has (migration qualify/0002; its
    # service questionnaires need the services), and the queue's settings: manual claims.
    install_qualify_defaults()
    SdrQueueSettings.get()
    common = Questionnaire.objects.filter(common=True).first()
    common_version = common.current() if common is not None else None
    service_forms = {}
    for code, pk in services.items():
        questionnaire = Questionnaire.objects.filter(service_id=pk).first()
        version = questionnaire.current() if questionnaire is not None else None
        if version is not None:
            service_forms[code] = _form(version)
    active = User.objects.filter(is_active=True)
    heads = (Role.HEAD_MARKETING, Role.HEAD_SALES)

    def one(role: Role) -> int:
        found = ids(role)
        return found[0] if found else sdrs[0] if role == Role.HEAD_MARKETING else managers[0]

    cast = _Cast(
        sdrs=sdrs,
        managers=managers,
        partner_manager=ids(Role.PARTNER_MANAGER)[0] if ids(Role.PARTNER_MANAGER) else sdrs[0],
        head_marketing=one(Role.HEAD_MARKETING),
        head_sales=one(Role.HEAD_SALES),
        partners=partners,
        group_company=departments["group_company"].pk,
        other_department=departments["other"].pk,
        sources=sources,
        services=services,
        sdr_team=teams.get("SDR"),
        lead_sdr=users.get("sdr1"),
        partner_info=partner_info,
        judges=[
            u.pk
            for s in _USERS
            if s.role in heads and (u := users.get(s.username)) is not None and u.is_active
        ],
        heads=list(active.filter(role__in=heads).order_by("pk").values_list("pk", flat=True)),
        partner_managers=list(
            active.filter(role=Role.PARTNER_MANAGER).order_by("pk").values_list("pk", flat=True)
        ),
        active=frozenset(active.values_list("pk", flat=True)),
        common_form=_form(common_version) if common_version is not None else None,
        service_forms=service_forms,
        need_ids=dict(NeedCategory.objects.filter(active=True).values_list("code", "pk")),
    )
    return cast, lines


# --------------------------------------------------------------------------------------
# The sales team's set-up, with the ORM: profiles, rules, absences, policies, briefs.
def _fields_form(fields: list[dict[str, Any]]) -> _Form:
    out = []
    for f in fields:
        choices = tuple(str(c["value"]) for c in f.get("choices") or [])
        out.append((str(f["key"]), str(f["type"]), bool(f.get("required")), choices))
    return _Form(0, 0, 0, tuple(out))


def _extra_managers(leads: int, teams: list[Team], department: Department) -> None:
    """One more sales manager per ``_LEADS_PER_MANAGER`` leads past the four named ones
    (they never sign in: no password), alternating between the sales teams."""
    wanted = max(0, round(leads / _LEADS_PER_MANAGER) - 4)
    have = set(
        User.objects.filter(username__startswith="sales_").values_list("username", flat=True)
    )
    rng = random.Random(4)
    new = []
    for k in range(wanted):
        username = f"sales_{k + 5}"
        female = k % 2 == 1
        pool = _POOLS[(True, female)]
        first = pool.first[int(rng.random() * len(pool.first))]
        last = pool.last[int(rng.random() * len(pool.last))]
        if username in have:
            continue
        new.append(
            User(
                username=username,
                password=make_password(None),
                role=Role.SALES,
                first_name=first[0],
                last_name=last[0],
                email=f"{username}@agency.example",
                department=department,
                team=teams[k % len(teams)],
            )
        )
    User.objects.bulk_create(new)


def _ensure_sales(cast: _Cast, leads: int, moment: datetime, first: date, last: date) -> None:
    """Profiles (weights, caps, languages, one shift calendar), absences, the settings
    (automatic, least loaded) and rules, the demo policies; then what the generator
    reads of them and of the brief templates into ``cast``. Existing rows are kept."""
    users = {
        u.username: u
        for u in User.objects.filter(role=Role.SALES, is_active=True).select_related("team")
    }
    managers = [u for u in users.values() if u.pk in set(cast.managers)]
    managers.sort(key=lambda u: cast.managers.index(u.pk))
    per = leads * 0.034 / max(1, len(managers))  # open sales leads a manager holds
    cast.expected_load = max(1, int(per))
    shift, _ = Calendar.objects.get_or_create(
        name=_SHIFT_CALENDAR,
        defaults={"timezone": "Europe/Moscow", "country": "RU", "hours": _SHIFT_HOURS},
    )
    existing = set(ManagerProfile.objects.values_list("user_id", flat=True))
    profiles = []
    for k, user in enumerate(managers):
        named = _PROFILES.get(user.username)
        weight, cap, languages = named or (1 + k % 3, 30, ["ru", "en"] if k % 3 == 0 else ["ru"])
        if user.pk not in existing:
            profiles.append(
                ManagerProfile(
                    user=user,
                    weight=weight,
                    cap=max(cap, int(per * 1.6)),
                    languages=languages,
                    calendar=shift if user.username == _SHIFT_MANAGER else None,
                )
            )
    ManagerProfile.objects.bulk_create(profiles)
    found = {p.user_id: p for p in ManagerProfile.objects.filter(user__in=managers)}
    settings_row = AssignmentSettings.get()
    if settings_row.pk is None:
        settings_row.mode = AssignmentSettings.Mode.AUTO
        settings_row.strategy = Strategy.LEAST_LOADED
        settings_row.default_cap = max(settings_row.default_cap, int(per * 2))
        settings_row.save()
    now_day = int(moment.timestamp()) // _DAY * _DAY
    for username, kind, start, end, note in _ABSENCES:
        away = users.get(username)
        if away is None:
            continue
        starts = datetime.fromtimestamp(now_day + start * _DAY + 6 * _HOUR, UTC)
        Absence.objects.get_or_create(
            user=away,
            kind=kind,
            starts_at=starts,
            defaults={"ends_at": starts + timedelta(days=end - start), "note": note},
        )
    for name, order, (kind, value), strategy in _RULES:
        rule = AssignmentRule.objects.filter(name=name).first()
        if rule is None:
            rule = AssignmentRule.objects.create(
                name=name,
                order=order,
                language=value if kind == "language" else "",
                service_id=cast.services.get(value) if kind == "service" else None,
                strategy=strategy,
            )
            if kind == "language":
                chosen = [u for u in managers if value in found[u.pk].languages]
            else:
                chosen = [u for u in managers if u.team is not None and u.team.name == _SMM_TEAM]
            rule.managers.set(chosen)
    for code in _DEMO_REQUIRED:
        if code in cast.services:
            DemoPolicy.objects.get_or_create(
                service_id=cast.services[code], defaults={"demo_required": True}
            )

    # What the generator needs of it, read back as the engine and presale read it.
    cast.strategy = AssignmentSettings.get().strategy
    cast.weights = {u.pk: found[u.pk].weight if u.pk in found else 1 for u in managers}
    default_cap = AssignmentSettings.get().default_cap
    for u in managers:
        limit = found[u.pk].cap if u.pk in found else None
        cast.caps[u.pk] = limit if limit is not None else default_cap
    cast.names = {u.pk: str(u) for u in managers}
    cast.speaks = {u.pk: tuple(found[u.pk].languages or ()) for u in managers if u.pk in found}
    cast.emails = {u.pk: u.email for u in managers}
    cast.rules = []
    for rule in AssignmentRule.objects.filter(active=True).prefetch_related("managers"):
        codes = {pk: code for code, pk in cast.services.items()}
        ids = tuple(m.pk for m in rule.managers.all() if m.pk in cast.weights)
        if rule.language:
            kind, value = "language", rule.language
        elif rule.service_id is not None and not rule.region and not rule.budget_band:
            kind, value = "service", codes.get(rule.service_id, "")
        else:
            continue  # a rule the demo's leads would not be told apart by
        if ids:
            cast.rules.append((rule.pk, rule.name, kind, value, ids, rule.strategy))
    cast.absences = [
        (a.user_id, int(a.starts_at.timestamp()), int(a.ends_at.timestamp()))
        for a in Absence.objects.filter(user__in=managers)
    ]
    for profile in found.values():
        if profile.calendar is not None:
            cast.shift_manager = profile.user_id
            cast.shift = WorkTime(profile.calendar.business_calendar(), first, last)
            break
    cast.demo_required = frozenset(
        code
        for code, pk in cast.services.items()
        if DemoPolicy.objects.filter(service_id=pk, demo_required=True).exists()
    )
    days = BriefTemplate._meta.get_field("link_days").get_default()
    for code, pk in cast.services.items():
        template = BriefTemplate.objects.filter(service_id=pk).first()
        fields = template_fields(Service.objects.get(pk=pk))
        link = template.link_days if template is not None and template.link_days else days
        text = json.dumps(fields, ensure_ascii=False)
        cast.brief_forms[code] = (pk, text, _fields_form(fields), link)


# --------------------------------------------------------------------------------------
# Bulk writing with the database cursor.
_LEAD_FIELDS = (
    "id", "status", "version", "name", "email", "phone", "company", "website", "message",
    "attribution", "contact", "service", "source", "received_at", "sdr", "manager",
    "duplicate_of", "partner", "routed_to", "end_reason", "end_reason_code",
    "status_changed_at",
    "reached_mql_at", "reached_sql_at", "reached_sal_at", "reached_proposal_at",
    "reached_deal_at", "first_touch_at", "sla_due_at", "sla_warn_at", "client",
    "deal_amount", "deal_currency", "lost_to",
)  # fmt: skip
_EVENT_FIELDS = (
    "id", "lead", "at", "actor", "kind", "from_status", "to_status", "reason", "data",
)  # fmt: skip
_CLOCK_FIELDS = (
    "id", "lead", "policy", "kind", "calendar", "started_at", "due_at", "outcome",
    "stopped_at", "stopped_by", "owner", "working_seconds", "calendar_seconds", "next_step",
    "next_check_at", "breached_at",
)  # fmt: skip
_BREACH_FIELDS = (
    "id", "clock", "lead", "kind", "due_at", "detected_at", "cause", "responsible", "off_hours",
)  # fmt: skip
_NOTIFICATION_FIELDS = (
    "id", "user", "lead", "kind", "data", "created_at", "read_at", "dedup_key",
)  # fmt: skip
_CONTACT_FIELDS = ("id", "name", "email", "phone", "position", "company", "created_at")
_BANT_FIELDS = (
    "id", "lead", "budget_amount", "budget_band", "currency", "authority_role",
    "decision_maker", "need", "need_text", "timeframe_date", "timeframe_band", "updated_at",
    "updated_by",
)  # fmt: skip
_ANSWERS_FIELDS = ("id", "lead", "questionnaire", "version", "values", "updated_at", "updated_by")
_REFERRAL_FIELDS = (
    "id", "lead", "partner", "reason", "referred_at", "referred_by", "commission_percent",
)  # fmt: skip
_ROUTING_FIELDS = ("id", "lead", "department", "reason", "routed_at", "routed_by")
_RETURN_FIELDS = (
    "id", "lead", "from_status", "returned_at", "returned_by", "sdr", "reason_code", "reason",
    "state", "sdr_note", "decided_at", "judge", "judge_note", "judged_at",
)  # fmt: skip
_COMPANY_FIELDS = ("id", "name", "website", "created_at")
_ASSIGNMENT_FIELDS = (
    "id", "lead", "manager", "previous", "at", "by", "how", "strategy", "rule", "why",
)  # fmt: skip
_BRIEF_FIELDS = (
    "id", "lead", "service", "fields", "values", "nonce", "created_at", "created_by",
    "sent_to", "sent_at", "expires_at", "filled_at", "filled_via", "filled_by", "revoked_at",
)  # fmt: skip
_DEMO_FIELDS = (
    "id", "lead", "starts_at", "duration_minutes", "format", "location", "attendees", "state",
    "note", "uid", "sequence", "created_at", "created_by", "updated_at",
)  # fmt: skip
_PROPOSAL_FIELDS = (
    "id", "lead", "version", "amount", "currency", "term_months", "state", "note",
    "attachment", "attachment_name", "created_at", "created_by", "sent_at", "decided_at",
)  # fmt: skip
_ITEM_FIELDS = ("id", "proposal", "service", "description", "amount", "order")
_CONTRACT_FIELDS = (
    "id", "lead", "client", "number", "kind", "signed_on", "starts_on", "ends_on", "value",
    "currency", "monthly_fee", "created_at", "created_by", "updated_at",
)  # fmt: skip
_PAYMENT_FIELDS = (
    "id", "contract", "lead", "client", "paid_on", "amount", "currency", "period_start",
    "period_end", "source", "external_id", "note", "created_at", "created_by",
)  # fmt: skip


def _column(f: Any) -> str:
    if not isinstance(f, models.Field) or not f.column:
        raise RuntimeError(f"demo: {f} is not a concrete column")
    return f.column


@dataclass(frozen=True)
class _Table:
    """A model's table and the columns the generator fills, named from ``_meta``.

    A column added to the model later that the generator does not know gets its
    default on every row (or NULL), so a new nullable field does not break the demo;
    one with no usable default stops it with a clear message.
    """

    name: str
    columns: tuple[str, ...]
    extra: Row

    @classmethod
    def of(cls, model: type[models.Model], names: Sequence[str]) -> _Table:
        meta = model._meta
        columns = [_column(meta.get_field(n)) for n in names]
        extra: list[Any] = []
        for f in meta.concrete_fields:
            if f.name in names:
                continue
            value = f.get_default() if f.has_default() else None
            if isinstance(value, dict | list):
                value = json.dumps(value)
            elif (value is None and not f.null) or not isinstance(value, str | int | float | None):
                raise RuntimeError(
                    f"demo: {meta.label}.{f.name} needs a value; teach leadrelay.demo about it"
                )
            columns.append(_column(f))
            extra.append(value)
        return cls(meta.db_table, tuple(columns), tuple(extra))


# Tables whose indexes SQLite keeps through a large load: every key grows with the lead
# id (the lead, a start or detection time) or takes a handful of values (a policy, a
# calendar, an owner), so each row is added at the end of a few index pages, which
# costs less than sorting millions of keys afterwards. (PostgreSQL still drops their
# foreign keys: it would check them row by row at commit.)
_APPENDED = frozenset(
    {"clock", "breach", "notification", "bant", "answers", "referral", "routing", "return"}
    | {"assignment", "brief", "demo", "proposal", "proposal_item", "contract", "payment"}
)


class _Writer:
    """Inserts rows into the current transaction: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self) -> None:
        connection.ensure_connection()
        self.vendor = connection.vendor
        self.raw: Any = connection.connection
        self.tables = {
            "company": _Table.of(Company, _COMPANY_FIELDS),
            "contact": _Table.of(Contact, _CONTACT_FIELDS),
            "lead": _Table.of(Lead, _LEAD_FIELDS),
            "event": _Table.of(LeadEvent, _EVENT_FIELDS),
            "clock": _Table.of(Clock, _CLOCK_FIELDS),
            "breach": _Table.of(Breach, _BREACH_FIELDS),
            "notification": _Table.of(Notification, _NOTIFICATION_FIELDS),
            "bant": _Table.of(Bant, _BANT_FIELDS),
            "answers": _Table.of(Answers, _ANSWERS_FIELDS),
            "referral": _Table.of(Referral, _REFERRAL_FIELDS),
            "routing": _Table.of(Routing, _ROUTING_FIELDS),
            "return": _Table.of(Return, _RETURN_FIELDS),
            "assignment": _Table.of(Assignment, _ASSIGNMENT_FIELDS),
            "brief": _Table.of(Brief, _BRIEF_FIELDS),
            "demo": _Table.of(Demo, _DEMO_FIELDS),
            "proposal": _Table.of(Proposal, _PROPOSAL_FIELDS),
            "proposal_item": _Table.of(ProposalItem, _ITEM_FIELDS),
            "contract": _Table.of(Contract, _CONTRACT_FIELDS),
            "payment": _Table.of(Payment, _PAYMENT_FIELDS),
        }
        self.sql: dict[str, str] = {}
        q = connection.ops.quote_name
        for key, table in self.tables.items():
            cols = ", ".join(q(c) for c in table.columns)
            if self.vendor == "postgresql":
                self.sql[key] = f"COPY {q(table.name)} ({cols}) FROM STDIN"
            else:
                marks = ", ".join("?" * len(table.columns))
                self.sql[key] = f"INSERT INTO {q(table.name)} ({cols}) VALUES ({marks})"
        self._cache_size: int | None = None
        self._indexes: list[tuple[str, str]] = []  # (name, definition) dropped for the load
        self._foreign_keys: list[tuple[str, str]] = []  # (drop, add) statements, PostgreSQL

    def fmt_factory(self, first_day: int, last_day: int) -> Callable[[int], str]:
        """UTC seconds to the text the column stores: naive UTC on SQLite (as Django
        writes it with USE_TZ), with an explicit offset for PostgreSQL's timestamptz.

        Two table lookups and a concatenation: ~6 million timestamps per million leads.
        """
        suffix = "+00" if self.vendor == "postgresql" else ""
        epoch = date(1970, 1, 1)
        days = {d: (epoch + timedelta(days=d)).isoformat() for d in range(first_day, last_day)}
        clock = [
            f" {h:02d}:{m:02d}:{s:02d}{suffix}"
            for h in range(24)
            for m in range(60)
            for s in range(60)
        ]

        def fmt(t: int) -> str:
            d, s = divmod(t, _DAY)
            return days[d] + clock[s]

        return fmt

    def start(self, leads: int) -> dict[str, int]:
        """Take the tables for this transaction and return each one's largest id.

        When the load at least doubles the lead table, the tables' secondary indexes (and
        on PostgreSQL their foreign keys) are dropped here and rebuilt in ``finish``:
        building an index from sorted data is about twice as fast as updating fifteen of
        them row by row. DDL is transactional on both engines, so a failed load leaves
        the schema as it was. The catch: until commit, PostgreSQL blocks reads of these
        tables and of the users table (locks taken by dropping the constraints), which
        is acceptable for loading demo data into a new database.
        """
        q = connection.ops.quote_name
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                # Blocks other writers (not readers) until commit, so nobody takes an id
                # from the block this load assigns itself.
                names = ", ".join(q(t.name) for t in self.tables.values())
                cur.execute(f"LOCK TABLE {names} IN EXCLUSIVE MODE")
            elif self.vendor == "sqlite":
                # The writes touch ~15 indexes in random order (e-mails, phones): a large
                # page cache for this load avoids rereading index pages.
                cur.execute("PRAGMA cache_size")
                self._cache_size = int(cur.fetchone()[0])
                cur.execute("PRAGMA cache_size = -262144")
            ids = {}
            for key, table in self.tables.items():
                cur.execute(f"SELECT MAX({q('id')}) FROM {q(table.name)}")
                ids[key] = int(cur.fetchone()[0] or 0)
            cur.execute(f"SELECT COUNT(*) FROM {q(self.tables['lead'].name)}")
            if leads >= 1000 and leads >= int(cur.fetchone()[0]):
                self._drop_indexes(cur)
        return ids

    def _drop_indexes(self, cur: Any) -> None:
        q = connection.ops.quote_name
        for key, table in self.tables.items():
            if self.vendor == "sqlite" and key in _APPENDED:
                continue
            # Partial indexes stay (the SDR queue's holds the few open requests, cheap to
            # keep up); PostgreSQL would not even give back the same definition text.
            if self.vendor == "sqlite":
                # sql IS NULL: the automatic indexes of UNIQUE constraints, not droppable.
                cur.execute(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                    [table.name],
                )
                found = [(n, d) for n, d in cur.fetchall() if " WHERE " not in d.upper()]
            elif self.vendor == "postgresql":
                # Not the indexes behind primary keys and unique constraints.
                cur.execute(
                    "SELECT ci.relname, pg_get_indexdef(ci.oid) FROM pg_index x "
                    "JOIN pg_class ci ON ci.oid = x.indexrelid "
                    "WHERE x.indrelid = %s::regclass AND x.indpred IS NULL AND NOT EXISTS ("
                    "  SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid"
                    "  AND c.conrelid = x.indrelid AND c.contype IN ('p', 'u', 'x'))",
                    [q(table.name)],
                )
                found = cur.fetchall()
            else:
                return
            self._indexes.extend(found)
            if self.vendor == "postgresql":
                # PostgreSQL checks deferred foreign keys row by row at commit (~12 µs
                # each, tens of millions here); adding the constraint back afterwards
                # checks all rows in one join.
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f'",
                    [q(table.name)],
                )
                for name, definition in cur.fetchall():
                    self._foreign_keys.append(
                        (
                            f"ALTER TABLE {q(table.name)} DROP CONSTRAINT {q(name)}",
                            f"ALTER TABLE {q(table.name)} ADD CONSTRAINT {q(name)} {definition}",
                        )
                    )
        if self._foreign_keys:
            # ALTER TABLE refuses tables with queued deferred checks, and the agency's
            # users were just inserted: check those few rows now.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
        for name, _ in self._indexes:
            cur.execute(f"DROP INDEX {q(name)}")
        for drop, _ in self._foreign_keys:
            cur.execute(drop)

    def write(self, key: str, rows: list[Row]) -> None:
        if not rows:
            return
        table = self.tables[key]
        if table.extra:
            rows = [row + table.extra for row in rows]
        if self.vendor == "postgresql":
            with self.raw.cursor() as cur, cur.copy(self.sql[key]) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            self.raw.executemany(self.sql[key], rows)

    def write_batch(self, batch: _Batch) -> None:
        # Parents first: the foreign keys are deferred, but this keeps them cheap to check.
        self.write("company", batch.companies)
        self.write("contact", batch.contacts)
        self.write("lead", batch.leads)
        self.write("event", batch.events)
        self.write("clock", batch.clocks)
        self.write("breach", batch.breaches)
        self.write("notification", batch.notifications)
        self.write("bant", batch.bants)
        self.write("answers", batch.answers)
        self.write("referral", batch.referrals)
        self.write("routing", batch.routings)
        self.write("return", batch.returns)
        self.write("assignment", batch.assignments)
        self.write("brief", batch.briefs)
        self.write("demo", batch.demos)
        self.write("proposal", batch.proposals)
        self.write("proposal_item", batch.proposal_items)
        self.write("contract", batch.contracts)
        self.write("payment", batch.payments)

    def finish(self) -> None:
        """Rebuild dropped indexes, move PostgreSQL's id sequences past the new rows."""
        q = connection.ops.quote_name
        with connection.cursor() as cur:
            if self._indexes and self.vendor == "postgresql":
                # Sorting for index builds is the bulk of the work: give it memory.
                cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for _, definition in self._indexes:
                cur.execute(definition)
            self._indexes = []
            for _, add in self._foreign_keys:
                cur.execute(add)
            self._foreign_keys = []
            if self.vendor == "postgresql":
                for table in self.tables.values():
                    cur.execute(
                        "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                        f"(SELECT COALESCE(MAX({q('id')}), 1) FROM {q(table.name)}))",
                        [q(table.name)],
                    )

    @property
    def rebuilding(self) -> bool:
        return bool(self._indexes)

    def restore(self) -> None:
        """Connection settings back as they were, whether the load worked or not."""
        if self._cache_size is not None:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA cache_size = {self._cache_size}")
            self._cache_size = None

    def analyze(self) -> None:
        """Fresh planner statistics: the tables grew from nothing to millions of rows."""
        q = connection.ops.quote_name
        names = [q(t.name) for t in self.tables.values()]
        with connection.cursor() as cur:
            if self.vendor == "postgresql":
                cur.execute(f"ANALYZE {', '.join(names)}")
            elif self.vendor == "sqlite":
                # Sampled: a full ANALYZE reads every index of every table.
                cur.execute("PRAGMA analysis_limit = 1000")
                for name in names:
                    cur.execute(f"ANALYZE {name}")


# --------------------------------------------------------------------------------------
def has_leads() -> bool:
    return Lead.objects.exists()


def _progress_line(done: int, total: int, events: int, seconds: float) -> None:
    share = done / total * 100 if total else 100.0
    sys.stderr.write(
        f"\rDemo data: {done:,} / {total:,} leads ({share:.0f}%), {events:,} events, "
        f"{seconds:.0f} s "
    )
    sys.stderr.flush()


# Below this many leads the rows are generated in this process: a fork costs more than
# it saves, and ``serve --demo`` (4,200 leads) should not fork at all.
_PIPELINE_MIN_LEADS = 20_000


class _Producer:
    """The generator's batches, made in a forked child process when that is worth it.

    Generating rows and inserting them each take about half the time of a large load;
    a second process makes the two overlap on a multi-core machine (threads would not:
    the generator holds the GIL). The child has its own copy of the generator, so the
    rows are exactly those the parent would make; it only computes and never touches
    the database connection it inherited.
    """

    def __init__(self, generator: _Generator, leads: int) -> None:
        self.generator = generator
        self.leads = leads
        self.stats: dict[str, Any] = {}

    def __iter__(self) -> Iterator[_Batch]:
        fork = "fork" in multiprocessing.get_all_start_methods()
        if self.leads < _PIPELINE_MIN_LEADS or not fork:
            yield from self.generator.generate(self.leads)
            self.stats = self.generator.stats()
            return
        ctx = multiprocessing.get_context("fork")
        receive, send = ctx.Pipe(duplex=False)
        child = ctx.Process(
            target=_produce, args=(self.generator, self.leads, send), name="demo-rows", daemon=True
        )
        child.start()
        send.close()
        try:
            while True:
                try:
                    message = pickle.loads(receive.recv_bytes())
                except EOFError:
                    raise RuntimeError(
                        f"demo: the row generator died (exit code {child.exitcode})"
                    ) from None
                if message[0] == "batch":
                    yield _Batch(*(list(zip(*columns, strict=True)) for columns in message[1:]))
                elif message[0] == "done":
                    self.stats = message[1]
                    return
                else:
                    raise RuntimeError(f"demo: the row generator failed:\n{message[1]}")
        finally:
            receive.close()
            child.join(timeout=5)
            if child.is_alive():  # the parent failed first: stop our own child
                child.kill()
                child.join()


def _produce(generator: _Generator, leads: int, send: Any) -> None:
    """The forked child: generate, pickle, send; then the totals, or the error."""
    # Millions of short-lived tuples and no reference cycles: the cyclic collector would
    # only rescan the batch in hand. The process ends with the load.
    gc.disable()
    try:
        for batch in generator.generate(leads):
            # Each table by columns: a third cheaper to pickle and unpickle than a list
            # of row tuples (pickle memoizes every tuple), and a little smaller.
            data = ("batch", *(list(zip(*rows, strict=True)) for rows in batch.tables()))
            send.send_bytes(pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
        send.send_bytes(pickle.dumps(("done", generator.stats())))
    except BrokenPipeError:
        pass  # the parent stopped reading: it has its own error to report
    except BaseException:
        send.send_bytes(pickle.dumps(("error", traceback.format_exc())))
    finally:
        send.close()


def load_demo(
    leads: int,
    seed: int = 1,
    progress: bool = False,
    *,
    now: datetime | None = None,
    intake: bool = True,
) -> dict[str, Any]:
    """Load the agency, its demo users and ``leads`` requests over the year before ``now``,
    with their touches, SLA clocks, breaches and recent notifications; then today's
    intake (unless ``intake`` is false) and a webhook endpoint with a delivery history.

    Returns a JSON-able summary: counts, seconds, and one line per created demo user
    with its password (shown once). The year is written in one transaction.
    """
    if leads < 0:
        raise ValueError("leads must be 0 or more")
    started = time.perf_counter()
    moment = (now or timezone.now()).astimezone(UTC)
    offset = ZoneInfo(settings.TIME_ZONE).utcoffset(moment.replace(tzinfo=None))
    calendar = _Calendar(int(moment.timestamp()), int(offset.total_seconds()) if offset else 0)
    rng = random.Random(seed)
    phases: dict[str, float] = {}  # where the time went, for benchmarks

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        phases[name] = round(now - since, 3)
        return now

    with transaction.atomic():
        cast, passwords = _ensure_agency(leads)
        first = _EPOCH + timedelta(days=calendar.first_day - 1)
        last = _EPOCH + timedelta(days=calendar.last_day + 1)
        sla = ensure_sla(moment, cast.sdr_team, cast.lead_sdr, first, last)
        _ensure_sales(cast, leads, moment, first, last)
        mark = lap("agency", started)
        writer = _Writer()
        try:
            ids = writer.start(leads)
            fmt = writer.fmt_factory(calendar.first_day - 1, calendar.last_day + 2)
            producer = _Producer(_Generator(rng, cast, calendar, fmt, ids, sla), leads)
            done = events = 0
            for batch in producer:
                writer.write_batch(batch)
                done += len(batch.leads)
                events += len(batch.events)
                if progress:
                    _progress_line(done, leads, events, time.perf_counter() - started)
            mark = lap("rows", mark)
            if progress and writer.rebuilding:
                sys.stderr.write("building indexes… ")
                sys.stderr.flush()
            # On an error the transaction rolls back the rows and any dropped indexes.
            writer.finish()
            mark = lap("indexes", mark)
            writer.analyze()
            mark = lap("analyze", mark)
        finally:
            writer.restore()
    mark = lap("commit", mark)
    # Today's submissions arrive the way every lead does, through the intake receiver,
    # so the deliveries pages have something real to show on first start.
    deliveries = load_intake_demo(random.Random(seed)) if intake else 0
    mark = lap("intake", mark)
    # After the intake: its new leads queue real webhook messages, which the demo's
    # endpoint must not inherit as pending work.
    webhooks = load_webhook_demo(moment, random.Random(seed))
    lap("webhooks", mark)
    if progress:
        sys.stderr.write("\n")
    return {
        "deliveries": deliveries,
        "webhook_messages": webhooks,
        **producer.stats,
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 3),
        "phases": phases,
        "passwords": passwords,
    }
