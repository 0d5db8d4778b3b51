"""The gates of the sales side (``leads.gates``): what each step toward the deal needs.

- ``brief_filled`` (SAL): a pre-sale brief filled in, by the client or from a call;
- ``proposal``: a demo held first, when the lead's service has a demo policy;
- ``contract``: a proposal the client accepted;
- ``converted``: a contract and at least one payment on it.

A loss needs its reason code (``qualify.handoff``). Steps back are free, but a lost
deal reopens only to a stage it has the records for (from a loss in the discussion,
not straight to the contract).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.leads.gates import Missing
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status, Transition
from leadrelay.leads.transitions import MoveOptions


def brief_filled(lead: Lead) -> bool:
    from leadrelay.presale.models import Brief

    return Brief.objects.filter(lead=lead, filled_at__isnull=False).exists()


def demo_required(lead: Lead) -> bool:
    from leadrelay.presale.models import DemoPolicy

    return (
        lead.service_id is not None
        and DemoPolicy.objects.filter(service_id=lead.service_id, demo_required=True).exists()
    )


def demo_held(lead: Lead) -> bool:
    from leadrelay.presale.models import Demo

    return Demo.objects.filter(lead=lead, state=Demo.State.HELD).exists()


def proposal_accepted(lead: Lead) -> bool:
    from leadrelay.deals.models import Proposal

    return Proposal.objects.filter(lead=lead, state=Proposal.State.ACCEPTED).exists()


def contract_paid(lead: Lead) -> tuple[bool, bool]:
    """(a contract exists, at least one payment on it)."""
    from leadrelay.deals.models import Contract, Payment

    contract = Contract.objects.filter(lead=lead).values_list("pk", flat=True).first()
    if contract is None:
        return False, False
    return True, Payment.objects.filter(contract_id=contract).exists()


def gate(actor: User | None, lead: Lead, move: Transition, options: MoveOptions) -> list[Missing]:
    # A step back needs nothing, but reopening a lost deal is a step forward from the
    # loss: it may return to where the deal was, not jump past a stage never done.
    reopen = move.source == Status.LOST
    if move.backward and not reopen:
        return []
    target = move.target
    after_brief = (Status.BRIEF_FILLED, Status.PROPOSAL, Status.CONTRACT)
    needs_brief = target == Status.BRIEF_FILLED or (reopen and target in after_brief)
    if needs_brief and not brief_filled(lead):
        return [Missing("brief", _("The pre-sale brief, filled in by the client or from a call"))]
    if target == Status.PROPOSAL and demo_required(lead) and not demo_held(lead):
        return [Missing("demo", _("A demo held with the client (this service requires one)"))]
    if target == Status.CONTRACT and not proposal_accepted(lead):
        return [Missing("proposal", _("A proposal the client accepted"))]
    if target == Status.CONVERTED:
        found: list[Missing] = []
        has_contract, paid = contract_paid(lead)
        if not has_contract:
            found.append(Missing("contract", _("The signed contract")))
        if not paid:
            found.append(Missing("payment", _("The client's first payment")))
        return found
    return []
