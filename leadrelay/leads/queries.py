"""Permission-scoped lookups: the only way views and the API find leads."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.errors import LeadNotFound
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status

SDR_INCOMING = (Status.NEW, Status.SDR_PROCESSING)


def _department_members(department_id: int) -> QuerySet[User, int]:
    return User.objects.filter(department_id=department_id).values_list("id", flat=True)


def scope(user: User) -> Q:
    """The leads a user may see, as a filter.

    SDRs: incoming requests nobody has taken and their own. Sales: their own and the
    assignment queue. Heads: everything their department's people own plus the queue
    their department takes work from. Partner managers: requests referred to partners.
    """
    if not user.is_active:
        return Q(pk__in=[])
    role = user.role
    if role == Role.ADMIN or user.is_superuser:
        return Q()
    if role == Role.SDR:
        return Q(sdr=user) | Q(sdr__isnull=True, status__in=SDR_INCOMING)
    if role == Role.SALES:
        return Q(manager=user) | Q(manager__isnull=True, status=Status.AWAITING_ASSIGNMENT)
    if role == Role.HEAD_MARKETING:
        if user.department_id is None:
            return Q()
        return Q(sdr_id__in=_department_members(user.department_id)) | Q(sdr__isnull=True)
    if role == Role.HEAD_SALES:
        queue = Q(manager__isnull=True, status=Status.AWAITING_ASSIGNMENT)
        if user.department_id is None:
            return Q(manager__isnull=False) | queue
        return Q(manager_id__in=_department_members(user.department_id)) | queue
    if role == Role.PARTNER_MANAGER:
        return Q(status=Status.REFERRED) | Q(partner__isnull=False)
    return Q(pk__in=[])


def visible_leads(user: User) -> QuerySet[Lead]:
    return Lead.objects.filter(scope(user))


def get_lead_for(user: User, lead_id: int) -> Lead:
    lead = visible_leads(user).filter(pk=lead_id).first()
    if lead is None:
        raise LeadNotFound(f"Lead {lead_id} not found")
    return lead
