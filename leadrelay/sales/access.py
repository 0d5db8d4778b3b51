"""Who may work a lead on the sales side, and the row lock every sales record takes.

The brief, demos, proposals, the contract and payments are written by the lead's own
manager, the head of sales or an admin; anyone else who may see the lead only reads.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads import queries
from leadrelay.leads.errors import Forbidden, LeadNotFound
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status

# Where a lead is in sales' hands: records can be added to it.
SALES_OPEN = (
    Status.ASSIGNED,
    Status.DISCUSSION,
    Status.BRIEF_FILLED,
    Status.PROPOSAL,
    Status.CONTRACT,
)
# A converted lead still takes payments (a retainer's monthly charges).
PAYABLE = (Status.CONTRACT, Status.CONVERTED)


def works_sales(user: User) -> bool:
    return user.is_superuser or user.role in (Role.ADMIN, Role.HEAD_SALES, Role.SALES)


def may_work(user: User, lead: Lead) -> bool:
    """The lead's manager, the head of sales or an admin (status aside)."""
    if user.is_superuser or user.role in (Role.ADMIN, Role.HEAD_SALES):
        return True
    return user.role == Role.SALES and lead.manager_id == user.pk


def locked_lead(actor: User, lead_id: int) -> Lead:
    """The lead, its row locked for the caller's transaction, if ``actor`` may see it
    (else ``LeadNotFound``) and work it (else ``Forbidden``)."""
    lead = Lead.objects.select_for_update().filter(pk=lead_id).first()
    if lead is None or not queries.visible_leads(actor).filter(pk=lead_id).exists():
        raise LeadNotFound(_("Lead %(id)s not found") % {"id": lead_id})
    if not may_work(actor, lead):
        raise Forbidden(_("Only the lead's sales manager or the head of sales can do this."))
    return lead
