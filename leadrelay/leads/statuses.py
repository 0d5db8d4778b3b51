"""The request's path: statuses, stages and the table of allowed transitions.

This table is the only statement of which move is allowed, for whom, and what it
requires; the domain functions in ``transitions`` enforce it, the views only read it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadrelay.accounts.roles import Role


class Status(models.TextChoices):
    NEW = "new", pgettext_lazy("status", "New")
    SDR_PROCESSING = "sdr_processing", _("Received by SDR, questionnaire in progress")
    AWAITING_ASSIGNMENT = "awaiting_assignment", _("Awaiting a sales manager")
    ASSIGNED = "assigned", _("Received by a sales manager, awaiting action")
    DISCUSSION = "discussion", _("Discussing the client's tasks before the proposal")
    BRIEF_FILLED = "brief_filled", _("Pre-sale brief sent and filled in by the client")
    PROPOSAL = "proposal", _("Preparing and agreeing the proposal")
    CONTRACT = "contract", _("Contract and payment")
    CONVERTED = "converted", _("Converted")
    DISQUALIFIED = "disqualified", _("Disqualified")
    REFERRED = "referred", _("Referred to a partner")
    ROUTED = "routed", _("Routed to a group company or department")
    LOST = "lost", _("Lost")


class Stage(models.TextChoices):
    """Funnel stages in order. ``proposal`` is a funnel step, not an API ``stage``."""

    MQL = "mql", "MQL"
    SQL = "sql", "SQL"
    SAL = "sal", "SAL"
    PROPOSAL = "proposal", _("Proposal")
    DEAL = "deal", _("Deal")


PATH: tuple[Status, ...] = (
    Status.NEW,
    Status.SDR_PROCESSING,
    Status.AWAITING_ASSIGNMENT,
    Status.ASSIGNED,
    Status.DISCUSSION,
    Status.BRIEF_FILLED,
    Status.PROPOSAL,
    Status.CONTRACT,
    Status.CONVERTED,
)
ENDS: frozenset[Status] = frozenset(
    {Status.CONVERTED, Status.DISQUALIFIED, Status.REFERRED, Status.ROUTED, Status.LOST}
)
OPEN: frozenset[Status] = frozenset(set(Status) - ENDS)

# Entering a status reaches a stage (and every stage before it: reached-or-passed).
STAGE_OF_STATUS: dict[Status, Stage] = {
    Status.AWAITING_ASSIGNMENT: Stage.MQL,
    Status.DISCUSSION: Stage.SQL,
    Status.BRIEF_FILLED: Stage.SAL,
    Status.PROPOSAL: Stage.PROPOSAL,
    Status.CONVERTED: Stage.DEAL,
}
STAGE_ORDER: tuple[Stage, ...] = (Stage.MQL, Stage.SQL, Stage.SAL, Stage.PROPOSAL, Stage.DEAL)
# The stages CONTRACT.md exposes as a lead's ``stage``.
API_STAGES: tuple[Stage, ...] = (Stage.MQL, Stage.SQL, Stage.SAL, Stage.DEAL)

_SDR_SIDE = frozenset({Role.SDR, Role.HEAD_MARKETING, Role.ADMIN})
_SALES_SIDE = frozenset({Role.SALES, Role.HEAD_SALES, Role.ADMIN})


@dataclass(frozen=True)
class Transition:
    source: Status
    target: Status
    roles: frozenset[Role]
    reason_required: bool = False
    backward: bool = False


def _t(
    source: Status,
    target: Status,
    roles: frozenset[Role],
    *,
    reason: bool = False,
    backward: bool = False,
) -> Transition:
    # Every backward move needs a reason: disputes between departments are settled by it.
    return Transition(source, target, roles, reason or backward, backward)


_SALES_WORK = (Status.ASSIGNED, Status.DISCUSSION, Status.BRIEF_FILLED, Status.PROPOSAL)

TRANSITIONS: tuple[Transition, ...] = (
    # The SDR takes a new request and qualifies it.
    _t(Status.NEW, Status.SDR_PROCESSING, _SDR_SIDE),
    _t(Status.NEW, Status.DISQUALIFIED, _SDR_SIDE, reason=True),
    _t(Status.SDR_PROCESSING, Status.AWAITING_ASSIGNMENT, _SDR_SIDE),
    _t(Status.SDR_PROCESSING, Status.DISQUALIFIED, _SDR_SIDE, reason=True),
    _t(Status.SDR_PROCESSING, Status.REFERRED, _SDR_SIDE),
    _t(Status.SDR_PROCESSING, Status.ROUTED, _SDR_SIDE),
    _t(Status.SDR_PROCESSING, Status.NEW, _SDR_SIDE, backward=True),
    # Sales takes the MQL, or sends it back to the SDR.
    _t(Status.AWAITING_ASSIGNMENT, Status.ASSIGNED, _SALES_SIDE),
    _t(Status.AWAITING_ASSIGNMENT, Status.SDR_PROCESSING, _SALES_SIDE | _SDR_SIDE, backward=True),
    _t(Status.ASSIGNED, Status.DISCUSSION, _SALES_SIDE),
    _t(Status.ASSIGNED, Status.SDR_PROCESSING, _SALES_SIDE, backward=True),
    _t(Status.ASSIGNED, Status.AWAITING_ASSIGNMENT, _SALES_SIDE, backward=True),
    _t(Status.DISCUSSION, Status.BRIEF_FILLED, _SALES_SIDE),
    _t(Status.DISCUSSION, Status.SDR_PROCESSING, _SALES_SIDE, backward=True),
    _t(Status.BRIEF_FILLED, Status.PROPOSAL, _SALES_SIDE),
    _t(Status.BRIEF_FILLED, Status.DISCUSSION, _SALES_SIDE, backward=True),
    _t(Status.PROPOSAL, Status.CONTRACT, _SALES_SIDE),
    _t(Status.PROPOSAL, Status.BRIEF_FILLED, _SALES_SIDE, backward=True),
    _t(Status.CONTRACT, Status.CONVERTED, _SALES_SIDE),
    _t(Status.CONTRACT, Status.PROPOSAL, _SALES_SIDE, backward=True),
    # Lost at any sales stage, with a reason; reopened to where it was worked.
    *(_t(s, Status.LOST, _SALES_SIDE, reason=True) for s in (*_SALES_WORK, Status.CONTRACT)),
    *(_t(Status.LOST, s, _SALES_SIDE, backward=True) for s in _SALES_WORK[1:]),
    _t(Status.LOST, Status.CONTRACT, _SALES_SIDE, backward=True),
    # Ends off the path can be reopened when the SDR side finds they were wrong.
    _t(Status.DISQUALIFIED, Status.SDR_PROCESSING, _SDR_SIDE, backward=True),
    _t(Status.REFERRED, Status.SDR_PROCESSING, _SDR_SIDE | {Role.PARTNER_MANAGER}, backward=True),
    _t(Status.ROUTED, Status.SDR_PROCESSING, _SDR_SIDE, backward=True),
)

_BY_PAIR: dict[tuple[Status, Status], Transition] = {(t.source, t.target): t for t in TRANSITIONS}
assert len(_BY_PAIR) == len(TRANSITIONS), "a transition is listed twice"


def find(source: str, target: str) -> Transition | None:
    try:
        return _BY_PAIR.get((Status(source), Status(target)))
    except ValueError:
        return None


def allowed_from(source: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == source]


def api_stage(reached: dict[Stage, bool]) -> Stage | None:
    for stage in reversed(API_STAGES):
        if reached.get(stage):
            return stage
    return None
