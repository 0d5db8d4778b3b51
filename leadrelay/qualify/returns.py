"""The rejection loop: sales returns an MQL, the SDR accepts or disputes, a head settles."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.accounts.roles import Role
from leadrelay.leads.errors import Forbidden, LeadNotFound, MissingField, TransitionNotAllowed
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import MoveOptions, move_locked
from leadrelay.notify.outbox import notify
from leadrelay.qualify.models import Return

JUDGES = (Role.HEAD_MARKETING, Role.HEAD_SALES, Role.ADMIN)


def _locked(return_id: int) -> tuple[Return, Lead]:
    ret = Return.objects.filter(pk=return_id).first()
    if ret is None:
        raise LeadNotFound(_("Return %(id)s not found") % {"id": return_id})
    # The lead's row lock serialises every decision on its returns.
    lead = Lead.objects.select_for_update().get(pk=ret.lead_id)
    ret = Return.objects.select_related("returned_by").get(pk=return_id)
    return ret, lead


def _event(lead: Lead, actor: User, now: datetime, ret: Return, note: str) -> None:
    LeadEvent.objects.create(
        lead=lead,
        at=now,
        actor=actor,
        kind=LeadEvent.Kind.RETURN,
        reason=note,
        data={"return": ret.pk, "state": ret.state, "reason_code": ret.reason_code},
    )


def decide(
    actor: User, return_id: int, *, accept: bool, note: str = "", now: datetime | None = None
) -> Return:
    """The SDR's answer to a return: accept it (rework the request) or dispute it."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not accept and not note:
        raise MissingField(_("Say why you dispute the return."), field="note")
    with transaction.atomic():
        ret, lead = _locked(return_id)
        owner = actor.pk == lead.sdr_id
        if not (owner or actor.is_superuser or actor.role in (Role.HEAD_MARKETING, Role.ADMIN)):
            raise Forbidden(_("Only the request's SDR answers a return."))
        if ret.state != Return.State.OPEN:
            raise TransitionNotAllowed(_("This return has already been answered."))
        ret.state = Return.State.ACCEPTED if accept else Return.State.DISPUTED
        ret.sdr_note = note
        ret.decided_at = now
        ret.save(update_fields=["state", "sdr_note", "decided_at"])
        _event(lead, actor, now, ret, note)
        if not accept:
            notify(
                User.objects.filter(
                    role__in=(Role.HEAD_MARKETING, Role.HEAD_SALES), is_active=True
                ),
                "return_disputed",
                dedup_key=f"return-{ret.pk}-disputed",
                now=now,
                lead=lead,
                data={"reason_code": ret.reason_code, "note": note},
            )
    return ret


def judge(
    actor: User, return_id: int, *, overturn: bool, note: str = "", now: datetime | None = None
) -> Return:
    """A head settles a dispute: the return stands, or the MQL goes back to sales."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not (actor.is_superuser or actor.role in JUDGES):
        raise Forbidden(_("Only the head of marketing or sales settles a dispute."))
    with transaction.atomic():
        ret, lead = _locked(return_id)
        if ret.state != Return.State.DISPUTED:
            raise TransitionNotAllowed(_("Only a disputed return is settled."))
        ret.state = Return.State.OVERTURNED if overturn else Return.State.UPHELD
        if overturn:
            if lead.status != Status.SDR_PROCESSING:
                raise TransitionNotAllowed(
                    _("The request has moved on since the return; it cannot go back to sales.")
                )
            # Decided, so no longer in the way of the hand-off gate.
            ret.save(update_fields=["state"])
            move_locked(
                actor,
                lead,
                Status.AWAITING_ASSIGNMENT,
                reason=note or _("Return overturned"),
                options=MoveOptions(),
                now=now,
                role_checked=True,
            )
        ret.judge = actor
        ret.judge_note = note
        ret.judged_at = now
        ret.save(update_fields=["state", "judge", "judge_note", "judged_at"])
        _event(lead, actor, now, ret, note)
        people = [u for u in (ret.returned_by, lead.sdr) if u is not None]
        notify(
            people,
            "return_judged",
            dedup_key=f"return-{ret.pk}-judged",
            now=now,
            lead=lead,
            data={"state": ret.state, "note": note},
        )
    return ret
