"""Small display helpers for the web templates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext

register = template.Library()


@register.filter
def when(value: datetime | None) -> str:
    """A timestamp in the site's time zone, in the format the language is used to."""
    if value is None:
        return ""
    # Translators: a PHP-style date format (see Django's "date" filter), day before month.
    fmt = pgettext("datetime format", "Y-m-d H:i")
    return format_date(timezone.localtime(value), fmt)


@register.filter
def web_href(value: str) -> str:
    """A link target for a website the lead typed in, or "" when it is not http(s)."""
    value = (value or "").strip()
    if value.lower().startswith(("http://", "https://")):
        return value
    if value and "." in value and " " not in value and ":" not in value:
        return "https://" + value
    return ""


@register.filter
def touch_label(data: dict[str, Any] | None) -> str:
    """A logged contact as the history shows it: "Call — Talked", "Meeting"."""
    from leadrelay.leads.models import CallOutcome, TouchChannel

    data = data or {}
    channel = str(data.get("channel", ""))
    label = str(TouchChannel(channel).label) if channel in TouchChannel.values else channel
    outcome = str(data.get("outcome", ""))
    if outcome:
        outcome_label = (
            str(CallOutcome(outcome).label) if outcome in CallOutcome.values else outcome
        )
        return f"{label} — {outcome_label}"
    return label


# The SLA countdown -----------------------------------------------------------------------
#
# The server renders the countdown as it is at render time and static/web/countdown.js
# keeps it current (every second, from Date.now()); both use the same rules and formats,
# so the page is right without JavaScript and does not jump when the script starts.


def js_instant(value: datetime) -> str:
    """An instant as JavaScript's Date.parse reads it everywhere: UTC, milliseconds."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def left_format() -> str:
    # Translators: an SLA countdown, e.g. "12:34 left"; %(time)s is m:ss, h:mm:ss or "2 d 3:04".
    return gettext("%(time)s left")


def overdue_format() -> str:
    # Translators: an SLA countdown past its deadline, e.g. "overdue by 1:05" (h:mm).
    return gettext("overdue by %(time)s")


def days_format() -> str:
    # Translators: whole days in an SLA countdown, before h:mm, e.g. "2 d 3:04 left".
    return pgettext("sla countdown", "%(days)s d")


DAY = 86_400


def _days(seconds: int) -> tuple[str, int]:
    """A days prefix ("2 d ") for a day or more, and the seconds left over."""
    if seconds < DAY:
        return "", seconds
    days, rest = divmod(seconds, DAY)
    return days_format() % {"days": days} + " ", rest


def clock_left(seconds: int) -> str:
    """Time left: ``mm:ss`` under an hour, ``h:mm:ss`` under a day, else ``N d h:mm``."""
    days, rest = _days(max(seconds, 0))
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}{hours}:{minutes:02d}"
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def clock_overdue(seconds: int) -> str:
    """Time past the deadline: ``h:mm``, with whole days in front from a day on."""
    days, rest = _days(max(seconds, 0))
    hours, rest = divmod(rest, 3600)
    return f"{days}{hours}:{rest // 60:02d}"


@dataclass(frozen=True, slots=True)
class Countdown:
    """A running deadline as shown: the instants for the script, a state and a text."""

    due: str
    warn: str
    state: str  # "ok" before the warning time, "warn" from it, "late" from the deadline
    text: str

    @property
    def css(self) -> str:
        return f"sla sla-{self.state}"


def countdown(due: datetime | None, warn: datetime | None, now: datetime) -> Countdown | None:
    """The countdown to ``due`` at ``now``; None when no deadline is running."""
    if due is None:
        return None
    warn = warn or due
    if now >= due:
        late = int((now - due).total_seconds())
        return Countdown(
            js_instant(due),
            js_instant(warn),
            "late",
            overdue_format() % {"time": clock_overdue(late)},
        )
    left = int((due - now).total_seconds())
    state = "warn" if now >= warn else "ok"
    return Countdown(
        js_instant(due), js_instant(warn), state, left_format() % {"time": clock_left(left)}
    )


@register.simple_tag
def sla_formats() -> str:
    """The countdown's texts for the script, as attributes of <body>, in the page's language."""
    return format_html(
        'data-sla-left="{}" data-sla-overdue="{}" data-sla-days="{}"',
        left_format(),
        overdue_format(),
        days_format(),
    )


@register.inclusion_tag("web/_countdown.html")
def sla_countdown(value: Countdown | None) -> dict[str, Any]:
    return {"countdown": value}


@register.filter
def duration(seconds: float | None) -> str:
    """A span of seconds as ``h:mm:ss`` (hours may exceed 24); "—" for none."""
    if seconds is None:
        return "—"
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@register.filter
def percent(value: float | None) -> str:
    """A share (0..1) as a whole-ish percentage; "—" when there is nothing to share."""
    if value is None:
        return "—"
    return f"{number_format(value * 100, 1)} %"
