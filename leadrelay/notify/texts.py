"""What a notification says, in the reader's language, from the facts stored with it."""

from __future__ import annotations

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
    return (kind, "")
