"""The SDR's day in a real browser, in Russian and English on a laptop screen: a request
taken from "Incoming" to an MQL (claim, a call, BANT, two questionnaires, the hand-off),
a disqualification with its reason code, and a referral to a partner.

The new → MQL flow counts what the SDR does (clicks and choices, fields typed and their
characters) and writes it with the wall time to ``artifacts/sdr_flow_<lang>.json``; the
figures go into the issue's note. They are measured, never asserted on time.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Partner, Service
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.qualify.models import Answers, Bant, Referral

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# Keystroke-level model (Card, Moran & Newell 1980): point with the mouse 1.1 s, press a
# button 0.2 s, type a character 0.28 s (an average skilled typist), think 1.35 s
# before each field or choice. An estimate of a practised person, not a measurement.
KLM = {"point": 1.1, "press": 0.2, "char": 0.28, "think": 1.35}


@dataclass
class Effort:
    clicks: int = 0  # buttons, links, choices in a list, boxes ticked
    fields: int = 0  # text fields typed into
    chars: int = 0
    seconds: float = 0.0

    def click(self, locator: Any) -> None:
        locator.click()
        self.clicks += 1

    def choose(self, locator: Any, value: str) -> None:
        locator.select_option(value)
        self.clicks += 1

    def type(self, locator: Any, text: str) -> None:
        locator.fill(text)
        self.fields += 1
        self.chars += len(text)

    @property
    def klm_seconds(self) -> float:
        actions = self.clicks + self.fields
        return round(
            actions * (KLM["think"] + KLM["point"])
            + self.clicks * KLM["press"]
            + self.chars * KLM["char"],
            1,
        )


def _context(browser: Any, language: str) -> Any:
    return browser.new_context(viewport=LAPTOP, locale="ru-RU" if language == "ru" else "en-US")


def _log_in(page: Any, base_url: str, username: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(f"pw-{username}-123!")
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(re.compile(r"/leads/$"))


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _saved(page: Any, form: str) -> None:
    from playwright.sync_api import expect

    expect(page.locator(f"#{form} .saved-note")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_sdr_takes_a_request_from_new_to_mql(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    seo = Service.objects.get(code="seo")
    lead = make_lead(
        name="Ирина Петрова",
        company="ООО «Завод Прогресс»",
        phone="+79161234567",
        service=seo,
        attribution={"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "seo-b2b"},
    )
    context = _context(browser, language)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _log_in(page, live_server.url, "sdr")
    effort = Effort()

    page.goto(f"{live_server.url}/incoming/")
    row = page.locator(f"#queue-row-{lead.pk}")
    expect(row).to_be_visible()
    assert _fits(page)
    page.screenshot(path=screenshot_dir / f"sdr_flow_1_queue_{language}.png")
    started = time.monotonic()

    # Claim from the queue, then open the request.
    effort.click(row.locator(".claim-form button"))
    expect(row.locator(".queue-status .badge")).to_have_class(re.compile("status-sdr_processing"))
    effort.click(row.locator("a.lead-link"))
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))

    # The call: outcome and duration (the channel "call" is preselected).
    effort.choose(page.locator("#touch-outcome"), "reached")
    effort.type(page.locator("#touch-duration"), "4:30")
    effort.click(page.locator("#touch-save"))
    _saved(page, "lead-touch")

    # BANT while talking.
    effort.type(page.locator("#bant-budget_amount"), "450000")
    effort.type(page.locator("#bant-authority_role"), "Директор по маркетингу")
    effort.click(page.locator("#bant-form input[name=decision_maker][value=yes]"))
    effort.choose(page.locator("#bant-need"), "leads")
    effort.choose(page.locator("#bant-timeframe_band"), "month")
    effort.click(page.locator("#bant-save"))
    _saved(page, "bant")

    # The common block.
    common = page.locator("#questionnaire-common-form")
    effort.click(common.locator("input[name=a-project_type][value=existing]"))
    effort.type(common.locator("[name=a-region]"), "Москва")
    effort.type(common.locator("[name=a-audience]"), "B2B, промышленное оборудование")
    effort.type(common.locator("[name=a-task]"), "Заявки из поиска")
    effort.type(common.locator("[name=a-ad_budget__amount]"), "200000")
    effort.click(common.locator("button[type=submit]"))
    _saved(page, "questionnaire-common")

    # The SEO questionnaire.
    seo_form = page.locator("#questionnaire-seo-form")
    effort.type(seo_form.locator("[name=a-site_url]"), "zavod-progress.ru")
    effort.click(seo_form.locator("input[name=a-search_engines][value=yandex]"))
    effort.click(seo_form.locator("button[type=submit]"))
    _saved(page, "questionnaire-seo")
    expect(page.locator("#handoff-checklist")).to_have_class(re.compile(r"\bready\b"))
    page.screenshot(path=screenshot_dir / f"sdr_flow_2_qualified_{language}.png", full_page=True)

    # The hand-off.
    effort.click(page.locator("#handoff-form button[value=awaiting_assignment]"))
    expect(page.locator(".lead-head .badge.status-awaiting_assignment")).to_be_visible()
    effort.seconds = round(time.monotonic() - started, 2)
    page.screenshot(path=screenshot_dir / f"sdr_flow_3_mql_{language}.png", full_page=True)
    assert _fits(page)

    lead.refresh_from_db()
    assert (lead.status, lead.sdr_id) == ("awaiting_assignment", cast["sdr"].pk)
    assert lead.first_touch_at is not None
    bant = Bant.objects.get(lead=lead)
    assert (bant.budget_amount, bant.decision_maker, bant.need and bant.need.code) == (
        Decimal("450000"),
        True,
        "leads",
    )
    answers = {a.questionnaire.service_id: a.values for a in Answers.objects.filter(lead=lead)}
    assert answers[None]["ad_budget"] == {"amount": "200000.00", "currency": "RUB"}
    assert answers[seo.pk]["search_engines"] == ["yandex"]
    touch = LeadEvent.objects.get(lead=lead, kind="touch")
    assert touch.data["duration"] == 270
    # Sales reads the answers as a summary on the lead page.
    expect(page.locator("#qualification-summary")).to_contain_text("zavod-progress.ru")

    ARTIFACTS.mkdir(exist_ok=True)
    figures = {**asdict(effort), "klm_seconds": effort.klm_seconds, "language": language}
    (ARTIFACTS / f"sdr_flow_{language}.json").write_text(json.dumps(figures, indent=2))
    print("SDR new → MQL:", figures)
    context.close()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_sdr_disqualifies_with_a_reason_code(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    lead = make_lead(name="Продам базу e-mail", email="spam@example.ru")
    context = _context(browser, language)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _log_in(page, live_server.url, "sdr")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.locator("#claim-button").click()
    expect(page.locator("#lead-sdr")).to_contain_text("sdr")
    page.locator("#disqualify summary").click()
    # The code is required: the browser refuses an empty choice, and so does the server.
    page.locator("#disqualify-code").select_option("spam")
    page.locator("#disqualify-form textarea[name=reason]").fill("Продают базы")
    page.screenshot(path=screenshot_dir / f"sdr_disqualify_{language}.png", full_page=True)
    page.locator("#disqualify-form button[value=disqualified]").click()
    expect(page.locator(".lead-head .badge.status-disqualified")).to_be_visible()
    lead.refresh_from_db()
    assert (lead.status, lead.end_reason_code, lead.end_reason) == (
        "disqualified",
        "spam",
        "Продают базы",
    )
    assert Lead.objects.filter(pk=lead.pk).exists()
    context.close()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_an_sdr_refers_a_request_to_a_partner(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
    language: str,
) -> None:
    from playwright.sync_api import expect

    partner = Partner.objects.create(
        name="Студия логотипов", contact_email="deals@logo.example", commission_percent=10
    )
    lead = make_lead(name="Нужен только логотип", email="logo@example.ru")
    context = _context(browser, language)
    page = context.new_page()
    page.set_default_timeout(15_000)
    _log_in(page, live_server.url, "sdr")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    page.locator("#claim-button").click()
    expect(page.locator("#lead-sdr")).to_contain_text("sdr")
    page.locator("#refer summary").click()
    page.locator("#refer-partner").select_option(str(partner.pk))
    page.locator("#refer-form textarea[name=reason]").fill("Только логотип, это к партнёру")
    page.screenshot(path=screenshot_dir / f"sdr_refer_{language}.png", full_page=True)
    page.locator("#refer-form button[value=referred]").click()
    expect(page.locator(".lead-head .badge.status-referred")).to_be_visible()
    referral = Referral.objects.get(lead=lead)
    assert (referral.partner_id, referral.reason, referral.commission_percent) == (
        partner.pk,
        "Только логотип, это к партнёру",
        Decimal("10"),
    )
    context.close()
