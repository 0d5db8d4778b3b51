"""What a notification says, in the reader's language, from the facts stored with it."""

from __future__ import annotations

import time
from typing import Any

from django.utils.translation import gettext as _


def clock_label(kind: str) -> str:
    from leadrelay.sla.models import ClockKind

    try:
        return str(ClockKind(kind).label)
    except ValueError:
        return kind


def notification_text(kind: str, data: dict[str, Any], lead_id: int | None) -> tuple[str, str]:
    """A subject line and a sentence for one notification."""
    lead = _("Lead #%(id)s") % {"id": lead_id} if lead_id else ""
    clock = clock_label(str(data.get("clock", "")))
    due = str(data.get("due_local", ""))
    if kind == "sla_warning":
        return (
            _("%(lead)s: deadline approaching") % {"lead": lead},
            _("%(clock)s is due at %(due)s.") % {"clock": clock, "due": due},
        )
    if kind == "sla_breach":
        return (
            _("%(lead)s: deadline missed") % {"lead": lead},
            _("%(clock)s was due at %(due)s.") % {"clock": clock, "due": due},
        )
    if kind == "sla_escalation":
        return (
            _("%(lead)s: escalated to you") % {"lead": lead},
            _("%(clock)s was due at %(due)s and nobody has acted yet.")
            % {"clock": clock, "due": due},
        )
    if kind == "webhook_dead":
        return (
            _("A webhook could not be delivered"),
            _("Gave up sending to %(url)s: %(error)s")
            % {"url": data.get("url", ""), "error": data.get("error", "")},
        )
    if kind == "webhook_disabled":
        return (
            _("A webhook endpoint was disabled"),
            _("%(url)s was disabled: %(reason)s")
            % {"url": data.get("url", ""), "reason": data.get("reason", "")},
        )
    if kind == "lead_assigned_sdr":
        return (
            _("%(lead)s: a new request for you") % {"lead": lead},
            _("The request was assigned to you; the first-contact clock is running."),
        )
    if kind == "lead_returned":
        return (
            _("%(lead)s: returned by sales") % {"lead": lead},
            _("Reason: %(code)s. %(reason)s Accept the return or dispute it.")
            % {
                "code": reason_label("return", data.get("reason_code", "")),
                "reason": data.get("reason", ""),
            },
        )
    if kind == "return_disputed":
        return (
            _("%(lead)s: a return is disputed") % {"lead": lead},
            _("The SDR disputes the return (%(code)s): %(note)s. Decide it.")
            % {
                "code": reason_label("return", data.get("reason_code", "")),
                "note": data.get("note", ""),
            },
        )
    if kind == "return_judged":
        state = str(data.get("state", ""))
        verdict = (
            _("the MQL goes back to sales") if state == "overturned" else _("the return stands")
        )
        return (
            _("%(lead)s: the dispute is decided") % {"lead": lead},
            _("Decision: %(verdict)s. %(note)s")
            % {"verdict": verdict, "note": data.get("note", "")},
        )
    if kind == "lead_referred":
        return (
            _("%(lead)s: referred to %(partner)s")
            % {"lead": lead, "partner": data.get("partner", "")},
            _("Company: %(company)s. Reason: %(reason)s")
            % {"company": data.get("company", "") or "—", "reason": data.get("reason", "") or "—"},
        )
    if kind == "lead_routed":
        return (
            _("%(lead)s: a request routed to you") % {"lead": lead},
            _("Company: %(company)s. Reason: %(reason)s")
            % {"company": data.get("company", "") or "—", "reason": data.get("reason", "") or "—"},
        )
    if kind == "lead_assigned_manager":
        return (
            _("%(lead)s: a new MQL for you") % {"lead": lead},
            _("Company: %(company)s. Read the SDR's summary, then accept it or return it.")
            % {"company": data.get("company", "") or "—"},
        )
    if kind == "brief_filled":
        return (
            _("%(lead)s: the client filled in the brief") % {"lead": lead},
            _("Company: %(company)s. The lead is now SAL; prepare the proposal.")
            % {"company": data.get("company", "") or "—"},
        )
    return (kind, "")


_REASONS: dict[str, tuple[float, dict[str, Any]]] = {}


def reason_label(kind: str, code: str) -> str:
    """A reason code's name; the list is read at most once a minute per process, so a
    page of notifications costs one query, not one per line."""
    from leadrelay.qualify.models import ReasonCode

    read_at, codes = _REASONS.get(kind, (0.0, {}))
    if time.monotonic() - read_at > 60:
        codes = {r.code: r for r in ReasonCode.objects.filter(kind=kind)}
        _REASONS[kind] = (time.monotonic(), codes)
    found = codes.get(code)
    return str(found) if found is not None else code
