"""Replaying the event log: what a lead's status and stages are, from its history alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from leadrelay.leads.statuses import STAGE_OF_STATUS, STAGE_ORDER, Stage, Status


@dataclass
class Replayed:
    status: Status | None = None
    reached: dict[Stage, datetime] = field(default_factory=dict)
    version: int = 0


def reach(reached: dict[Stage, datetime], status: str, at: datetime) -> None:
    """Record the stage ``status`` reaches, and every stage before it, if not yet reached."""
    stage = STAGE_OF_STATUS.get(Status(status))
    if stage is None:
        return
    for earlier in STAGE_ORDER[: STAGE_ORDER.index(stage) + 1]:
        reached.setdefault(earlier, at)


def replay(events: Iterable[tuple[str, str, datetime]]) -> Replayed:
    """Fold ``(kind, to_status, at)`` events, oldest first, into the lead's state."""
    state = Replayed()
    for kind, to_status, at in events:
        if kind in ("created", "status") and to_status:
            state.status = Status(to_status)
            reach(state.reached, to_status, at)
            state.version += 1
    return state
