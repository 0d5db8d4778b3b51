"""The 30-minute rule in a real browser: the countdown under a fake clock, the bell and the
notification centre, logging a contact that stops the clock, and the new pages on a
1366x768 laptop screen in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadrelay.accounts.models import Department, Team, User
from leadrelay.leads.models import Lead
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint
from leadrelay.sla.models import Breach, Clock, ClockKind
from tests.conftest import T0
from tests.factories import walk

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
DUE = T0 + timedelta(minutes=30)  # make_lead's first-contact deadline
WARN = T0 + timedelta(minutes=15)  # and the moment it turns amber


def _log_in(page: Any, base_url: str, username: str, language: str = "en") -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(f"pw-{username}-123!")
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/leads/$"))


def _context(browser: Any, language: str) -> Any:
    return browser.new_context(viewport=LAPTOP, locale="ru-RU" if language == "ru" else "en-US")


def _fits(page: Any) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling on the laptop screen."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_countdown_turns_amber_then_red_as_the_fake_clock_moves(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    lead = make_lead(name="Ирина Петрова", company="ООО «Ромашка»")
    make_lead(name="Без дедлайна", email="closed@example.ru")  # to be closed: no countdown
    walk(Lead.objects.get(email="closed@example.ru"), cast["sdr"], "disqualified", reason="x")
    lead.refresh_from_db()
    assert (lead.sla_due_at, lead.sla_warn_at) == (DUE, WARN)

    context = _context(browser, "en")
    page = context.new_page()
    page.set_default_timeout(10_000)
    # The page's clock is 5 minutes into the 30 before anything runs on it.
    page.clock.install(time=T0 + timedelta(minutes=5))
    _log_in(page, live_server.url, "sdr")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.clock.pause_at(T0 + timedelta(minutes=6))
    page.clock.run_for(1000)
    countdown = page.locator(".lead-head [data-sla-due]")
    expect(countdown).to_have_attribute("data-sla-state", "ok")
    expect(countdown).to_have_class(re.compile(r"\bsla-ok\b"))
    expect(countdown).to_have_text("23:59 left")
    page.screenshot(path=screenshot_dir / "sla_lead_ok_en.png")

    page.clock.fast_forward("09:00")  # 15:01 in: past the warning time
    expect(countdown).to_have_attribute("data-sla-state", "warn")
    expect(countdown).to_have_class(re.compile(r"\bsla-warn\b"))
    expect(countdown).not_to_have_class(re.compile(r"\bsla-ok\b"))
    expect(countdown).to_have_text("14:59 left")
    page.screenshot(path=screenshot_dir / "sla_lead_amber_en.png")

    page.clock.fast_forward("15:00")  # 30:01 in: the deadline has passed
    expect(countdown).to_have_attribute("data-sla-state", "late")
    expect(countdown).to_have_class(re.compile(r"\bsla-late\b"))
    expect(countdown).to_have_text("overdue by 0:00")
    page.clock.fast_forward("01:05:00")
    expect(countdown).to_have_text("overdue by 1:05")
    page.clock.fast_forward("24:00:00")
    expect(countdown).to_have_text("overdue by 1 d 1:05")
    page.screenshot(path=screenshot_dir / "sla_lead_red_en.png")
    context.close()

    # The list, in Russian: the same column, driven by the same clock.
    context = _context(browser, "ru")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.clock.install(time=T0 + timedelta(minutes=1))
    _log_in(page, live_server.url, "sdr", "ru")
    expect(page.get_by_role("heading", name="Заявки")).to_be_visible()
    page.clock.pause_at(T0 + timedelta(minutes=2))
    page.clock.run_for(1000)
    cells = page.locator("table.leads tbody td.sla-cell")
    expect(cells).to_have_count(2)
    live = cells.locator("[data-sla-due]")
    expect(live).to_have_count(1)  # the closed lead shows a dash
    expect(cells.filter(has_text="—")).to_have_count(1)
    expect(live).to_have_class(re.compile(r"\bsla-ok\b"))
    expect(live).to_contain_text("27:59")
    page.screenshot(path=screenshot_dir / "sla_list_ok_ru.png")
    page.clock.set_fixed_time(WARN)
    page.clock.run_for(1000)
    expect(live).to_have_class(re.compile(r"\bsla-warn\b"))
    page.clock.set_fixed_time(DUE + timedelta(minutes=3))
    page.clock.run_for(1000)
    expect(live).to_have_class(re.compile(r"\bsla-late\b"))
    expect(live).to_contain_text("0:03")
    page.screenshot(path=screenshot_dir / "sla_list_red_ru.png")
    assert _fits(page)
    context.close()


def test_the_bell_counts_a_breach_and_leads_to_the_centre(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    lead = make_lead(name="Ирина Петрова")
    Notification.objects.create(
        user=cast["sdr"],
        lead=lead,
        kind=Notification.Kind.SLA_BREACH,
        data={"clock": "first_contact", "due_local": "2026-03-02 12:30", "step": 1.0},
        created_at=DUE,
        dedup_key="browser:breach",
    )
    Notification.objects.create(
        user=cast["sdr2"],
        lead=lead,
        kind=Notification.Kind.SLA_ESCALATION,
        created_at=DUE,
        dedup_key="browser:not-mine",
    )
    context = _context(browser, "en")
    page = context.new_page()
    page.set_default_timeout(10_000)
    _log_in(page, live_server.url, "sdr")
    badge = page.locator(".bell .bell-badge")
    expect(badge).to_have_text("1")
    page.screenshot(path=screenshot_dir / "bell_en.png")

    page.locator("a.bell").click()
    expect(page).to_have_url(re.compile(r"/notifications/$"))
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    items = page.locator("ol.notes > li")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text(f"Lead #{lead.pk}: deadline missed")
    expect(items.first).to_contain_text("First contact was due at 2026-03-02 12:30.")
    page.screenshot(path=screenshot_dir / "notifications_en.png")
    assert _fits(page)

    # Read in place: the item loses its button and the bell its badge, without a reload.
    items.first.get_by_role("button", name="Mark as read").click()
    expect(items.first.get_by_role("button", name="Mark as read")).to_have_count(0)
    expect(badge).to_have_count(0)
    assert Notification.objects.get(dedup_key="browser:breach").read_at is not None
    assert Notification.objects.get(dedup_key="browser:not-mine").read_at is None

    # The subject links to the lead.
    items.first.get_by_role("link", name=f"Lead #{lead.pk}: deadline missed").click()
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    context.close()


def test_logging_a_contact_stops_the_countdown(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    lead = make_lead(name="Ирина Петрова", company="ООО «Ромашка»", phone="+79161234567")
    context = _context(browser, "en")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.clock.install(time=T0 + timedelta(minutes=12))
    _log_in(page, live_server.url, "sdr")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator(".lead-head [data-sla-due]")).to_have_count(1)
    card = page.locator("#lead-touch")
    expect(card.get_by_role("heading", name="Log a contact")).to_be_visible()
    page.screenshot(path=screenshot_dir / "touch_form_en.png")

    # A call without its outcome is refused, and nothing changes.
    card.get_by_label("Call", exact=True).check()
    card.get_by_role("button", name="Log contact").click()
    expect(page.locator("#lead-main .alert-error")).to_contain_text(
        "Call outcome: Choose the outcome of the call."
    )
    expect(page.locator(".lead-head [data-sla-due]")).to_have_count(1)
    lead.refresh_from_db()
    assert lead.first_touch_at is None and lead.sla_due_at == DUE
    page.screenshot(path=screenshot_dir / "touch_error_en.png")

    card = page.locator("#lead-touch")
    card.get_by_label("Call outcome (for calls)").select_option("reached")
    card.get_by_label("Note").fill("Договорились о встрече в четверг")
    card.get_by_role("button", name="Log contact").click()
    expect(page.locator("#lead-main .alert-success")).to_contain_text("Contact logged: Call.")
    expect(page.locator("[data-sla-due]")).to_have_count(0)
    expect(page.locator("ol.timeline > li").last).to_contain_text("Contact: Call — Talked")
    page.screenshot(path=screenshot_dir / "touch_done_en.png", full_page=True)
    lead.refresh_from_db()
    assert lead.sla_due_at is None and lead.sla_warn_at is None
    assert lead.first_touch_at is not None and lead.sdr_id == cast["sdr"].pk
    clock = Clock.objects.get(lead=lead, kind=ClockKind.FIRST_CONTACT)
    assert clock.outcome != Clock.Outcome.RUNNING
    context.close()


def _report_data(cast: dict[str, User], make_lead: Callable[..., Lead]) -> None:
    """A month of first-contact clocks for the report, and webhooks with deliveries."""
    marketing = Department.objects.get(name="Marketing")
    inbound = Team.objects.create(name="Входящие", department=marketing)
    names = {"sdr": ("Анна", "Соколова"), "sdr2": ("Дмитрий", "Орлов")}
    for username, (first, last) in names.items():
        User.objects.filter(username=username).update(
            first_name=first, last_name=last, team=inbound if username == "sdr" else None
        )
    now = datetime.now(UTC)
    outcomes: list[str] = ["met", "met", "met", "breached", "met", "cancelled", "met", "breached"]
    # Three still running: one fresh, one amber, one overdue by days.
    for minutes, warn in ((25, 10), (8, -7), (-3000, -3015)):
        fresh = make_lead(name=f"Новая {minutes}", email=f"n{minutes}@example.ru")
        Lead.objects.filter(pk=fresh.pk).update(
            sla_due_at=now + timedelta(minutes=minutes),
            sla_warn_at=now + timedelta(minutes=warn),
        )
    for i, outcome in enumerate(outcomes * 3):
        lead = make_lead(name=f"Клиент {i}", email=f"c{i}@example.ru")
        clock = Clock.objects.get(lead=lead)
        started = now - timedelta(days=1 + i, hours=3)
        owner = cast["sdr"] if i % 3 else cast["sdr2"]
        seconds = 300 + 170 * i if outcome == "met" else 2400 + 900 * i
        Clock.objects.filter(pk=clock.pk).update(
            started_at=started,
            due_at=started + timedelta(minutes=30),
            outcome=outcome,
            stopped_at=started + timedelta(seconds=seconds),
            owner=owner,
            working_seconds=seconds,
            calendar_seconds=seconds * (3 if i % 4 == 0 else 1),
            next_check_at=None,
        )
        if outcome != "running":
            Lead.objects.filter(pk=lead.pk).update(sla_due_at=None, sla_warn_at=None)
        if outcome == "breached":
            Breach.objects.create(
                clock=clock,
                lead=lead,
                kind=ClockKind.FIRST_CONTACT,
                due_at=started + timedelta(minutes=30),
                detected_at=started + timedelta(minutes=30, seconds=20),
                cause=Breach.Cause.NOT_CONTACTED,
                responsible=owner,
                off_hours=i % 2 == 0,
            )
    endpoint = WebhookEndpoint.objects.create(
        url="https://crm.romashka-group.example/hooks/leadrelay/incoming",
        description="CRM группы компаний",
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        events=["lead.created", "lead.sla_breached"],
    )
    WebhookEndpoint.objects.create(
        url="https://old-partner.example/webhook",
        secret="whsec_b2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xkb2xk",
        active=False,
        disabled_reason="HTTP 410 Gone at 2026-03-02 10:00 UTC",
    )
    for n, status in enumerate(["delivered", "delivered", "dead", "pending", "delivered"]):
        Outbox.objects.create(
            channel=Outbox.Channel.WEBHOOK,
            endpoint=endpoint,
            event="lead.created" if n % 2 else "webhook.test",
            dedup_key=f"shot:{n}",
            status=status,
            attempts=8 if status == "dead" else 1,
            created_at=now - timedelta(minutes=50 - n),
            next_attempt_at=now + timedelta(minutes=5) if status == "pending" else None,
            delivered_at=now - timedelta(minutes=49 - n) if status == "delivered" else None,
            last_status={"delivered": 204, "dead": 503}.get(status),
            last_error="HTTP 503 Service Unavailable: upstream timed out"
            if status == "dead"
            else "",
        )
    for n in range(3):
        Notification.objects.create(
            user=cast["admin"],
            lead=Lead.objects.order_by("pk")[n],
            kind=Notification.Kind.SLA_BREACH if n else Notification.Kind.SLA_WARNING,
            data={"clock": "first_contact", "due_local": "2026-03-02 12:30"},
            created_at=now - timedelta(minutes=3 - n),
            dedup_key=f"shot:{n}",
        )


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_new_pages_fit_a_laptop_screen(
    language: str,
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    _report_data(cast, make_lead)
    User.objects.filter(pk=cast["admin"].pk).update(is_staff=True)
    endpoint = WebhookEndpoint.objects.get(active=True)
    context = _context(browser, language)
    page = context.new_page()
    page.set_default_timeout(10_000)
    _log_in(page, live_server.url, "admin", language)
    nav = page.locator("nav.mainnav")
    expect(nav.locator('a[href="/sla/report/"]')).to_be_visible()
    nav.locator("details.navmore > summary").click()  # setting up lives under "More"
    expect(nav.locator('a[href="/webhooks/"]')).to_be_visible()
    expect(page.locator(".bell .bell-badge")).to_have_text("3")
    # The header stays one line: the bell and the user fit beside the navigation.
    header = page.locator("header.topbar").bounding_box()
    assert header is not None and header["height"] <= 60
    for name, path in [
        ("leads", "/leads/"),
        ("sla_report", "/sla/report/"),
        ("webhooks", "/webhooks/"),
        ("webhook", f"/webhooks/{endpoint.pk}/"),
        ("notifications", "/notifications/"),
        ("lead", f"/leads/{Lead.objects.get(name='Новая 8').pk}/"),
    ]:
        page.goto(live_server.url + path)
        expect(page.locator("main h1").first).to_be_visible()
        page.screenshot(path=screenshot_dir / f"page_{name}_{language}.png")
        assert _fits(page), f"{path} scrolls sideways in {language}"
    page.goto(live_server.url + "/sla/report/")
    expect(page.locator(".kpi-main .kpi-value")).to_have_text(re.compile(r"\d+[.,]\d %"))
    expect(page.locator("table.ledger tbody tr")).to_have_count(6)
    page.screenshot(path=screenshot_dir / f"page_sla_report_full_{language}.png", full_page=True)
    context.close()
