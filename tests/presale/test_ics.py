"""The .ics invitation read back as a calendar client reads it (RFC 5545)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.presale import demos

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 3, 11, 30, tzinfo=UTC)


def unfold(text: str) -> dict[str, list[str]]:
    """Content lines by name (parameters kept), after unfolding."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")  # every line ends CRLF
    for line in text.split("\r\n"):
        assert len(line.encode()) <= 75
    lines: dict[str, list[str]] = {}
    for line in text.replace("\r\n ", "").split("\r\n")[:-1]:
        name = line.partition(":")[0]
        lines.setdefault(name.split(";")[0], []).append(line)
    return lines


def value(lines: dict[str, list[str]], name: str) -> str:
    return lines[name][0].split(":", 1)[1]


def test_the_invitation_parses_back(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead(company="ООО «Ромашка», цветы; доставка по всей России и СНГ")
    demo = demos.schedule_demo(
        cast["sales"],
        lead.pk,
        starts_at=datetime(2026, 12, 3, 14, 30, tzinfo=ZoneInfo("Europe/Moscow")),
        duration_minutes=90,
        format="office",
        location="Москва, ул. Тверская, 1",
        attendees=["irina@example.ru"],
        note="Кейсы;\nцены",
    )
    text = demos.ics(demo)
    lines = unfold(text)
    assert value(lines, "METHOD") == "REQUEST"
    assert value(lines, "UID") == f"{demo.uid}@leadrelay"
    assert value(lines, "SEQUENCE") == "0"
    # 14:30 in Moscow is 11:30 UTC.
    assert value(lines, "DTSTART") == "20261203T113000Z"
    assert value(lines, "DTEND") == "20261203T130000Z"
    assert value(lines, "LOCATION") == "Москва\\, ул. Тверская\\, 1"
    assert value(lines, "DESCRIPTION") == "Кейсы\\;\\nцены"
    assert "ООО «Ромашка»\\, цветы\\; доставка" in value(lines, "SUMMARY")
    assert lines["ORGANIZER"][0].endswith(":mailto:sales@agency.test")
    assert lines["ATTENDEE"][0].endswith(":mailto:irina@example.ru")
    assert "RSVP=TRUE" in lines["ATTENDEE"][0]
    assert [v.split(":")[1] for v in lines["BEGIN"]] == ["VCALENDAR", "VEVENT"]


def test_a_reschedule_and_a_cancellation_are_new_revisions(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    demo = demos.schedule_demo(
        cast["sales"],
        discussion_lead().pk,
        starts_at=AT,
        duration_minutes=60,
        format="online",
        location="",
        attendees="",
    )
    demo = demos.update_demo(cast["sales"], demo.pk, starts_at=AT.replace(hour=15))
    lines = unfold(demos.ics(demo))
    assert (value(lines, "SEQUENCE"), value(lines, "DTSTART")) == ("1", "20261203T153000Z")
    demo = demos.update_demo(cast["sales"], demo.pk, state="cancelled")
    lines = unfold(demos.ics(demo))
    assert (value(lines, "METHOD"), value(lines, "STATUS"), value(lines, "SEQUENCE")) == (
        "CANCEL",
        "CANCELLED",
        "2",
    )
    assert "ATTENDEE" not in lines


def test_a_bare_carriage_return_cannot_start_a_property(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    """A lone CR in a typed value (a pasted address, a note) is escaped like a line
    break: calendar clients that split lines on CR would read the rest as a property."""
    demo = demos.schedule_demo(
        cast["sales"],
        discussion_lead(company="Ромашка\rATTENDEE:mailto:x@evil.test").pk,
        starts_at=AT,
        duration_minutes=60,
        format="office",
        location="Тверская, 1\rATTENDEE:mailto:x@evil.test",
        attendees="",
        note="Кейсы\rORGANIZER:mailto:x@evil.test",
    )
    text = demos.ics(demo)
    assert "\r" not in text.replace("\r\n", "")
    lines = unfold(text)
    assert value(lines, "LOCATION") == "Тверская\\, 1\\nATTENDEE:mailto:x@evil.test"
    assert value(lines, "DESCRIPTION") == "Кейсы\\nORGANIZER:mailto:x@evil.test"
    assert "ATTENDEE" not in lines
    assert lines["ORGANIZER"] == ['ORGANIZER;CN="sales":mailto:sales@agency.test']
