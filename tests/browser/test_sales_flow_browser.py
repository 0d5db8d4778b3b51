"""The sales workspace in a real browser, in Russian and English on a laptop screen.

The deal path: the head of sales assigns an MQL on /assignment/, the manager finds it on
the board and accepts it, sends the pre-sale brief, the client fills it in a second
browser context (no login) through the link read from the page, and the manager goes on
to the demo, the proposal, the contract, the payment and ``converted``. Then a return to
the SDR, and the bad input a person can type: a negative payment, a brief link that was
tampered with, expired or withdrawn. Screenshots go to ``artifacts/screenshots/sales_*``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone, translation

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.deals.contracts import save_contract
from leadrelay.deals.models import Payment
from leadrelay.deals.templatetags.deals_money import money
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import log_touch
from leadrelay.notify.models import Notification
from leadrelay.presale import briefs
from leadrelay.presale.models import Brief, Demo, DemoPolicy
from tests.browser.test_sdr_queue_browser import _fits, _log_in, _page
from tests.factories import walk

pytestmark = pytest.mark.browser

# The events of the deal's path, in the order the test expects them.
TRACKED = ("status", "assignment", "brief", "demo", "proposal", "contract", "payment")


def _seo() -> Service:
    # get_or_create: a live-server test's flush empties the seeded services.
    seo, _ = Service.objects.get_or_create(
        code="seo", defaults={"name_en": "SEO", "name_ru": "SEO-продвижение"}
    )
    return seo


def _mql(make_lead: Callable[..., Lead], sdr: User, **fields: Any) -> Lead:
    """A request of this morning the SDR called, qualified and handed off: it waits for
    a sales manager (and no first-contact clock runs late on the pages)."""
    fields.setdefault("name", "Ирина Петрова")
    fields.setdefault("company", "ООО «Завод Прогресс»")
    fields.setdefault("email", "irina@zavod-progress.example")
    lead = make_lead(service=_seo(), received_at=timezone.now() - timedelta(hours=2), **fields)
    walk(lead, sdr, "sdr_processing")
    log_touch(sdr, lead.pk, "call", outcome="reached")
    return walk(Lead.objects.get(pk=lead.pk), sdr, "awaiting_assignment")


def _said(language: str, text: Any) -> str:
    """What the page says for ``text`` (a status label, an amount) in ``language``,
    with the no-break spaces of grouped numbers read as the browser's text gives them."""
    with translation.override(language):
        return str(text() if callable(text) else text).replace("\u00a0", " ")


def _text(locator: Any) -> str:
    return str(locator.inner_text()).replace("\u00a0", " ").replace("\u202f", " ")


def _status_is(page: Any, status: Status, language: str) -> None:
    """The lead's head shows ``status``, labelled in the page's language."""
    from playwright.sync_api import expect

    badge = page.locator(f".lead-head .badge.status-{status.value}")
    expect(badge).to_be_visible()
    assert _text(badge) == _said(language, lambda: status.label)


def _move(page: Any, target: Status, language: str) -> None:
    """Press the lead page's button for a forward move that asks for nothing."""
    page.locator(f"#lead-actions form:has(input[name=to][value={target.value}]) button").click()
    _status_is(page, target, language)


def _open(page: Any, form: str) -> Any:
    """Open the folded form posting to a URL ending in ``form``, and return the form."""
    page.locator(f"details:has(> form[action$='{form}']) > summary").click()
    found = page.locator(f"form[action$='{form}']")
    found.wait_for(state="visible")
    return found


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_deal_from_mql_to_converted(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    DemoPolicy.objects.update_or_create(service=_seo(), defaults={"demo_required": True})
    lead = _mql(make_lead, cast["sdr"])
    handed_off = LeadEvent.objects.filter(lead=lead).latest("at", "pk").at
    manager = cast["sales"]
    today = timezone.localdate()

    # The head of sales gives the MQL to a manager from the queue.
    head = _page(browser, language)
    _log_in(head, live_server.url, "head_sales")
    head.goto(f"{live_server.url}/assignment/")
    row = head.locator(f"#mql-{lead.pk}")
    expect(row).to_be_visible()
    assert _fits(head), f"/assignment/ scrolls sideways in {language}"
    head.screenshot(path=screenshot_dir / f"sales_1_assignment_{language}.png", full_page=True)
    row.locator("select[name=manager]").select_option(str(manager.pk))
    row.locator("button[type=submit]").click()
    expect(head.locator("#assignment-body .alert-success")).to_be_visible()
    expect(head.locator(f"#mql-{lead.pk}")).to_have_count(0)
    head.context.close()

    # The manager finds it on the board and accepts it: an SQL.
    page = _page(browser, language)
    _log_in(page, live_server.url, "sales")
    page.goto(f"{live_server.url}/board/")
    expect(page.locator(f"#cards-assigned #card-{lead.pk}")).to_be_visible()
    assert _fits(page), f"the board scrolls sideways in {language}"
    page.screenshot(path=screenshot_dir / f"sales_2_board_{language}.png")
    page.locator(f"#card-{lead.pk} a.board-card-title").click()
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    _status_is(page, Status.ASSIGNED, language)
    expect(page.locator("#assignment-panel .assignment-history")).to_contain_text("sales")
    page.locator("#assignment-panel form[action$='/assignment/accept/'] button").click()
    _status_is(page, Status.DISCUSSION, language)

    # The brief goes to the client's address; the page shows the link to copy.
    send = _open(page, "/brief/send/")
    expect(send.locator("input[name=to]")).to_have_value(lead.email)
    send.locator("button[type=submit]").click()
    link = page.locator("#presale-link")
    expect(link).to_be_visible()
    path = urlsplit(link.input_value()).path
    assert re.fullmatch(r"/brief/[^/]+/", path), path

    # The client, in a browser of their own and never logged in, fills it in.
    client = _page(browser, language)
    client.goto(live_server.url + path)
    form = client.locator("form.brief-form")
    expect(form).to_be_visible()
    assert client.evaluate("document.documentElement.lang") == language
    assert _fits(client), f"the public brief scrolls sideways in {language}"
    client.screenshot(path=screenshot_dir / f"sales_3_brief_public_{language}.png", full_page=True)
    form.locator("input[name=a-goal][value=leads]").check()
    form.locator("#brief-queries").fill("продвижение сайта завода, станки с ЧПУ")
    form.locator("#brief-budget").fill("200000")
    form.locator("button[type=submit]").click()
    expect(client.locator(".brief-message[role=status] h1")).to_be_visible()
    client.screenshot(path=screenshot_dir / f"sales_4_brief_thanks_{language}.png")
    client.context.close()

    # Back with the manager: the brief moved the lead to SAL, and the manager was told.
    page.reload()
    _status_is(page, Status.BRIEF_FILLED, language)
    expect(page.locator("#presale-brief .brief-answers")).to_contain_text("станки с ЧПУ")
    expect(page.locator("#bell-count .bell-badge")).to_be_visible()
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator(".note-brief_filled")).to_contain_text(lead.company)
    page.goto(f"{live_server.url}/leads/{lead.pk}/")

    # The service asks for a demo before the proposal: schedule it, then it is held.
    expect(page.locator("#presale-demos .alert-warning")).to_be_visible()
    demo = _open(page, "/demos/")
    starts = timezone.localtime() + timedelta(days=1)
    demo.locator("input[name=starts_at]").fill(starts.strftime("%Y-%m-%dT11:00"))
    demo.locator("input[name=location]").fill("https://meet.example/zavod")
    demo.locator("button[type=submit]").click()
    expect(page.locator("#presale-demos .demo-scheduled")).to_be_visible()
    page.locator("#presale-demos .demo-scheduled button[name=state][value=held]").click()
    expect(page.locator("#presale-demos .demo-held")).to_be_visible()
    expect(page.locator("#presale-demos .alert-warning")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")  # the head: the status and the message
    page.screenshot(path=screenshot_dir / f"sales_5_presale_{language}.png")

    # The proposal: one item, sent, then accepted; its amount is the expected value.
    _move(page, Status.PROPOSAL, language)
    proposal = _open(page, "/proposals/")
    proposal.locator("select[name=item-0-service]").select_option("seo")
    proposal.locator("input[name=item-0-description]").fill("Продвижение, 6 месяцев")
    proposal.locator("input[name=item-0-amount]").fill("360000")
    proposal.locator("input[name=amount]").fill("360000")
    proposal.locator("input[name=term_months]").fill("6")
    proposal.locator("button[type=submit]").click()
    current = page.locator("#deals-panel .proposal-current")
    expect(current.locator(".proposal-state-draft")).to_be_visible()
    expect(current.locator(".deal-table")).to_contain_text("Продвижение, 6 месяцев")
    current.locator("button[name=state][value=sent]").click()
    expect(current.locator(".proposal-state-sent")).to_be_visible()
    current.locator("button[name=state][value=accepted]").click()
    expect(current.locator(".proposal-state-accepted")).to_be_visible()
    value = page.locator("#deals-panel .card-head .pill")
    assert _said(language, lambda: money(Decimal("360000"), "RUB")) in _text(value)

    # The contract and its first monthly payment.
    _move(page, Status.CONTRACT, language)
    contract = _open(page, "/contract/")
    contract.locator("input[name=number]").fill("Д-2026/117")
    contract.locator("select[name=kind]").select_option("retainer")
    contract.locator("input[name=signed_on]").fill(today.isoformat())
    contract.locator("input[name=starts_on]").fill(today.isoformat())
    contract.locator("input[name=ends_on]").fill((today + timedelta(days=182)).isoformat())
    contract.locator("input[name=value]").fill("360000")
    contract.locator("input[name=monthly_fee]").fill("60000")
    contract.locator("button[type=submit]").click()
    expect(page.locator("#contract-number")).to_have_text("Д-2026/117")
    payment = _open(page, "/payments/")
    payment.locator("input[name=paid_on]").fill(today.isoformat())
    payment.locator("input[name=amount]").fill("60000")
    payment.locator("input[name=period_start]").fill(today.isoformat())
    payment.locator("input[name=period_end]").fill((today + timedelta(days=30)).isoformat())
    payment.locator("button[type=submit]").click()
    table = page.locator("#payments-table")
    expect(table).to_be_visible()
    assert _said(language, lambda: money(Decimal("60000"), "RUB")) in _text(table)
    expect(page.locator("#deals-panel .deal-lt strong")).to_contain_text("1")
    page.locator("#deals-panel").screenshot(
        path=screenshot_dir / f"sales_6_deal_panel_{language}.png"
    )

    # Converted, with the contract's value as the deal's.
    _move(page, Status.CONVERTED, language)
    assert _said(language, lambda: money(Decimal("360000"), "RUB")) in _text(value)
    assert _fits(page), f"the converted lead scrolls sideways in {language}"
    page.evaluate("window.scrollTo(0, 0)")  # the head: the status and the message
    page.screenshot(path=screenshot_dir / f"sales_7_converted_{language}.png")
    page.locator("#deals-panel").screenshot(
        path=screenshot_dir / f"sales_8_converted_deal_{language}.png"
    )
    page.context.close()

    lead.refresh_from_db()
    assert (lead.status, lead.manager_id) == (Status.CONVERTED, manager.pk)
    assert (lead.deal_amount, lead.deal_currency) == (Decimal("360000"), "RUB")
    brief = Brief.objects.get(lead=lead, filled_at__isnull=False)
    assert brief.filled_via == Brief.Via.CLIENT
    assert brief.values["goal"] == "leads"
    assert Demo.objects.get(lead=lead).state == Demo.State.HELD
    assert Payment.objects.get(lead=lead).amount == Decimal("60000")
    assert Notification.objects.filter(user=manager, kind="brief_filled", lead=lead).exists()
    actions = [
        (e.kind, e.to_status or e.data.get("action") or e.data.get("how"))
        for e in LeadEvent.objects.filter(lead=lead, at__gt=handed_off).order_by("at", "pk")
        if e.kind in TRACKED
    ]
    assert actions == [
        ("status", "assigned"),
        ("assignment", "manual"),
        ("status", "discussion"),
        ("brief", "sent"),
        ("brief", "filled"),
        ("status", "brief_filled"),
        ("demo", "scheduled"),
        ("demo", "held"),
        ("status", "proposal"),
        ("proposal", "created"),
        ("proposal", "sent"),
        ("proposal", "accepted"),
        ("status", "contract"),
        ("contract", "created"),
        ("payment", None),
        ("status", "converted"),
    ]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_manager_returns_a_lead_to_the_sdr(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    lead = walk(_mql(make_lead, cast["sdr"]), cast["sales"], "assigned")
    page = _page(browser, language)
    _log_in(page, live_server.url, "sales")
    page.goto(f"{live_server.url}/board/")
    expect(page.locator(f"#cards-assigned #card-{lead.pk}")).to_be_visible()
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.locator("#assignment-panel details.move-back > summary").click()
    form = page.locator("#assignment-panel form[action$='/assignment/return/']")
    form.locator("select[name=reason_code]").select_option("wrong_answers")
    form.locator("textarea[name=note]").fill("В анкете другой сайт, уточните у клиента")
    assert _fits(page)
    page.screenshot(path=screenshot_dir / f"sales_return_form_{language}.png")
    form.locator("button[type=submit]").click()
    # The lead is the SDR's again and out of the manager's sight: back on the board.
    expect(page).to_have_url(re.compile(r"/board/$"))
    returned_note = _said(language, lambda: translation.gettext("Returned to the SDR."))
    expect(page.locator(".messages .alert-success")).to_have_text(returned_note)
    expect(page.locator(".board")).to_be_visible()
    expect(page.locator(f"#card-{lead.pk}")).to_have_count(0)
    page.context.close()

    sdr = _page(browser, language)
    _log_in(sdr, live_server.url, "sdr")
    sdr.goto(f"{live_server.url}/incoming/")
    returned = sdr.locator(".queue-returns .queue-return", has_text=f"#{lead.pk} ")
    expect(returned).to_be_visible()
    expect(returned).to_contain_text("В анкете другой сайт, уточните у клиента")
    with translation.override(language):
        from leadrelay.qualify.models import ReasonCode

        label = str(ReasonCode.objects.get(kind="return", code="wrong_answers"))
    expect(returned.locator(".queue-return-code")).to_have_text(label)
    sdr.screenshot(path=screenshot_dir / f"sales_returned_incoming_{language}.png")
    sdr.context.close()

    lead.refresh_from_db()
    assert (lead.status, lead.sdr_id, lead.manager_id) == (
        Status.SDR_PROCESSING,
        cast["sdr"].pk,
        None,
    )
    event = LeadEvent.objects.filter(lead=lead, kind="status").latest("at", "pk")
    assert (event.to_status, event.data.get("reason_code")) == ("sdr_processing", "wrong_answers")


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_negative_or_early_payment_shows_field_errors_and_stores_nothing(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    manager = cast["sales"]
    lead = walk(
        _mql(make_lead, cast["sdr"]),
        manager,
        "assigned",
        "discussion",
        "brief_filled",
        "proposal",
        "contract",
    )
    today = timezone.localdate()
    save_contract(
        manager,
        lead.pk,
        number="Д-1",
        kind="one_off",
        signed_on=today,
        starts_on=today,
        value=Decimal("100000"),
        currency="RUB",
    )
    page = _page(browser, language)
    _log_in(page, live_server.url, "sales")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    form = _open(page, "/payments/")
    form.locator("input[name=paid_on]").fill(today.isoformat())
    form.locator("input[name=amount]").fill("-5000")
    form.locator("input[name=period_start]").fill(today.isoformat())
    form.locator("input[name=period_end]").fill(today.isoformat())
    form.locator("button[type=submit]").click()
    errors = page.locator("#payment-errors")
    expect(errors.locator("li[data-field=amount]")).to_be_visible()
    # The form stays open with what was typed, to correct it.
    expect(page.locator("form[action$='/payments/'] input[name=amount]")).to_have_value("-5000")
    page.locator("#deals-panel").screenshot(
        path=screenshot_dir / f"sales_payment_error_{language}.png"
    )

    # A right amount in another currency, paid before the contract was signed.
    form = page.locator("form[action$='/payments/']")
    form.locator("input[name=amount]").fill("5000")
    form.locator("select[name=currency]").select_option("USD")
    form.locator("input[name=paid_on]").fill((today - timedelta(days=3)).isoformat())
    form.locator("button[type=submit]").click()
    expect(errors.locator("li[data-field=currency]")).to_be_visible()
    expect(errors.locator("li[data-field=paid_on]")).to_be_visible()
    expect(errors.locator("li[data-field=amount]")).to_have_count(0)
    expect(page.locator("#deals-panel .deal-lt strong")).to_contain_text("0")
    page.context.close()

    assert not Payment.objects.filter(lead=lead).exists()
    assert not LeadEvent.objects.filter(lead=lead, kind="payment").exists()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_bad_brief_link_shows_a_clear_page_and_saves_nothing(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    manager = cast["sales"]
    lead = walk(_mql(make_lead, cast["sdr"]), manager, "assigned", "discussion")
    long_ago = timezone.now() - timedelta(days=60)
    _, expired = briefs.send_brief(manager, lead.pk, now=long_ago)
    token = expired.strip("/").rsplit("/", 1)[-1]
    tampered = f"/brief/{token[:-1]}{'A' if token[-1] != 'A' else 'B'}/"

    client = _page(browser, language)
    with translation.override(language):
        cannot = str(translation.gettext("This link cannot be used"))
        not_valid = str(translation.gettext("This link is not valid."))

    response = client.goto(live_server.url + tampered)
    assert response is not None and response.status == 404
    expect(client.locator(".brief-message h1")).to_have_text(cannot)
    expect(client.locator(".brief-message p")).to_have_text(not_valid)
    expect(client.locator("form")).to_have_count(0)
    client.screenshot(path=screenshot_dir / f"sales_brief_tampered_{language}.png")

    response = client.goto(live_server.url + expired)
    assert response is not None and response.status == 410
    expect(client.locator(".brief-message h1")).to_have_text(cannot)
    assert lead.service_id is not None
    with translation.override(language):
        day = briefs._day(long_ago + timedelta(days=briefs._link_days(lead.service_id)))
    expect(client.locator(".brief-message p")).to_contain_text(day)
    client.screenshot(path=screenshot_dir / f"sales_brief_expired_{language}.png")

    # A form opened in time, sent after the manager withdrew the link: nothing is saved.
    brief, fresh = briefs.send_brief(manager, lead.pk)
    client.goto(live_server.url + fresh)
    form = client.locator("form.brief-form")
    form.locator("input[name=a-goal][value=traffic]").check()
    form.locator("#brief-queries").fill("станки")
    form.locator("#brief-budget").fill("100000")
    briefs.revoke(manager, brief.pk)
    form.locator("button[type=submit]").click()
    expect(client.locator(".brief-message[role=alert] h1")).to_have_text(cannot)
    client.context.close()

    lead.refresh_from_db()
    assert lead.status == Status.DISCUSSION
    assert not Brief.objects.filter(lead=lead, filled_at__isnull=False).exists()
    assert not LeadEvent.objects.filter(lead=lead, kind="brief", data__action="filled").exists()
