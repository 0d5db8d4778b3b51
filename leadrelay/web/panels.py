"""Parts of the lead page that belong to later layers (assignment, brief and demos,
proposal to payment). Each registers a function that returns its template and context
for a lead, or None when it has nothing to show; the lead page draws them in order.

A panel's function must cost a bounded number of queries, whatever the lead's history.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead


@dataclass(frozen=True)
class Panel:
    template: str
    context: dict[str, Any]


PanelFn = Callable[[User, Lead], Panel | None]
PANELS: list[PanelFn] = []


def register(fn: PanelFn) -> PanelFn:
    if fn not in PANELS:
        PANELS.append(fn)
    return fn


def for_lead(user: User, lead: Lead) -> list[Panel]:
    return [p for p in (fn(user, lead) for fn in PANELS) if p is not None]
