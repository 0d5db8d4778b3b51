"""Replaying the demo's sales-side events through the real functions: the engine's
``assign``, the brief, demos, proposals, the contract and payments (used by the replay
tests in ``test_demo`` and ``test_sales_demo``).

Each function is called with what the demo's rows and events say was entered; the event
it writes must equal the demo's once the record ids (the twin's rows are new ones) are
mapped, and so must the rows it leaves (``assert_same_sales``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from leadrelay.accounts.models import User
from leadrelay.deals import contracts, proposals
from leadrelay.deals.models import Contract, Payment, Proposal, ProposalItem
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.notify.models import Notification
from leadrelay.presale import briefs, demos
from leadrelay.presale.models import Brief, Demo
from leadrelay.sales import engine
from leadrelay.sales.models import Assignment, AssignmentRule

SALES_KINDS = ("assignment", "brief", "demo", "proposal", "contract", "payment")
_IDS = {
    "assignment": Assignment,
    "brief": Brief,
    "demo": Demo,
    "proposal": Proposal,
    "contract": Contract,
    "payment": Payment,
}


def _months(start: date, end: date) -> int:
    """Whole months from ``start`` to the day after ``end`` (a retainer's term)."""
    after = end + timedelta(days=1)
    return (after.year - start.year) * 12 + after.month - start.month


class SalesReplay:
    """The sales events of one demo lead, replayed onto its twin."""

    def __init__(self, lead: Lead, twin: Lead, users: dict[int, User]) -> None:
        self.lead = lead
        self.twin = twin
        self.users = users
        self.ids: dict[str, dict[int, int]] = {kind: {} for kind in _IDS}

    @staticmethod
    def made_by_function(events: list[LeadEvent], i: int) -> bool:
        """A status event that a sales function makes itself: the engine's or the head's
        assignment (``assign`` moves the lead), a brief's fill in ``discussion``."""
        e = events[i]
        if e.kind != "status":
            return False
        if e.to_status == Status.ASSIGNED and i + 1 < len(events):
            nxt = events[i + 1]
            return (
                nxt.kind == "assignment"
                and nxt.at == e.at
                and nxt.data["how"] in ("auto", "manual")
            )
        if e.to_status == Status.BRIEF_FILLED and e.from_status == Status.DISCUSSION:
            before = events[i - 1]
            return (
                before.kind == "brief" and before.at == e.at and before.data["action"] == "filled"
            )
        return False

    def _last(self, kind: str) -> LeadEvent:
        event = self.twin.events.filter(kind=kind).order_by("-id").first()
        assert event is not None
        return event

    def _mapped(self, data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        for key in _IDS:
            if key in out:
                out[key] = self.ids[key][out[key]]
        return out

    def apply(self, events: list[LeadEvent], i: int) -> None:
        """Replay ``events[i]`` (a sales kind) and compare what it wrote, with the status
        move the function made, if any."""
        e = events[i]
        data = e.data
        actor = self.users.get(e.actor_id or 0)
        made = getattr(self, f"_{e.kind}")(e, actor, data)
        if made is not None:
            self.ids[e.kind][data[e.kind]] = made
        assert self._last(e.kind).data == self._mapped(data), (self.lead.pk, e.kind, data)
        for k in (i - 1, i + 1):
            if 0 <= k < len(events) and self.made_by_function(events, k) and events[k].at == e.at:
                moved = self._last("status")
                assert (moved.to_status, moved.data) == (events[k].to_status, events[k].data)
                assert moved.actor_id == events[k].actor_id, (self.lead.pk, "actor")
        self.twin.refresh_from_db()

    def _assignment(self, e: LeadEvent, actor: User | None, data: dict[str, Any]) -> int:
        how = data["how"]
        if how != "self":  # a manager's own take was the plain move before this
            given = Assignment.objects.get(pk=data["assignment"])
            rule = AssignmentRule.objects.filter(pk=data["rule"] or 0).first()
            engine.assign(
                actor,
                self.twin.pk,
                self.users[data["manager"]],
                how=how,
                strategy=data["strategy"],
                rule=rule,
                why=given.why if how == "auto" else None,
                now=e.at,
            )
        return int(
            Assignment.objects.filter(lead=self.twin)
            .order_by("-id")
            .values_list("id", flat=True)[0]
        )

    def _brief(self, e: LeadEvent, actor: User | None, data: dict[str, Any]) -> int | None:
        action = data["action"]
        given = Brief.objects.get(pk=data["brief"])
        if action == "sent":
            assert actor is not None
            brief, url = briefs.send_brief(actor, self.twin.pk, to=data["to"], now=e.at)
            assert url.endswith("/")
            return brief.pk
        if action == "filled" and data["via"] == "client":
            mine = Brief.objects.get(pk=self.ids["brief"][data["brief"]])
            briefs.fill_by_client(briefs.token_for(mine), given.values, now=e.at)
            return None
        if action == "filled":
            assert actor is not None
            return briefs.fill_from_call(actor, self.twin.pk, given.values, now=e.at).pk
        assert actor is not None
        briefs.revoke(actor, self.ids["brief"][data["brief"]], now=e.at)
        return None

    def _demo(self, e: LeadEvent, actor: User | None, data: dict[str, Any]) -> int | None:
        assert actor is not None
        action = data["action"]
        starts = datetime.fromisoformat(data["starts_at"])
        if action == "scheduled":
            given = Demo.objects.get(pk=data["demo"])
            return demos.schedule_demo(
                actor,
                self.twin.pk,
                starts_at=starts,
                duration_minutes=given.duration_minutes,
                format=given.format,
                location=given.location,
                attendees=given.attendees,
                note=given.note,
                now=e.at,
            ).pk
        mine = self.ids["demo"][data["demo"]]
        if action == "rescheduled":
            demos.update_demo(actor, mine, starts_at=starts, now=e.at)
        else:
            demos.update_demo(actor, mine, state=action, now=e.at)
        return None

    def _proposal(self, e: LeadEvent, actor: User | None, data: dict[str, Any]) -> int | None:
        assert actor is not None
        if data["action"] != "created":
            mine = self.ids["proposal"][data["proposal"]]
            proposals.set_proposal_state(actor, mine, data["action"], now=e.at)
            return None
        given = Proposal.objects.get(pk=data["proposal"])
        items = [
            {"service": i.service_id or "", "description": i.description, "amount": str(i.amount)}
            for i in ProposalItem.objects.filter(proposal=given).order_by("order", "id")
        ]
        return proposals.save_proposal(
            actor,
            self.twin.pk,
            amount=data["amount"],
            currency=data["currency"],
            term_months=given.term_months,
            items=items,
            note=given.note,
            now=e.at,
        ).pk

    def _contract(self, e: LeadEvent, actor: User | None, data: dict[str, Any]) -> int:
        """The contract as the event says it was then: an amendment changes the price
        (and a retainer's fee with it), never the dates."""
        assert actor is not None
        given = Contract.objects.get(pk=data["contract"])
        value = Decimal(data["value"])
        fee = None
        if data["kind"] == Contract.Kind.RETAINER:
            assert given.ends_on is not None
            fee = value / _months(given.starts_on, given.ends_on)
        return contracts.save_contract(
            actor,
            self.twin.pk,
            number=f"{given.number}-twin",  # numbers are unique
            kind=data["kind"],
            signed_on=given.signed_on,
            starts_on=given.starts_on,
            ends_on=given.ends_on,
            value=value,
            currency=data["currency"],
            monthly_fee=fee,
            now=e.at,
        ).pk

    def _payment(self, e: LeadEvent, actor: User | None, data: dict[str, Any]) -> int:
        given = Payment.objects.get(pk=data["payment"])
        payment, created = contracts.record_payment(
            actor,
            self.twin.pk,
            paid_on=given.paid_on,
            amount=given.amount,
            currency=given.currency,
            period_start=given.period_start,
            period_end=given.period_end,
            source=given.source,
            external_id=given.external_id,
            note=given.note,
            now=e.at,
        )
        assert created
        return payment.pk


def _rows(model: Any, names: list[str], **where: Any) -> list[tuple[Any, ...]]:
    return list(model.objects.filter(**where).order_by("id").values_list(*names))


def _fields(model: Any, *skip: str) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.name not in ("id", "lead", *skip)]


def assert_same_sales(lead: Lead, twin: Lead) -> None:
    """The sales records the functions left on the twin are the demo's: assignments,
    briefs (but the link's nonce), demos (but the invitation's uid), proposals and their
    items, the contract (but its number, unique) and payments; and the lead's client,
    deal value and competitor, and the recent notifications."""
    for model, skip in (
        (Assignment, ()),
        (Brief, ("nonce",)),
        (Demo, ("uid",)),
        (Proposal, ()),
        (Contract, ("number",)),
        (Payment, ("contract",)),
    ):
        names = _fields(model, *skip)
        assert _rows(model, names, lead=twin) == _rows(model, names, lead=lead), (
            lead.pk,
            model.__name__,
        )
    names = _fields(ProposalItem, "proposal")
    mine = _rows(ProposalItem, names, proposal__lead=twin)
    assert mine == _rows(ProposalItem, names, proposal__lead=lead), (lead.pk, "items")
    for name in ("client_id", "deal_amount", "deal_currency", "lost_to"):
        assert getattr(twin, name) == getattr(lead, name), (lead.pk, name)


def told(of: Lead, since: datetime) -> list[tuple[Any, ...]]:
    kinds = ("lead_assigned_manager", "brief_filled")
    found = Notification.objects.filter(lead=of, kind__in=kinds, created_at__gte=since)
    return sorted(found.values_list("kind", "user_id", "created_at", "data", "read_at"))
