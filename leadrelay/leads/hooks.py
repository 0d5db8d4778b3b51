"""Where later layers (SLA clocks, notifications, outgoing webhooks) hook into a lead's life.

The domain functions in ``leads.transitions`` call these inside their transaction, after
the lead row and its event are written, so whatever a hook writes (a clock, an outbox
row) commits or rolls back with the change that caused it. Hooks register once, from
their app's ``ready()``; a hook that raises aborts the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadrelay.accounts.models import User
    from leadrelay.leads.models import Lead, LeadEvent


@dataclass(frozen=True)
class Change:
    """What just happened to a lead: its event, the lead as it is now, and before."""

    lead: Lead
    event: LeadEvent
    actor: User | None
    now: datetime
    from_status: str = ""
    sdr_before: int | None = None
    manager_before: int | None = None


Hook = Callable[[Change], None]
_HOOKS: list[Hook] = []


def register(hook: Hook) -> Hook:
    if hook not in _HOOKS:
        _HOOKS.append(hook)
    return hook


def fire(change: Change) -> None:
    for hook in _HOOKS:
        hook(change)
