"""Demos of the agency's work to the client: scheduled with an .ics invitation e-mailed
to the attendees, then held, cancelled or missed. A service's ``DemoPolicy`` can make a
held demo a condition of ``proposal`` (the gate is in ``deals.gates``).

Each function is one transaction on the lead's row lock and writes one ``demo`` event.
Any change to what the invitation says (time, place, attendees, a cancellation) raises
its RFC 5545 ``SEQUENCE``, so calendars replace the old invitation instead of adding one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from leadrelay.accounts.models import User
from leadrelay.deals.gates import demo_held, demo_required
from leadrelay.leads.errors import InvalidInput, LeadNotFound, TransitionNotAllowed
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.notify.models import Outbox
from leadrelay.notify.outbox import enqueue
from leadrelay.presale.briefs import BRIEF_OPEN, check_email
from leadrelay.presale.models import Demo
from leadrelay.sales import access

# Demos are arranged in the same part of the path as the brief.
DEMO_OPEN = BRIEF_OPEN
MAX_ATTENDEES = 30
MIN_MINUTES, MAX_MINUTES = 15, 8 * 60
# What the manager can mark a scheduled demo as.
OUTCOMES = (Demo.State.HELD, Demo.State.CANCELLED, Demo.State.NO_SHOW)


def _lead_for_demo(actor: User, lead_id: int) -> Lead:
    lead = access.locked_lead(actor, lead_id)
    if lead.status not in DEMO_OPEN:
        raise TransitionNotAllowed(
            _(
                "Demos are arranged from the discussion until the contract; "
                "this lead is “%(status)s”."
            )
            % {"status": Status(lead.status).label}
        )
    return lead


def parse_attendees(raw: str | Iterable[str]) -> list[str]:
    """Addresses from a comma- or line-separated text, or a list: each checked,
    normalised, duplicates dropped; ``InvalidInput`` on ``attendees`` names the bad ones."""
    items = raw.replace(";", ",").replace("\n", ",").split(",") if isinstance(raw, str) else raw
    found: list[str] = []
    bad: list[str] = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            address = check_email(text, "attendees")
        except InvalidInput:
            bad.append(text)
            continue
        if address not in found:
            found.append(address)
    if bad:
        message = _("Not valid e-mail addresses: %(list)s.") % {"list": ", ".join(bad)}
        raise InvalidInput(message, errors={"attendees": message})
    if len(found) > MAX_ATTENDEES:
        message = _("At most %(n)s attendees.") % {"n": MAX_ATTENDEES}
        raise InvalidInput(message, errors={"attendees": message})
    return found


def _check(values: dict[str, Any]) -> dict[str, Any]:
    """The demo's details checked together; ``InvalidInput`` with every error."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    if "starts_at" in values:
        starts = values["starts_at"]
        if not isinstance(starts, datetime) or timezone.is_naive(starts):
            errors["starts_at"] = _("Enter the date and time.")
        else:
            out["starts_at"] = starts
    if "duration_minutes" in values:
        minutes = values["duration_minutes"]
        if not isinstance(minutes, int) or not MIN_MINUTES <= minutes <= MAX_MINUTES:
            errors["duration_minutes"] = _("A demo lasts from %(min)s to %(max)s minutes.") % {
                "min": MIN_MINUTES,
                "max": MAX_MINUTES,
            }
        else:
            out["duration_minutes"] = minutes
    if "format" in values:
        if values["format"] not in Demo.Format.values:
            errors["format"] = _("Choose how the demo is held.")
        else:
            out["format"] = values["format"]
    for key, limit in (("location", 500), ("note", 4000)):
        if key in values:
            text = str(values[key] or "").strip()
            if len(text) > limit:
                errors[key] = _("At most %(n)s characters.") % {"n": limit}
            out[key] = text
    if "attendees" in values:
        try:
            out["attendees"] = parse_attendees(values["attendees"] or [])
        except InvalidInput as exc:
            errors.update(exc.details["errors"])
    if errors:
        raise InvalidInput(_("The demo has errors; nothing was saved."), errors=errors)
    return out


def _event(demo: Demo, actor: User, action: str, now: datetime) -> None:
    LeadEvent.objects.create(
        lead_id=demo.lead_id,
        at=now,
        actor=actor,
        kind=LeadEvent.Kind.DEMO,
        data={"demo": demo.pk, "action": action, "starts_at": demo.starts_at.isoformat()},
    )


def schedule_demo(
    actor: User,
    lead_id: int,
    *,
    starts_at: datetime,
    duration_minutes: int,
    format: str,
    location: str,
    attendees: str | Iterable[str],
    note: str = "",
    now: datetime | None = None,
) -> Demo:
    """Arrange a demo and e-mail the invitation to its attendees."""
    now = now or timezone.now()
    values = _check(
        {
            "starts_at": starts_at,
            "duration_minutes": duration_minutes,
            "format": format,
            "location": location,
            "attendees": attendees,
            "note": note,
        }
    )
    with transaction.atomic():
        lead = _lead_for_demo(actor, lead_id)
        demo = Demo.objects.create(
            lead=lead, created_at=now, created_by=actor, updated_at=now, **values
        )
        _event(demo, actor, "scheduled", now)
        _invite(demo, lead, actor, now)
    return demo


def update_demo(
    actor: User,
    demo_id: int,
    *,
    state: str | None = None,
    starts_at: datetime | None = None,
    duration_minutes: int | None = None,
    format: str | None = None,
    location: str | None = None,
    attendees: str | Iterable[str] | None = None,
    note: str | None = None,
    now: datetime | None = None,
) -> Demo:
    """Record how a scheduled demo went (``state``), or change its details (a new time is
    a reschedule: the attendees get the updated invitation). Either, not both at once."""
    now = now or timezone.now()
    given = {
        k: v
        for k, v in {
            "starts_at": starts_at,
            "duration_minutes": duration_minutes,
            "format": format,
            "location": location,
            "attendees": attendees,
            "note": note,
        }.items()
        if v is not None
    }
    if state is not None and state not in OUTCOMES:
        message = _("A demo is marked held, cancelled or missed by the client.")
        raise InvalidInput(message, errors={"state": message})
    if state is not None and given:
        message = _("Record the outcome or change the details, not both at once.")
        raise InvalidInput(message, errors={"state": message})
    values = _check(given)
    lead_id = Demo.objects.filter(pk=demo_id).values_list("lead_id", flat=True).first()
    if lead_id is None:
        raise LeadNotFound(_("This demo does not exist."))
    with transaction.atomic():
        lead = _lead_for_demo(actor, lead_id)
        demo = Demo.objects.select_for_update().get(pk=demo_id)
        if state is not None:
            return _outcome(demo, lead, actor, state, now)
        changed = {k: v for k, v in values.items() if getattr(demo, k) != v}
        if not changed:
            return demo
        # A missed demo is arranged again; held and cancelled ones are history.
        if demo.state not in (Demo.State.SCHEDULED, Demo.State.NO_SHOW):
            raise TransitionNotAllowed(
                _("This demo is “%(state)s”; schedule a new one.")
                % {"state": demo.get_state_display()}
            )
        for key, value in changed.items():
            setattr(demo, key, value)
        demo.state = Demo.State.SCHEDULED
        demo.sequence += 1
        demo.updated_at = now
        demo.save()
        _event(demo, actor, "rescheduled", now)
        _invite(demo, lead, actor, now)
    return demo


def _outcome(demo: Demo, lead: Lead, actor: User, state: str, now: datetime) -> Demo:
    if demo.state == state:
        return demo
    if demo.state != Demo.State.SCHEDULED:
        raise TransitionNotAllowed(
            _("This demo is already “%(state)s”.") % {"state": demo.get_state_display()}
        )
    demo.state = state
    demo.updated_at = now
    if state == Demo.State.CANCELLED:
        demo.sequence += 1  # the attendees' calendars drop it
    demo.save()
    _event(demo, actor, str(state), now)
    if state == Demo.State.CANCELLED:
        _invite(demo, lead, actor, now)
    return demo


# The invitation ------------------------------------------------------------------------


def _title(demo: Demo, lead: Lead) -> str:
    who = lead.company or lead.name or _("Lead #%(id)s") % {"id": lead.pk}
    return _("Demo: %(who)s") % {"who": who}


def _invite(demo: Demo, lead: Lead, actor: User, now: datetime) -> None:
    """E-mail each attendee the invitation (or its cancellation) with the .ics attached."""
    if not demo.attendees:
        return
    calendar = ics(demo, lead=lead, organizer=actor)
    cancelled = demo.state == Demo.State.CANCELLED
    with translation.override(settings.LANGUAGE_CODE):
        when = formats.date_format(timezone.localtime(demo.starts_at), "DATETIME_FORMAT")
        subject = (
            _("Cancelled: %(title)s, %(when)s")
            if cancelled
            else _("Invitation: %(title)s, %(when)s")
        ) % {"title": _title(demo, lead), "when": when}
        text = _(
            "%(title)s\nWhen: %(when)s (%(tz)s), %(minutes)s min\nWhere: %(where)s\n\n%(note)s\n\n"
            "The invitation is attached for your calendar.\n%(manager)s"
        ) % {
            "title": _title(demo, lead),
            "when": when,
            "tz": settings.TIME_ZONE,
            "minutes": demo.duration_minutes,
            "where": demo.location or demo.get_format_display(),
            "note": demo.note,
            "manager": actor.display_name,
        }
    method = "CANCEL" if cancelled else "REQUEST"
    for address in demo.attendees:
        enqueue(
            Outbox.Channel.EMAIL,
            dedup_key=f"demo:{demo.uid}:{demo.sequence}:{address}",
            event="demo_invitation",
            payload={
                "kind": "demo_invitation",
                "to": address,
                "lead": lead.pk,
                "data": {"demo": demo.pk},
                "subject": subject,
                "text": text,
                "attachments": [
                    {
                        "filename": "demo.ics",
                        "content_type": f"text/calendar; method={method}; charset=utf-8",
                        "content": calendar,
                    }
                ],
            },
            now=now,
            lead=lead,
        )


def _escape(text: str) -> str:
    """RFC 5545 TEXT value escaping."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        # A lone CR too: clients that split lines on it would read the rest as a property.
        .replace("\r", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (CRLF and a space), never inside a UTF-8
    character."""
    out: list[str] = []
    current = b""
    limit = 75
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
            limit = 74  # the continuation's leading space counts
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ics(demo: Demo, *, lead: Lead | None = None, organizer: User | None = None) -> str:
    """The demo as an RFC 5545 calendar: a request, or a cancellation once cancelled."""
    lead = lead or demo.lead
    organizer = organizer or demo.created_by
    cancelled = demo.state == Demo.State.CANCELLED
    ends = demo.starts_at + timedelta(minutes=demo.duration_minutes)
    with translation.override(settings.LANGUAGE_CODE):
        summary = _title(demo, lead)
        description = demo.note
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Leadrelay//Leadrelay//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:{demo.uid}@leadrelay",
        f"SEQUENCE:{demo.sequence}",
        f"DTSTAMP:{_utc(demo.updated_at)}",
        f"DTSTART:{_utc(demo.starts_at)}",
        f"DTEND:{_utc(ends)}",
        f"SUMMARY:{_escape(summary)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
    ]
    if demo.location:
        lines.append(f"LOCATION:{_escape(demo.location)}")
    if description:
        lines.append(f"DESCRIPTION:{_escape(description)}")
    if organizer.email:
        # A quoted parameter value: no escapes exist there, only DQUOTE is not allowed.
        name = " ".join(organizer.display_name.replace('"', "'").split())
        lines.append(f'ORGANIZER;CN="{name}":mailto:{organizer.email}')
    for address in demo.attendees:
        lines.append(
            f"ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{address}"
        )
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(_fold(line) + "\r\n" for line in lines)


def demo_pending(lead: Lead) -> bool:
    """Whether the lead's service requires a held demo before the proposal and none is
    held yet (what the lead page warns about)."""
    return demo_required(lead) and not demo_held(lead)
