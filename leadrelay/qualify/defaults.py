"""The lists and questionnaires a new installation starts with; admins change them later.

Used by the data migration and by the test suite (to restore them after a flush), with
whatever model classes the caller passes, so the migration uses its historical models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

REASONS: dict[str, list[tuple[str, str, str]]] = {
    "disqualify": [
        ("spam", "Spam", "Спам"),
        ("not_our_service", "Not our service", "Не наша услуга"),
        ("budget_too_small", "Budget too small", "Слишком маленький бюджет"),
        ("no_authority", "No authority to decide", "Нет полномочий принимать решение"),
        ("no_need", "No real need", "Нет потребности"),
        ("duplicate", "Duplicate request", "Дубль заявки"),
        ("unreachable", "Could not reach", "Не удалось связаться"),
        ("job_seeker", "A job seeker or a vendor", "Соискатель или поставщик"),
    ],
    "return": [
        (
            "not_qualified",
            "Not qualified: BANT does not hold",
            "Не квалифицирован: BANT не подтвердился",
        ),
        ("wrong_answers", "The questionnaire is wrong", "Анкета заполнена неверно"),
        ("no_budget", "No budget after all", "Бюджета нет"),
        ("wrong_service", "Another service is needed", "Нужна другая услуга"),
        ("unreachable", "Could not reach the client", "Не удалось связаться с клиентом"),
        ("duplicate", "Already a client or in work", "Уже клиент или в работе"),
    ],
    "lost": [
        ("price", "Price", "Цена"),
        ("competitor", "Chose a competitor", "Выбрали конкурента"),
        ("no_budget", "No budget", "Нет бюджета"),
        ("no_response", "Stopped responding", "Перестал отвечать"),
        ("in_house", "Decided to do it in-house", "Решили делать своими силами"),
        ("postponed", "Postponed", "Отложили"),
    ],
}

NEEDS = [
    ("leads", "More leads and sales", "Больше заявок и продаж"),
    ("awareness", "Brand awareness", "Узнаваемость бренда"),
    ("new_site", "A new website", "Новый сайт"),
    ("traffic", "Search traffic", "Поисковый трафик"),
    ("cost_per_lead", "Lower cost per lead", "Снизить стоимость заявки"),
    ("analytics", "Understand what works", "Понять, что работает"),
    ("launch", "Launch a new product", "Запуск нового продукта"),
]


def _f(
    key: str, type_: str, en: str, ru: str, required: bool = False, **more: Any
) -> dict[str, Any]:
    return {
        "key": key,
        "type": type_,
        "label_en": en,
        "label_ru": ru,
        "required": required,
        "help_en": more.pop("help_en", ""),
        "help_ru": more.pop("help_ru", ""),
        **more,
    }


def _choices(*items: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"value": v, "label_en": en, "label_ru": ru} for v, en, ru in items]


# The common block the source describes: project type, region, audience, task, ad budget.
COMMON = [
    _f(
        "project_type",
        "choice",
        "Project type",
        "Тип проекта",
        True,
        choices=_choices(
            ("new", "A new project", "Новый проект"),
            ("existing", "An existing business", "Действующий бизнес"),
            ("relaunch", "A relaunch", "Перезапуск"),
        ),
    ),
    _f("region", "region", "Promotion region", "Регион продвижения", True),
    _f(
        "audience",
        "long_text",
        "Target audience",
        "Целевая аудитория",
        True,
        help_en="Who buys: B2B or B2C, industry, size.",
        help_ru="Кто покупает: B2B или B2C, отрасль, размер.",
    ),
    _f("task", "long_text", "The task for the agency", "Задача, поставленная агентству", True),
    _f("ad_budget", "money", "Advertising budget per month", "Рекламный бюджет в месяц", True),
]

BY_SERVICE: dict[str, list[dict[str, Any]]] = {
    "seo": [
        _f("site_url", "text", "Website", "Сайт", True),
        _f("site_age", "number", "Site age, years", "Возраст сайта, лет"),
        _f(
            "search_engines",
            "multi_choice",
            "Search engines",
            "Поисковые системы",
            True,
            choices=_choices(("yandex", "Yandex", "Яндекс"), ("google", "Google", "Google")),
        ),
        _f("had_sanctions", "yes_no", "Search engine penalties before", "Были санкции поисковиков"),
    ],
    "ppc": [
        _f(
            "platforms",
            "multi_choice",
            "Ad platforms",
            "Рекламные площадки",
            True,
            choices=_choices(
                ("yandex_direct", "Yandex Direct", "Яндекс Директ"),
                ("vk_ads", "VK Ads", "VK Реклама"),
                ("google_ads", "Google Ads", "Google Ads"),
            ),
        ),
        _f("target_cpl", "money", "Target cost per lead", "Целевая стоимость заявки", True),
        _f("running_now", "yes_no", "Ads running now", "Реклама уже запущена"),
    ],
    "smm": [
        _f(
            "networks",
            "multi_choice",
            "Social networks",
            "Соцсети",
            True,
            choices=_choices(
                ("vk", "VK", "ВКонтакте"),
                ("telegram", "Telegram", "Telegram"),
                ("ok", "Odnoklassniki", "Одноклассники"),
            ),
        ),
        _f("content_ready", "yes_no", "Has own content", "Есть свой контент"),
    ],
    "analytics": [
        _f("systems", "text", "Analytics in place", "Какая аналитика уже стоит", True),
        _f("crm", "text", "CRM in use", "Какая CRM используется"),
    ],
    "development": [
        _f(
            "site_kind",
            "choice",
            "Kind of site",
            "Тип сайта",
            True,
            choices=_choices(
                ("landing", "Landing page", "Лендинг"),
                ("corporate", "Corporate site", "Корпоративный сайт"),
                ("shop", "Online shop", "Интернет-магазин"),
            ),
        ),
        _f("deadline", "date", "Wanted by", "Желаемый срок запуска"),
    ],
}

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def install(
    reason_model: Any, need_model: Any, q_model: Any, v_model: Any, service_model: Any
) -> None:
    """Create what is missing; never changes what an admin has edited."""
    for kind, items in REASONS.items():
        for order, (code, en, ru) in enumerate(items):
            reason_model.objects.get_or_create(
                kind=kind, code=code, defaults={"name_en": en, "name_ru": ru, "order": order}
            )
    for order, (code, en, ru) in enumerate(NEEDS):
        need_model.objects.get_or_create(
            code=code, defaults={"name_en": en, "name_ru": ru, "order": order}
        )
    common, _ = q_model.objects.get_or_create(common=True, service=None)
    if not v_model.objects.filter(questionnaire=common).exists():
        v_model.objects.create(questionnaire=common, number=1, fields=COMMON, created_at=EPOCH)
    for code, fields in BY_SERVICE.items():
        service = service_model.objects.filter(code=code).first()
        if service is None:
            continue
        q, _ = q_model.objects.get_or_create(service=service, defaults={"common": False})
        if not v_model.objects.filter(questionnaire=q).exists():
            v_model.objects.create(questionnaire=q, number=1, fields=fields, created_at=EPOCH)


def install_now() -> None:
    from leadrelay.catalog.models import Service
    from leadrelay.qualify.models import (
        NeedCategory,
        Questionnaire,
        QuestionnaireVersion,
        ReasonCode,
    )

    install(ReasonCode, NeedCategory, Questionnaire, QuestionnaireVersion, Service)
