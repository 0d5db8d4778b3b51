"""The incoming queue in a real browser: the keyboard shortcuts, a claim that lost the race,
and the SDR pages on a 1366x768 laptop screen in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leadrelay.accounts.models import Department, Team, User
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import claim
from tests.factories import walk

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


def _log_in(page: Any, base_url: str, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(f"pw-{username}-123!")
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/leads/$"))


def _page(browser: Any, language: str) -> Any:
    context = browser.new_context(
        viewport=LAPTOP,
        locale="ru-RU" if language == "ru" else "en-US",
        extra_http_headers={"Accept-Language": language},
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


def _fits(page: Any) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling on the laptop screen."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.fixture
def queue(cast: dict[str, User], make_lead: Callable[..., Lead]) -> list[Lead]:
    source = Source.objects.create(kind=Source.Kind.TILDA, name="Лендинг SEO")
    # get_or_create: a live-server test's flush empties the seeded services.
    seo, _ = Service.objects.get_or_create(
        code="seo", defaults={"name_en": "SEO", "name_ru": "SEO-продвижение"}
    )
    leads = [
        make_lead(
            name=name,
            company=company,
            service=seo,
            source=source,
            attribution={"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "audit"},
        )
        for name, company in [
            ("Ирина Петрова", "ООО «Ромашка»"),
            ("Олег Смирнов", "ТехноСтрой"),
            ("Алексей Кузнецов", ""),
        ]
    ]
    return [Lead.objects.get(pk=lead.pk) for lead in leads]


def test_keyboard_shortcuts_select_claim_help_filters_and_open(
    live_server: Any, cast: dict[str, User], queue: list[Lead], browser: Any
) -> None:
    from playwright.sync_api import expect

    page = _page(browser, "en")
    _log_in(page, live_server.url, "sdr")
    page.goto(live_server.url + "/incoming/")
    rows = page.locator("#queue-table tbody tr.queue-row")
    expect(rows).to_have_count(3)
    first, second = rows.nth(0), rows.nth(1)
    selected = page.locator("#queue-table tr.is-selected")

    page.keyboard.press("j")
    expect(first).to_have_class(re.compile(r"\bis-selected\b"))
    expect(first).to_be_focused()
    page.keyboard.press("j")
    expect(second).to_have_class(re.compile(r"\bis-selected\b"))
    expect(selected).to_have_count(1)
    page.keyboard.press("k")
    expect(first).to_have_class(re.compile(r"\bis-selected\b"))

    # c claims the selected request; the row is swapped and stays selected.
    first_id = first.get_attribute("data-lead")
    assert first_id is not None
    page.keyboard.press("c")
    claimed = page.locator(f"#queue-row-{first_id}")
    expect(claimed).to_contain_text(f"Request #{first_id} is yours.")
    expect(claimed).to_have_class(re.compile(r"\bis-selected\b"))
    assert Lead.objects.get(pk=int(first_id)).sdr_id == cast["sdr"].pk

    # ? shows the help, Esc hides it; keys do nothing else while it is open.
    help_box = page.locator("#queue-help")
    expect(help_box).to_be_hidden()
    page.keyboard.press("?")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Claim the selected request")
    page.keyboard.press("j")
    expect(claimed).to_have_class(re.compile(r"\bis-selected\b"))
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()

    # / goes to the filters; keys typed there are the field's, not shortcuts.
    page.keyboard.press("/")
    expect(page.locator("#id_source")).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("c")
    expect(claimed).to_have_class(re.compile(r"\bis-selected\b"))
    assert Lead.objects.filter(sdr__isnull=False).count() == 1

    # o (or Enter) opens the selected request.
    page.locator("#queue-filters select").first.evaluate("el => el.blur()")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(rf"/leads/{first_id}/$"))
    page.go_back()
    expect(page.locator("#queue-table tbody tr.queue-row")).to_have_count(3)
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/leads/{first_id}/$"))


def test_a_claim_that_lost_the_race_says_who_has_the_request(
    live_server: Any, cast: dict[str, User], queue: list[Lead], browser: Any
) -> None:
    from playwright.sync_api import expect

    page = _page(browser, "en")
    _log_in(page, live_server.url, "sdr")
    page.goto(live_server.url + "/incoming/")
    lead = queue[1]
    row = page.locator(f"#queue-row-{lead.pk}")
    expect(row.locator(".claim-form button")).to_be_visible()
    claim(cast["sdr2"], lead.pk)  # a colleague is quicker
    row.locator(".claim-form button").click()
    expect(row).to_contain_text("Already taken by sdr2.")
    expect(row.locator(".claim-form")).to_have_count(0)
    assert Lead.objects.get(pk=lead.pk).sdr_id == cast["sdr2"].pk


@pytest.mark.parametrize("language", ["en", "ru"])
def test_sdr_pages_fit_a_laptop_screen(
    language: str,
    live_server: Any,
    cast: dict[str, User],
    departments: dict[str, Department],
    queue: list[Lead],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    # The lead SDR sees the reassign control; a return waits at the top.
    Team.objects.create(name="SDR", department=departments["marketing"], lead=cast["sdr"])
    claim(cast["sdr"], queue[2].pk)
    returned = walk(make_lead(name="Возврат"), cast["sdr"], "sdr_processing", "awaiting_assignment")
    walk(
        walk(returned, cast["sales"], "assigned"),
        cast["sales"],
        "sdr_processing",
        reason="Клиент говорит, что бюджета нет до осени",
    )
    page = _page(browser, language)
    _log_in(page, live_server.url, "sdr")
    for path, name, probe in [
        ("/incoming/", "sdr_queue", "#queue-table"),
        ("/my-day/", "sdr_my_day", ".kpis"),
        ("/incoming/unended/?hours=1", "sdr_unended", "table.unended"),
    ]:
        page.goto(live_server.url + path)
        expect(page.locator(probe)).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == language
        assert _fits(page), f"{path} scrolls sideways in {language}"
        page.screenshot(path=screenshot_dir / f"{name}_{language}.png")
    page.goto(live_server.url + "/incoming/")
    page.keyboard.press("?")
    page.screenshot(path=screenshot_dir / f"sdr_queue_help_{language}.png")

    head = _page(browser, language)
    _log_in(head, live_server.url, "head_marketing")
    head.goto(live_server.url + "/incoming/settings/")
    expect(head.locator("input[name=stale_hours]")).to_be_visible()
    assert _fits(head)
    head.screenshot(path=screenshot_dir / f"sdr_settings_{language}.png")
