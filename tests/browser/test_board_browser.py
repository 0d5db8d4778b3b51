"""The sales board in a real browser: a card dragged to the next column moves, a move made
on a stale board says who changed the lead, and the board fits a 1366x768 laptop screen
in both languages (screenshots in artifacts/screenshots/)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from tests.browser.test_sdr_queue_browser import _fits, _log_in, _page
from tests.factories import walk

pytestmark = pytest.mark.browser

PATH = ["discussion", "brief_filled", "proposal", "contract"]


@pytest.fixture
def board(cast: dict[str, User], make_lead: Callable[..., Lead]) -> list[Lead]:
    """Two of the manager's leads in each column, with values and a few deadlines."""
    seo, _ = Service.objects.get_or_create(
        code="seo", defaults={"name_en": "SEO", "name_ru": "SEO-продвижение"}
    )
    companies = [
        ("Ирина Петрова", "ООО «Ромашка»"),
        ("Олег Смирнов", "ТехноСтрой"),
        ("Алексей Кузнецов", "Северный ветер"),
        ("Мария Иванова", "Кондитерская «Лакомка»"),
        ("Пётр Сидоров", "АвтоПрайм"),
        ("Анна Волкова", "Зелёный сад"),
        ("Дмитрий Орлов", "Орлов и партнёры"),
        ("Елена Соколова", "Медцентр «Здоровье»"),
        ("Игорь Лебедев", ""),
        ("Светлана Морозова", "Студия йоги «Прана»"),
    ]
    leads = []
    now = timezone.now()
    for i, (name, company) in enumerate(companies):
        lead = walk(
            make_lead(name=name, company=company, service=seo),
            cast["sdr"],
            "sdr_processing",
            "awaiting_assignment",
        )
        lead = walk(lead, cast["sales"], "assigned", *PATH[: i // 2])
        due = now + timedelta(minutes=40 - 30 * (i % 3)) if i % 2 == 0 else None
        Lead.objects.filter(pk=lead.pk).update(
            deal_amount=Decimal(150_000 + 25_000 * i) if i >= 2 else None,
            deal_currency="RUB",
            sla_due_at=due,
            sla_warn_at=due - timedelta(minutes=20) if due else None,
        )
        leads.append(Lead.objects.get(pk=lead.pk))
    return leads


def test_dragging_a_card_to_the_next_column_moves_the_lead(
    live_server: Any, cast: dict[str, User], board: list[Lead], browser: Any
) -> None:
    from playwright.sync_api import expect

    page = _page(browser, "en")
    _log_in(page, live_server.url, "sales")
    page.goto(live_server.url + "/board/")
    lead = board[0]
    card = page.locator(f"#card-{lead.pk}")
    expect(page.locator(f"#cards-assigned #card-{lead.pk}")).to_be_visible()
    assert card.get_attribute("data-drops") == "discussion"
    card.drag_to(page.locator(".board-col[data-status=discussion]"))
    expect(page.locator(f"#cards-discussion #card-{lead.pk}")).to_be_visible()
    expect(page.locator("#board .alert-success")).to_contain_text(f"#{lead.pk} moved to")
    assert Lead.objects.get(pk=lead.pk).status == Status.DISCUSSION
    # A column the card may not go to takes no drop: nothing is posted.
    other = page.locator(f"#card-{board[1].pk}")
    other.drag_to(page.locator(".board-col[data-status=contract]"))
    expect(page.locator(f"#cards-assigned #card-{board[1].pk}")).to_be_visible()
    assert Lead.objects.get(pk=board[1].pk).status == Status.ASSIGNED


def test_a_move_on_a_stale_board_says_who_changed_the_lead(
    live_server: Any, cast: dict[str, User], board: list[Lead], browser: Any
) -> None:
    from playwright.sync_api import expect

    lead = board[1]
    manager = _page(browser, "en")
    _log_in(manager, live_server.url, "sales")
    manager.goto(live_server.url + "/board/")
    head = _page(browser, "en")  # a second browser context
    _log_in(head, live_server.url, "head_sales")
    head.goto(live_server.url + "/board/")
    head.locator(f"#card-{lead.pk} button[data-move=discussion]").click()
    expect(head.locator(f"#cards-discussion #card-{lead.pk}")).to_be_visible()

    card = manager.locator(f"#card-{lead.pk}")
    card.locator("button[data-move=discussion]").click()
    expect(card.locator(".board-notice")).to_contain_text("Changed by head_sales at ")
    expect(card.locator(".board-notice a")).to_have_text("Reload")
    # The card is drawn again as the database has it: its next move is to the brief.
    expect(card.locator("button[data-move=brief_filled]")).to_be_visible()
    card.locator(".board-notice a").click()
    expect(manager.locator(f"#cards-discussion #card-{lead.pk}")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_board_fits_a_laptop_screen(
    language: str,
    live_server: Any,
    cast: dict[str, User],
    board: list[Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    walk(board[9], cast["sales"], "lost")  # this month's loss in the summary line
    page = _page(browser, language)
    _log_in(page, live_server.url, "sales")
    page.goto(live_server.url + "/board/")
    expect(page.locator(".board")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == language
    assert _fits(page), f"the board scrolls sideways in {language}"
    page.screenshot(path=screenshot_dir / f"board_{language}.png")
    # The loss form, opened on a card.
    page.locator(f"#card-{board[6].pk} .board-lost > summary").click()
    expect(page.locator(f"#card-{board[6].pk} select[name=reason_code]")).to_be_visible()
    assert _fits(page)
    page.screenshot(path=screenshot_dir / f"board_lost_form_{language}.png")

    head = _page(browser, language)
    _log_in(head, live_server.url, "head_sales")
    head.goto(live_server.url + "/board/")
    expect(head.locator(".load-table")).to_be_visible()
    assert _fits(head), f"the head's board scrolls sideways in {language}"
    head.screenshot(path=screenshot_dir / f"board_head_{language}.png", full_page=True)
