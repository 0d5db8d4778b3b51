"""Permission-scoped lookups: the only way views and the API find leads."""

from __future__ import annotations

from django.db.models import Exists, ExpressionWrapper, F, IntegerField, Q, QuerySet
from django.db.models.expressions import CombinedExpression
from django.db.models.lookups import Exact, In

from leadrelay.accounts.models import Team, User
from leadrelay.accounts.roles import Role
from leadrelay.leads.errors import LeadNotFound
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status

SDR_INCOMING = (Status.NEW, Status.SDR_PROCESSING)


def _unindexed(field: str) -> ExpressionWrapper[CombinedExpression]:
    return ExpressionWrapper(F(field) + 0, output_field=IntegerField())


def _owned_by(owner_field: str, user_id: int) -> Q:
    """``owner = user``, without the owner index: see ``_owned_by_members``."""
    return Q(Exact(_unindexed(owner_field), user_id))


def _owned_by_members(owner_field: str, department_id: int) -> Q:
    """``owner IN (the department's people)``, written so no index on the owner is used.

    A head's scope covers a large share of all leads. Given an index on the owner, the
    planner (SQLite's above all) fetches every matching lead and sorts them for the page
    (seconds at a million leads); without one it walks the primary key from the newest
    lead and stops after a page (milliseconds). ``owner + 0`` is the classic way to say
    "not that index"; a narrower filter added to the scope still uses its own index.
    """
    return Q(In(_unindexed(owner_field), _department_members(department_id)))


def _department_members(department_id: int) -> QuerySet[User, int]:
    return User.objects.filter(department_id=department_id).values_list("id", flat=True)


def scope(user: User) -> Q:
    """The leads a user may see, as a filter.

    SDRs: incoming requests nobody has taken and their own; a lead SDR every incoming
    request. Sales: their own and the
    assignment queue. Heads: everything their department's people own plus the queue
    their department takes work from. Partner managers: requests referred to partners.
    """
    if not user.is_active:
        return Q(pk__in=[])
    role = user.role
    if role == Role.ADMIN or user.is_superuser:
        return Q()
    if role == Role.SDR:
        # A lead SDR (who leads a team) sees the whole incoming queue, to reassign it.
        team = Q(status__in=SDR_INCOMING) & Q(Exists(Team.objects.filter(lead_id=user.pk)))
        return _owned_by("sdr_id", user.pk) | Q(sdr__isnull=True, status__in=SDR_INCOMING) | team
    if role == Role.SALES:
        return _owned_by("manager_id", user.pk) | Q(
            manager__isnull=True, status=Status.AWAITING_ASSIGNMENT
        )
    if role == Role.HEAD_MARKETING:
        if user.department_id is None:
            return Q()
        return _owned_by_members("sdr_id", user.department_id) | Q(sdr__isnull=True)
    if role == Role.HEAD_SALES:
        from leadrelay.qualify.models import Return

        # A disputed return is the head's to settle, though the lead is with the SDR.
        queue = Q(manager__isnull=True, status=Status.AWAITING_ASSIGNMENT) | Q(
            pk__in=Return.objects.filter(state=Return.State.DISPUTED).values("lead_id")
        )
        if user.department_id is None:
            return Q(manager__isnull=False) | queue
        return _owned_by_members("manager_id", user.department_id) | queue
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
