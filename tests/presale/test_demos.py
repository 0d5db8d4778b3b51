"""Demos: scheduled with an invitation to each attendee, rescheduled (a new SEQUENCE),
held, cancelled or missed; a service's policy makes a held demo a gate of ``proposal``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.errors import InvalidInput, LeadNotFound, MissingField, TransitionNotAllowed
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.transitions import move_lead
from leadrelay.notify.models import Outbox
from leadrelay.presale import demos
from leadrelay.presale.models import Demo, DemoPolicy
from tests.factories import walk
from tests.presale.conftest import SEO_ANSWERS

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 3, 11, 30, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def schedule(actor: User, lead: Lead, **more: object) -> Demo:
    args: dict[str, object] = {
        "starts_at": AT,
        "duration_minutes": 45,
        "format": "online",
        "location": "https://meet.example.com/abc",
        "attendees": "Irina@Example.ru, cto@example.ru",
        "note": "Show the SEO cases",
        "now": NOW,
    }
    args.update(more)
    return demos.schedule_demo(actor, lead.pk, **args)  # type: ignore[arg-type]


def test_scheduling_records_the_demo_and_invites_each_attendee(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    demo = schedule(cast["sales"], lead)

    assert (demo.state, demo.sequence, demo.attendees) == (
        "scheduled",
        0,
        ["irina@example.ru", "cto@example.ru"],
    )
    event = LeadEvent.objects.get(lead=lead, kind="demo")
    assert (event.actor, event.at) == (cast["sales"], NOW)
    assert event.data == {"demo": demo.pk, "action": "scheduled", "starts_at": AT.isoformat()}
    mails = Outbox.objects.filter(event="demo_invitation").order_by("id")
    assert [m.payload["to"] for m in mails] == ["irina@example.ru", "cto@example.ru"]
    attachment = mails[0].payload["attachments"][0]
    assert attachment["filename"] == "demo.ics"
    assert attachment["content_type"].startswith("text/calendar; method=REQUEST")
    assert f"UID:{demo.uid}@leadrelay" in attachment["content"]


def test_bad_details_change_nothing(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        schedule(
            cast["sales"],
            lead,
            attendees="ok@example.ru, nope, also@bad",
            duration_minutes=5,
            format="zoom",
            starts_at=datetime(2026, 12, 3, 11, 30),
        )
    errors = caught.value.details["errors"]
    assert errors["attendees"] == "Not valid e-mail addresses: nope, also@bad."
    assert set(errors) == {"attendees", "duration_minutes", "format", "starts_at"}
    assert not Demo.objects.exists()
    assert not LeadEvent.objects.filter(kind="demo").exists()
    assert not Outbox.objects.filter(event="demo_invitation").exists()


def test_rescheduling_raises_the_sequence_and_sends_the_update(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    demo = schedule(cast["sales"], lead)
    later = AT + timedelta(days=1)
    demo = demos.update_demo(cast["sales"], demo.pk, starts_at=later, now=NOW)
    assert (demo.starts_at, demo.sequence, demo.state) == (later, 1, "scheduled")
    event = LeadEvent.objects.filter(lead=lead, kind="demo").latest("id")
    assert event.data == {"demo": demo.pk, "action": "rescheduled", "starts_at": later.isoformat()}
    assert Outbox.objects.filter(event="demo_invitation").count() == 4
    # The same details again change nothing and send nothing.
    demos.update_demo(cast["sales"], demo.pk, starts_at=later, now=NOW)
    assert Demo.objects.get(pk=demo.pk).sequence == 1
    assert Outbox.objects.filter(event="demo_invitation").count() == 4


@pytest.mark.parametrize("state", ["held", "cancelled", "no_show"])
def test_an_outcome_is_recorded_once(
    cast: dict[str, User], discussion_lead: Callable[..., Lead], state: str
) -> None:
    lead = discussion_lead()
    demo = schedule(cast["sales"], lead)
    demo = demos.update_demo(cast["sales"], demo.pk, state=state, now=NOW)
    assert demo.state == state
    assert demo.sequence == (1 if state == "cancelled" else 0)
    event = LeadEvent.objects.filter(lead=lead, kind="demo").latest("id")
    assert event.data["action"] == state
    other = "held" if state != "held" else "no_show"
    with pytest.raises(TransitionNotAllowed):
        demos.update_demo(cast["sales"], demo.pk, state=other, now=NOW)
    methods = [
        m.payload["attachments"][0]["content_type"]
        for m in Outbox.objects.filter(event="demo_invitation").order_by("id")
    ]
    assert any("method=CANCEL" in m for m in methods) == (state == "cancelled")


def test_a_missed_demo_can_be_arranged_again(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    demo = schedule(cast["sales"], discussion_lead())
    demos.update_demo(cast["sales"], demo.pk, state="no_show", now=NOW)
    again = demos.update_demo(cast["sales"], demo.pk, starts_at=AT + timedelta(days=7), now=NOW)
    assert (again.state, again.sequence) == ("scheduled", 1)


def test_outcome_and_details_are_not_changed_together(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    demo = schedule(cast["sales"], discussion_lead())
    with pytest.raises(InvalidInput):
        demos.update_demo(cast["sales"], demo.pk, state="held", starts_at=AT)
    with pytest.raises(InvalidInput):
        demos.update_demo(cast["sales"], demo.pk, state="scheduled")
    assert Demo.objects.get(pk=demo.pk).state == "scheduled"


def test_only_who_works_the_lead_arranges_its_demos(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    with pytest.raises(LeadNotFound):
        schedule(cast["sales2"], lead)
    demo = schedule(cast["head_sales"], lead)
    with pytest.raises(LeadNotFound):
        demos.update_demo(cast["sales2"], demo.pk, state="held")
    assert Demo.objects.get(pk=demo.pk).state == "scheduled"


def test_the_policy_makes_a_held_demo_a_gate_of_the_proposal(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    from leadrelay.presale import briefs

    DemoPolicy.objects.create(service=Service.objects.get(code="seo"), demo_required=True)
    lead = discussion_lead()
    briefs.fill_from_call(cast["sales"], lead.pk, SEO_ANSWERS)
    lead.refresh_from_db()
    assert demos.demo_pending(lead)
    with pytest.raises(MissingField) as caught:
        move_lead(cast["sales"], lead.pk, "proposal", version=lead.version)
    assert [m["field"] for m in caught.value.details["missing"]] == ["demo"]
    demo = schedule(cast["sales"], lead)
    demos.update_demo(cast["sales"], demo.pk, state="held", now=NOW)
    assert not demos.demo_pending(lead)
    moved = move_lead(cast["sales"], lead.pk, "proposal", version=lead.version)
    assert moved.status == "proposal"


def test_without_a_policy_the_proposal_needs_no_demo(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = walk(discussion_lead(), cast["sales"], "brief_filled")
    assert not demos.demo_pending(lead)
    assert move_lead(cast["sales"], lead.pk, "proposal", version=lead.version).status == "proposal"
