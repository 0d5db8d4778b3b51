"""A manager takes a deal from proposal to converted in a real browser, with the HTMX
forms of the lead page, and the client page shows what was paid; screenshots in both
languages."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.deals.models import Payment, Proposal
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from tests.browser.conftest import browser, screenshot_dir  # noqa: F401  (fixtures)
from tests.deals.conftest import LeadAt


def test_proposal_contract_payment_converted(
    live_server: Any,
    cast: dict[str, User],
    lead_at: LeadAt,
    browser: Any,  # noqa: F811
    screenshot_dir: Path,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    lead = lead_at(
        Status.PROPOSAL,
        name="Ирина Петрова",
        company="ООО «Ромашка»",
        website="romashka.ru",
        service=Service.objects.get(code="seo"),
    )
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill("sales")
    page.get_by_label("Password").fill("pw-sales-123!")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    panel = page.locator("#deals-panel")

    panel.get_by_text("Prepare the proposal").click()
    panel.locator("select[name=item-0-service]").select_option("seo")
    panel.locator("input[name=item-0-amount]").fill("100000")
    panel.locator("input[name=item-1-description]").fill("Аудит сайта")
    panel.locator("input[name=item-1-amount]").fill("50 000")
    panel.locator("input[name=amount]").fill("150000")
    panel.locator("input[name=term_months]").fill("3")
    panel.get_by_role("button", name="Save as a draft").click()
    expect(page.get_by_text("Proposal version 1 saved as a draft.")).to_be_visible()
    page.locator("#deals-panel").get_by_role("button", name="Mark sent").click()
    expect(page.locator("#deals-panel .proposal-current .proposal-state-sent")).to_be_visible()
    page.locator("#deals-panel").get_by_role("button", name="Accepted by the client").click()
    expect(page.locator("#deals-panel .proposal-current .proposal-state-accepted")).to_be_visible()

    page.locator("#lead-actions").get_by_role(
        "button", name=re.compile("Contract and payment")
    ).click()
    expect(page.locator("#lead-head .badge")).to_have_text("Contract and payment")
    panel = page.locator("#deals-panel")
    panel.get_by_text("Record the contract").click()
    panel.locator("input[name=number]").fill("Д-2026/17")
    panel.get_by_role("button", name="Save the contract").click()
    expect(page.locator("#contract-number")).to_have_text("Д-2026/17")

    panel = page.locator("#deals-panel")
    panel.get_by_text("Record a payment").click()
    pay_form = page.locator("#deals-panel form[action$='/payments/']")
    pay_form.locator("input[name=amount]").fill("-5")
    panel.get_by_role("button", name="Record", exact=True).click()
    expect(page.locator("#payment-errors")).to_contain_text("greater than zero")
    assert not Payment.objects.exists()
    expect(pay_form.locator("input[name=amount]")).to_have_value("-5")  # kept as typed
    pay_form.locator("input[name=amount]").fill("50000")
    page.locator("#deals-panel").get_by_role("button", name="Record", exact=True).click()
    expect(page.locator("#payments-table")).to_be_visible()
    expect(page.locator("#deals-panel .deal-lt")).to_contain_text("LT: 1")
    page.screenshot(path=screenshot_dir / "deal_panel_en.png", full_page=True)

    page.locator("#lead-actions").get_by_role("button", name=re.compile("Converted")).click()
    expect(page.locator("#lead-head .badge")).to_have_text("Converted")
    assert Proposal.objects.get(lead=lead).state == "accepted"
    assert Lead.objects.get(pk=lead.pk).status == "converted"

    client_id = Lead.objects.get(pk=lead.pk).client_id
    page.goto(f"{live_server.url}/clients/{client_id}/")
    expect(page.locator("#client-lt")).to_have_text("1")
    page.screenshot(path=screenshot_dir / "client_en.png", full_page=True)
    context.add_cookies([{"name": "django_language", "value": "ru", "url": live_server.url}])
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator("#deals-panel")).to_be_visible()
    page.screenshot(path=screenshot_dir / "deal_panel_ru.png", full_page=True)
    page.goto(f"{live_server.url}/clients/")
    expect(page.locator("#clients-table")).to_contain_text("Ромашка")
    page.screenshot(path=screenshot_dir / "clients_ru.png")
    context.close()
