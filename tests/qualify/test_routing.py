"""Every request ends somewhere: referrals, routings and the report of those that don't."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.core import mail

from leadrelay.accounts.models import Department, User
from leadrelay.catalog.models import Partner
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import MoveOptions, move_lead
from leadrelay.notify.models import Notification, Outbox
from leadrelay.notify.outbox import deliver_due
from leadrelay.qualify.models import DepartmentContact, Referral, Routing
from leadrelay.qualify.routing import unended, working_cutoff
from leadrelay.sla.calendar import BusinessCalendar
from tests.conftest import T0
from tests.factories import walk

MakeLead = Callable[..., Lead]


def test_a_referral_is_recorded_and_the_partner_hears_of_it(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    partner = Partner.objects.create(
        name="Logo Studio", contact_email="deals@logo.example", commission_percent=Decimal("12.5")
    )
    lead = walk(make_lead(company="ООО Ромашка"), cast["sdr"], "sdr_processing")
    move_lead(
        cast["sdr"],
        lead.pk,
        "referred",
        version=lead.version,
        reason="Needs only a logo",
        options=MoveOptions(partner=partner),
        now=T0,
    )
    referral = Referral.objects.get(lead=lead)
    assert (referral.partner, referral.reason, referral.commission_percent) == (
        partner,
        "Needs only a logo",
        Decimal("12.5"),
    )
    assert referral.referred_by == cast["sdr"]
    # The commission agreed then stays, whatever the partner's percent becomes.
    Partner.objects.filter(pk=partner.pk).update(commission_percent=Decimal("20"))
    assert Referral.objects.get(pk=referral.pk).commission_percent == Decimal("12.5")
    assert Notification.objects.filter(user=cast["partner"], kind="lead_referred").exists()
    row = Outbox.objects.get(channel="email", user=None)
    assert row.payload["to"] == "deals@logo.example"
    deliver_due(now=T0 + timedelta(seconds=1))
    sent = [m for m in mail.outbox if m.to == ["deals@logo.example"]]
    assert len(sent) == 1
    assert "Logo Studio" in sent[0].subject or "Logo Studio" in sent[0].body


def test_a_routed_request_reaches_every_contact_of_the_group_company(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    sister = Department.objects.create(name="Brand agency", kind=Department.Kind.GROUP_COMPANY)
    for i in range(2):
        DepartmentContact.objects.create(department=sister, name=f"C{i}", email=f"c{i}@b.example")
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    move_lead(
        cast["sdr"],
        lead.pk,
        "routed",
        version=lead.version,
        reason="Branding project",
        options=MoveOptions(department=sister),
        now=T0,
    )
    routing = Routing.objects.get(lead=lead)
    assert (routing.department, routing.reason) == (sister, "Branding project")
    addresses = sorted(
        Outbox.objects.filter(event="lead_routed").values_list("payload__to", flat=True)
    )
    assert addresses == ["c0@b.example", "c1@b.example"]


def test_the_cutoff_counts_working_hours_only() -> None:
    cal = BusinessCalendar(timezone="Europe/Moscow", country=None)
    # Monday 11:00 Moscow; 8 working hours back is Friday 12:00 (9-18 days).
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    cutoff = working_cutoff(cal, now, 8)
    assert abs(cutoff - datetime(2026, 2, 27, 9, 0, tzinfo=UTC)) <= timedelta(seconds=30)
    assert cal.elapsed(cutoff, now) >= timedelta(hours=8)


def test_the_report_lists_sdr_side_requests_older_than_n_working_hours(
    cast: dict[str, User], make_lead: MakeLead
) -> None:
    cal = BusinessCalendar(timezone="Europe/Moscow", country=None)
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # Monday 11:00
    old = make_lead(received_at=datetime(2026, 2, 26, 9, 0, tzinfo=UTC))  # Thursday
    fresh = make_lead(received_at=datetime(2026, 2, 27, 14, 0, tzinfo=UTC))  # Friday 17:00
    handed = walk(
        make_lead(received_at=datetime(2026, 2, 20, 9, 0, tzinfo=UTC)),
        cast["sdr"],
        "sdr_processing",
        "awaiting_assignment",
    )
    report = unended(cal, now, hours=8)
    ids = list(report.leads.values_list("id", flat=True))
    assert ids == [old.pk]
    assert fresh.pk not in ids and handed.pk not in ids
    assert [lead.pk for lead in unended(cal, now, hours=1).leads] == [old.pk, fresh.pk]


def test_a_calendar_without_working_time_ends_the_search() -> None:
    cal = BusinessCalendar(timezone="Europe/Moscow", country=None, week={})
    now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    assert working_cutoff(cal, now, 8) < now - timedelta(days=365)
