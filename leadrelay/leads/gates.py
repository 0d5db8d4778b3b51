"""What a move needs besides the role and the table: a completed questionnaire before the
hand-off, a reason code for a disqualification or a return.

Later layers register checks from their app's ``ready()``; ``move_lead`` runs them inside
its transaction, after the role check, and refuses the move with one 422 that names
every missing item, so a user fixes everything in one go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadrelay.accounts.models import User
    from leadrelay.leads.models import Lead
    from leadrelay.leads.statuses import Transition
    from leadrelay.leads.transitions import MoveOptions


@dataclass(frozen=True)
class Missing:
    """One thing a move still needs: a machine name and what to tell the user."""

    field: str
    label: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "label": self.label}


# The actor is None for a move the system makes (the assignment engine, a client's brief).
Gate = Callable[["User | None", "Lead", "Transition", "MoveOptions"], list[Missing]]
_GATES: list[Gate] = []
_suspended: ContextVar[bool] = ContextVar("leadrelay_gates_suspended", default=False)


def register(gate: Gate) -> Gate:
    if gate not in _GATES:
        _GATES.append(gate)
    return gate


def missing(
    actor: User | None, lead: Lead, move: Transition, options: MoveOptions
) -> list[Missing]:
    if _suspended.get():
        return []
    found: list[Missing] = []
    for gate in _GATES:
        found.extend(gate(actor, lead, move, options))
    return found


@contextmanager
def suspended() -> Iterator[None]:
    """Replay recorded history without today's rules (the demo's consistency checks)."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)
