"""Intake in a real browser: an admin creates a web form source, a visitor sends the
form from a landing page, and the lead is in the list with its source and UTM tags."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.intake.models import Delivery
from leadrelay.intake.sources import create_source
from leadrelay.leads.models import Lead
from tests.conftest import T0

pytestmark = pytest.mark.browser


def _add_default_services() -> None:
    migration = importlib.import_module("leadrelay.catalog.migrations.0002_default_services")
    migration.add_services(apps, None)


@pytest.fixture
def migrated_catalogue(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The services the data migration makes, there before the test and after it.

    A live-server test ends with a flush of every table, data migrations' rows included,
    and the browser tests after this file's expect the catalogue as migrated.
    """
    with django_db_blocker.unblock():
        _add_default_services()
    yield
    with django_db_blocker.unblock():
        _add_default_services()


@pytest.fixture
def transactional_db(migrated_catalogue: None, _django_db_helper: None) -> None:
    """pytest-django's, made to depend on the catalogue so that the catalogue is put
    back after the flush, not before it."""


# The client's landing page: served by the test itself, under a made-up host.
LANDING = "http://promo.romashka.example/seo/"
UTM = "?utm_source=yandex&utm_medium=cpc&utm_campaign=seo_spring&yclid=7285610984432087039"


def _working_sources(make_lead: Callable[..., Lead]) -> None:
    """Sources with some history, so the pages look like an agency's after a month."""
    services = {s.code: s for s in Service.objects.all()}
    tilda = create_source("tilda", "Сайт: форма заявки")
    ads = create_source("google_ads", "Google Ads: поиск, Москва")
    quiz = create_source("yandex_forms", "Квиз на лендинге")
    create_source("meta", "Instagram: лид-формы", secret="app-secret", config={"verify_token": "x"})
    Source.objects.filter(pk=ads.pk).update(default_service=services["ppc"])
    for i, source in enumerate([tilda, tilda, tilda, ads, ads, quiz]):
        lead = make_lead(
            name=f"Клиент {i}",
            email=f"client{i}@example.ru",
            source=source,
            received_at=T0 + timedelta(hours=i),
        )
        Delivery.objects.create(
            source=source,
            received_at=T0 + timedelta(hours=i),
            method="POST",
            body=b"{}",
            status="processed",
            lead=lead,
        )
    Delivery.objects.create(
        source=quiz,
        received_at=T0 + timedelta(hours=7),
        method="POST",
        body=b'{"jsonrpc": "2.0"}',
        content_type="application/json",
        status="failed",
        attempts=2,
        next_attempt_at=T0 + timedelta(hours=8),
        error="Malformed: A JSON-RPC request needs params as an object.",
    )


def test_admin_creates_a_form_source_and_a_visitors_submission_becomes_a_lead(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
    settings: Any,
) -> None:
    from playwright.sync_api import expect

    settings.LEADRELAY_BASE_URL = live_server.url  # the address the snippet posts to
    User.objects.filter(pk=cast["admin"].pk).update(first_name="Олег", last_name="Смирнов")
    _working_sources(make_lead)

    admin = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    admin.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = admin.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/")
    page.get_by_label("Имя пользователя").fill("admin")
    page.get_by_label("Пароль").fill("pw-admin-123!")
    page.get_by_role("button", name="Войти").click()

    # The sources page, from the header.
    nav = page.get_by_role("navigation", name="Главное меню")
    nav.locator("details.navmore > summary").click()  # setting up lives under "More"
    nav.get_by_role("link", name="Источники").click()
    expect(page.get_by_role("heading", name="Источники заявок")).to_be_visible()
    expect(page.locator("table.sources tbody tr")).to_have_count(4)
    page.screenshot(path=screenshot_dir / "sources_ru.png")

    # A new web form source: the Meta settings hide, the form's spam guard shows.
    page.get_by_label("Тип").select_option("meta")
    expect(page.get_by_label("Маркер доступа страницы")).to_be_visible()
    page.get_by_label("Тип").select_option("form")
    expect(page.get_by_label("Маркер доступа страницы")).to_be_hidden()
    expect(page.get_by_label("Имя поля-ловушки")).to_be_visible()
    page.get_by_label("Название").fill("Сайт: форма обратной связи")
    page.get_by_label("Услуга по умолчанию").select_option(label="SEO-продвижение")
    page.get_by_role("button", name="Создать источник").click()

    source = Source.objects.get(name="Сайт: форма обратной связи")
    expect(page).to_have_url(re.compile(rf"/intake/sources/{source.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text("создан")
    expect(page.get_by_role("heading", name="Настройка: Веб-форма")).to_be_visible()
    page.screenshot(path=screenshot_dir / "source_ru.png", full_page=True)

    # "Copy code" puts the snippet on the clipboard, as the admin would take it.
    page.get_by_role("button", name="Копировать код").click()
    expect(page.get_by_role("button", name="Скопировано")).to_be_visible()
    snippet = page.evaluate("navigator.clipboard.readText()")
    assert snippet == page.locator("#form-snippet").input_value()
    assert f'action="{live_server.url}/in/{source.key}/"' in snippet

    page.get_by_role("button", name="EN").click()
    expect(page.get_by_role("heading", name="Setting up: Web form")).to_be_visible()
    page.screenshot(path=screenshot_dir / "source_en.png", full_page=True)
    page.get_by_role("link", name="← All sources").click()
    expect(page.get_by_role("heading", name="Intake sources")).to_be_visible()
    page.screenshot(path=screenshot_dir / "sources_en.png")

    # A visitor of the client's landing page sends the form. Their browser's clock is two
    # minutes behind ours, so the snippet's render time passes the minimum fill time
    # without the test waiting for it.
    visitor = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    landing = visitor.new_page()
    landing.set_default_timeout(10_000)
    landing.clock.install(time=datetime.now() - timedelta(minutes=2))
    landing.route(
        LANDING + "**",
        lambda route: route.fulfill(
            content_type="text/html; charset=utf-8",
            body="<!doctype html><html lang='ru'><head><meta charset='utf-8'>"
            "<title>Продвижение сайтов</title></head><body><h1>Оставьте заявку</h1>"
            f"{snippet}</body></html>",
        ),
    )
    landing.goto(LANDING + UTM)
    expect(landing.locator("input[name=utm_campaign]")).to_have_value("seo_spring")
    landing.get_by_label("Name").fill("Мария Иванова")
    landing.get_by_label("Email").fill("Maria.Ivanova@Romashka.RU")
    landing.get_by_label("Phone").fill("8 (916) 555-12-34")
    landing.get_by_label("Company").fill("ООО «Ромашка»")
    landing.get_by_label("Message").fill("Нужно продвижение интернет-магазина.")
    landing.get_by_role("button", name="Send").click()
    expect(landing.locator("body")).to_contain_text('"ok": true')
    visitor.close()

    lead = Lead.objects.get(name="Мария Иванова")
    assert (lead.status, lead.email, lead.phone, lead.source) == (
        "new",
        "maria.ivanova@romashka.ru",
        "+79165551234",
        source,
    )
    assert lead.service is not None and lead.service.code == "seo"
    assert lead.attribution["utm_campaign"] == "seo_spring"
    assert lead.attribution["yclid"] == "7285610984432087039"
    assert lead.attribution["landing_url"] == LANDING + UTM

    # The admin sees it on top of the lead list, with its source.
    page.get_by_role("link", name="Leads", exact=True).click()
    row = page.locator("table.leads tbody tr").first
    expect(row).to_contain_text("Мария Иванова")
    expect(row).to_contain_text("Сайт: форма обратной связи")
    row.get_by_role("link", name="Мария Иванова").click()
    expect(page.get_by_text("seo_spring", exact=True)).to_be_visible()

    # And its delivery, processed, on the deliveries page below the failed one.
    nav = page.get_by_role("navigation", name="Main")
    nav.locator("details.navmore > summary").click()
    nav.get_by_role("link", name="Deliveries").click()
    rows = page.locator("table.deliveries tbody tr")
    expect(rows.first).to_contain_text("Failed")
    expect(rows.nth(1)).to_contain_text("Сайт: форма обратной связи")
    expect(rows.nth(1)).to_contain_text(f"#{lead.pk}")
    page.screenshot(path=screenshot_dir / "deliveries_en.png")
    admin.close()


def test_an_sdr_types_in_a_phone_call_and_is_warned_of_the_duplicate(
    live_server: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    browser: Any,
    screenshot_dir: Path,
) -> None:
    from playwright.sync_api import expect

    earlier = make_lead(
        name="Иван Петров", email="ivan@example.ru", received_at=timezone.now() - timedelta(days=2)
    )
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(live_server.url + "/")
    page.get_by_label("Имя пользователя").fill("sdr")
    page.get_by_label("Пароль").fill("pw-sdr-123!")
    page.get_by_role("button", name="Войти").click()
    page.get_by_role("link", name="Новая заявка").click()
    page.get_by_label("Имя", exact=True).fill("Иван Петров")
    page.get_by_label("Телефон", exact=True).fill("+7 (999) 123-45-67")
    page.get_by_label("E-mail", exact=True).fill(" Ivan@Example.RU ")
    page.get_by_label("Сообщение", exact=True).fill("Звонил по рекомендации, нужен аудит сайта.")
    page.get_by_label("Как поступила заявка").select_option("phone")
    page.screenshot(path=screenshot_dir / "new_lead_ru.png")
    page.get_by_role("button", name="Сохранить заявку").click()

    expect(page.get_by_role("alert")).to_contain_text("Этот человек уже оставлял заявку.")
    expect(page.get_by_role("link", name=f"#{earlier.pk} Иван Петров")).to_be_visible()
    page.screenshot(path=screenshot_dir / "new_lead_duplicate_ru.png")
    page.get_by_role("button", name="Все равно сохранить (как дубликат)").click()

    lead = Lead.objects.exclude(pk=earlier.pk).get()
    expect(page).to_have_url(re.compile(rf"/leads/{lead.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text("Заявка сохранена.")
    assert (lead.phone, lead.email) == ("+79991234567", "ivan@example.ru")
    assert lead.duplicate_of == earlier
    assert lead.attribution == {"utm_source": "manual", "utm_medium": "phone"}
    context.close()
