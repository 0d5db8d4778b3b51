"""The gates of the SDR side: what a move needs beyond the role (``leads.gates``)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.gates import Missing
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status, Transition
from leadrelay.leads.transitions import MoveOptions
from leadrelay.qualify.answers import handoff_missing
from leadrelay.qualify.models import ReasonCode, Return

# Where sales has the lead: a move from here back to the SDR is a return.
SALES_HELD = (Status.AWAITING_ASSIGNMENT, Status.ASSIGNED, Status.DISCUSSION)
SALES_ROLES = (Role.SALES, Role.HEAD_SALES)


def is_return(actor: User | None, move: Transition) -> bool:
    return (
        actor is not None
        and move.source in SALES_HELD
        and move.target == Status.SDR_PROCESSING
        and actor.role in SALES_ROLES
    )


def reason_codes(kind: str) -> list[ReasonCode]:
    return list(ReasonCode.objects.filter(kind=kind, active=True))


def _code_missing(kind: str, code: str, label: str) -> list[Missing]:
    codes = [c.code for c in reason_codes(kind)]
    if code in codes:
        return []
    return [Missing("reason_code", label + " (" + ", ".join(codes) + ")")]


def gate(actor: User | None, lead: Lead, move: Transition, options: MoveOptions) -> list[Missing]:
    if move.target == Status.AWAITING_ASSIGNMENT and move.source == Status.SDR_PROCESSING:
        found = [Missing(f, label) for f, label in handoff_missing(lead)]
        # An open return is answered by handing the reworked lead off again; a disputed
        # one waits for the head's decision.
        if Return.objects.filter(lead=lead, state=Return.State.DISPUTED).exists():
            found.append(Missing("return", _("A head's decision on the disputed return")))
        return found
    if move.target == Status.DISQUALIFIED:
        return _code_missing(
            ReasonCode.Kind.DISQUALIFY, options.reason_code, _("A disqualification reason code")
        )
    if is_return(actor, move):
        return _code_missing(
            ReasonCode.Kind.RETURN, options.reason_code, _("A reason code for the return")
        )
    if move.target == Status.LOST:
        return _code_missing(ReasonCode.Kind.LOST, options.reason_code, _("A loss reason code"))
    if move.target == Status.REFERRED and options.partner is None:
        return [Missing("partner", _("The partner the request goes to"))]
    if move.target == Status.ROUTED and options.department is None:
        return [Missing("department", _("The group company or department it goes to"))]
    return []
