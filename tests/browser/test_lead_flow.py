"""The everyday flow in a real browser: log in, switch language, open a lead, move it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.models import Lead
from tests.conftest import T0
from tests.factories import qualify, walk

pytestmark = pytest.mark.browser

PEOPLE = {
    "sdr": ("Анна", "Соколова"),
    "sdr2": ("Дмитрий", "Орлов"),
    "sales": ("Мария", "Кузнецова"),
    "sales2": ("Игорь", "Васильев"),
}


def _demo_leads(cast: dict[str, User], make_lead: Callable[..., Lead]) -> Lead:
    """A dozen leads along the path, so the screenshots look like a working day."""
    for username, (first, last) in PEOPLE.items():
        User.objects.filter(pk=cast[username].pk).update(first_name=first, last_name=last)
        cast[username].refresh_from_db()
    services = {s.code: s for s in Service.objects.all()}
    tilda = Source.objects.create(kind=Source.Kind.TILDA, name="Сайт: форма заявки")
    ads = Source.objects.create(kind=Source.Kind.YANDEX_FORMS, name="Яндекс Директ")
    rows: list[tuple[str, str, str, Source, str, tuple[str, ...]]] = [
        ("Ольга Белова", "ООО «Северный ветер»", "seo", tilda, "sdr", ()),
        ("Павел Никитин", "Стройдом", "ppc", ads, "sdr", ("sdr_processing",)),
        ("Светлана Ильина", "Кофейня «Зерно»", "smm", tilda, "sdr2", ("sdr_processing",)),
        ("Алексей Морозов", "ТехноПарк", "analytics", ads, "sdr", ("sdr_processing",)),
        ("Елена Ковалёва", "Клиника «Здоровье»", "seo", tilda, "sdr2", ("sdr_processing",)),
        ("Роман Зайцев", "АвтоМир", "development", ads, "sdr", ("sdr_processing",)),
        ("Наталья Фёдорова", "", "ppc", tilda, "sdr", ()),
    ]
    lead = None
    for i, (name, company, service, source, sdr, path) in enumerate(rows):
        lead = make_lead(
            name=name,
            company=company,
            email=f"client{i}@example.ru",
            phone=f"+7999123450{i}",
            service=services[service],
            source=source,
            received_at=T0 + timedelta(minutes=17 * i),
            attribution={"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "spring"},
        )
        if path:
            lead = walk(lead, cast[sdr], *path)
    sales = [
        ("sales", ("assigned", "discussion", "brief_filled", "proposal")),
        ("sales2", ("assigned",)),
        ("sales", ("assigned", "discussion")),
    ]
    for manager, path in sales:
        sales_lead = walk(
            make_lead(
                name="Виктор Лебедев",
                company="Логистика Плюс",
                service=services["seo"],
                source=tilda,
            ),
            cast["sdr"],
            "sdr_processing",
            "awaiting_assignment",
        )
        walk(sales_lead, cast[manager], *path)
    # The lead the test opens: new, with a message and full attribution.
    target = make_lead(
        name="Ирина Петрова",
        company="ООО «Ромашка»",
        email="irina@romashka.ru",
        phone="+79161234567",
        website="romashka.ru",
        message="Здравствуйте! Нужно продвижение интернет-магазина в Москве и области, "
        "бюджет около 150 000 ₽ в месяц. Когда сможете созвониться?",
        service=services["seo"],
        source=tilda,
        attribution={
            "utm_source": "yandex",
            "utm_medium": "cpc",
            "utm_campaign": "seo_moscow_spring",
            "utm_term": "продвижение сайта",
            "yclid": "7285610984432087039",
        },
        received_at=T0 + timedelta(hours=3),
    )
    assert lead is not None
    return target


def test_sdr_logs_in_switches_language_opens_a_lead_and_moves_it(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    target = _demo_leads(cast, make_lead)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10_000)

    # The login page speaks Russian by default.
    page.goto(live_server.url + "/")
    expect(page.get_by_label("Пароль")).to_be_visible()
    page.screenshot(path=screenshot_dir / "login_ru.png")
    page.get_by_label("Имя пользователя").fill("sdr")
    page.get_by_label("Пароль").fill("pw-sdr-123!")
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/leads/$"))
    expect(page.get_by_role("heading", name="Заявки")).to_be_visible()
    expect(
        page.locator("table.leads")
        .get_by_text("Заявка получена SDR, анкета квалификации заполнена")
        .first
    ).to_be_visible()
    page.screenshot(path=screenshot_dir / "leads_ru.png")

    # Switch to English and back on the same page.
    page.get_by_role("button", name="EN").click()
    expect(page.get_by_role("heading", name="Leads")).to_be_visible()
    expect(
        page.locator("table.leads").get_by_text("Received by SDR, questionnaire in progress").first
    ).to_be_visible()
    page.screenshot(path=screenshot_dir / "leads_en.png")

    # Filtering by status swaps the table in place (HTMX) and keeps the URL shareable.
    page.get_by_label("Status").select_option("new")
    expect(page).to_have_url(re.compile(r"status=new"))
    expect(page.locator("table.leads tbody tr")).to_have_count(3)
    # The language switch now returns to the filtered list, not the one first rendered.
    expect(page.locator("form.lang input[name=next]")).to_have_value(re.compile(r"status=new"))

    # Open the lead and move it one status along.
    page.get_by_role("link", name="Ирина Петрова").click()
    expect(page).to_have_url(re.compile(rf"/leads/{target.pk}/$"))
    expect(page.get_by_text("seo_moscow_spring")).to_be_visible()
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(1)
    page.screenshot(path=screenshot_dir / "lead_en.png")

    page.locator("#claim-button").click()
    expect(timeline).to_have_count(2)
    expect(timeline.last).to_contain_text("Received by SDR, questionnaire in progress")
    expect(timeline.last).to_contain_text("Анна Соколова")
    page.screenshot(path=screenshot_dir / "lead_moved_en.png", full_page=True)

    target.refresh_from_db()
    assert (target.status, target.version, target.sdr_id) == ("sdr_processing", 2, cast["sdr"].pk)

    # Disqualifying asks for a reason in place; the Russian page shows the same history.
    page.get_by_role("button", name="RU").click()
    expect(page.get_by_role("heading", name="История")).to_be_visible()
    page.locator("#disqualify > summary").click()
    expect(page.locator("#disqualify-code")).to_be_visible()
    page.screenshot(path=screenshot_dir / "lead_ru.png", full_page=True)
    context.close()


def test_a_stale_page_says_someone_else_moved_the_lead_and_shows_it_as_it_is(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    lead = qualify(walk(make_lead(company="ООО «Ромашка»"), cast["sdr"], "sdr_processing"))
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill("sdr")
    page.get_by_label("Password").fill("pw-sdr-123!")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.get_by_role("heading", name="Next actions")).to_be_visible()

    walk(lead, cast["sdr"], "awaiting_assignment")  # a colleague's tab, meanwhile

    page.locator("#handoff-form button[name=to][value=awaiting_assignment]").click()
    expect(page.get_by_role("alert")).to_contain_text("changed by someone else")
    expect(page.locator(".lead-head .badge")).to_have_text("Awaiting a sales manager")
    page.screenshot(path=screenshot_dir / "conflict_en.png")
    lead.refresh_from_db()
    assert (lead.status, lead.version) == ("awaiting_assignment", 3)
    context.close()
