"""The pre-sale briefs a new installation starts with, one per seeded service, and the
brief a service without its own template uses. Heads of sales edit them later.

Used by the data migration and by the test suite (to restore them after a flush), with
whatever model classes the caller passes, so the migration uses its historical models.
The fields are in the questionnaire format (``qualify.fields``).
"""

from __future__ import annotations

from typing import Any

from leadrelay.qualify.defaults import _choices, _f

# For a service nobody has written a brief for yet: what any proposal needs.
GENERIC: list[dict[str, Any]] = [
    _f("goals", "long_text", "What the project must achieve", "Чего должен достичь проект", True),
    _f(
        "success",
        "long_text",
        "How you will judge the result",
        "Как вы оцените результат",
        help_en="Numbers if you have them: leads, sales, traffic.",
        help_ru="Цифры, если есть: заявки, продажи, трафик.",
    ),
    _f("budget", "money", "Budget per month", "Бюджет в месяц", True),
    _f("start", "date", "When to start", "Когда начать"),
    _f("deciders", "text", "Who decides on the proposal", "Кто принимает решение по КП"),
    _f(
        "constraints",
        "long_text",
        "Limits we should know about",
        "Ограничения, о которых стоит знать",
    ),
]

_BUDGET = _f("budget", "money", "Budget per month", "Бюджет в месяц", True)

BY_SERVICE: dict[str, list[dict[str, Any]]] = {
    "seo": [
        _f(
            "goal",
            "choice",
            "The main goal",
            "Главная цель",
            True,
            choices=_choices(
                ("traffic", "More search traffic", "Больше поискового трафика"),
                ("leads", "More leads from search", "Больше заявок из поиска"),
                ("reputation", "Reputation in search", "Репутация в поиске"),
            ),
        ),
        _f(
            "queries",
            "long_text",
            "Queries you want to rank for",
            "Запросы, по которым хотите быть в топе",
            True,
        ),
        _f("competitors", "long_text", "Competitors' sites", "Сайты конкурентов"),
        _f("cms", "text", "The site's CMS", "CMS сайта"),
        _f(
            "site_edits",
            "choice",
            "Who changes the site",
            "Кто вносит правки на сайт",
            choices=_choices(
                ("in_house", "Our own developer", "Свой разработчик"),
                ("contractor", "A contractor", "Подрядчик"),
                ("nobody", "Nobody yet", "Пока никто"),
            ),
        ),
        _f(
            "analytics_access",
            "yes_no",
            "Can give access to analytics",
            "Можете дать доступ к аналитике",
        ),
        _BUDGET,
    ],
    "ppc": [
        _f("offer", "long_text", "What you advertise", "Что рекламируем", True),
        _f("geo", "region", "Where to show the ads", "Где показывать рекламу", True),
        _BUDGET,
        _f("target_cpl", "money", "Acceptable cost per lead", "Допустимая стоимость заявки"),
        _f(
            "conversions",
            "multi_choice",
            "What counts as a lead",
            "Что считаем заявкой",
            True,
            choices=_choices(
                ("calls", "Calls", "Звонки"),
                ("forms", "Site forms", "Формы на сайте"),
                ("orders", "Orders", "Заказы"),
                ("messengers", "Messengers", "Мессенджеры"),
            ),
        ),
        _f("history", "long_text", "Campaigns run before", "Какая реклама уже была"),
        _f("start", "date", "When to launch", "Когда запускаем"),
    ],
    "smm": [
        _f(
            "audience",
            "long_text",
            "Who your followers should be",
            "Кто должен стать подписчиками",
            True,
        ),
        _f(
            "goals",
            "multi_choice",
            "Goals",
            "Цели",
            True,
            choices=_choices(
                ("awareness", "Brand awareness", "Узнаваемость"),
                ("sales", "Sales", "Продажи"),
                ("community", "A community", "Сообщество"),
                ("support", "Customer care", "Поддержка клиентов"),
            ),
        ),
        _f("voice", "long_text", "How the brand speaks", "Как говорит бренд"),
        _f(
            "frequency",
            "choice",
            "Posts per week",
            "Публикаций в неделю",
            choices=_choices(
                ("1_2", "1–2", "1–2"), ("3_5", "3–5", "3–5"), ("daily", "Daily", "Каждый день")
            ),
        ),
        _f(
            "content",
            "choice",
            "Who makes the photos and videos",
            "Кто делает фото и видео",
            choices=_choices(
                ("client", "We do", "Мы сами"),
                ("agency", "The agency", "Агентство"),
                ("both", "Both", "Вместе"),
            ),
        ),
        _f("references", "long_text", "Accounts you like", "Аккаунты, которые вам нравятся"),
        _BUDGET,
    ],
    "analytics": [
        _f(
            "questions",
            "long_text",
            "What the numbers must answer",
            "На какие вопросы должны ответить цифры",
            True,
        ),
        _f(
            "systems",
            "multi_choice",
            "Systems in place",
            "Что уже установлено",
            choices=_choices(
                ("metrica", "Yandex Metrica", "Яндекс Метрика"),
                ("ga4", "Google Analytics 4", "Google Analytics 4"),
                ("calltracking", "Call tracking", "Коллтрекинг"),
                ("bi", "A BI tool", "BI-система"),
            ),
        ),
        _f("crm", "text", "CRM", "CRM", True),
        _f("conversions", "long_text", "Key conversions", "Ключевые конверсии"),
        _f("reports", "long_text", "Reports you need", "Какие отчёты нужны"),
        _f("deadline", "date", "Needed by", "К какому сроку"),
        _BUDGET,
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
                ("portal", "Portal or service", "Портал или сервис"),
            ),
        ),
        _f("pages", "number", "About how many pages", "Примерно сколько страниц"),
        _f(
            "references",
            "long_text",
            "Sites you like, and why",
            "Сайты, которые нравятся, и чем",
            True,
        ),
        _f(
            "design",
            "choice",
            "Design",
            "Дизайн",
            choices=_choices(
                ("ready", "We have a design", "Дизайн есть"),
                ("brandbook", "We have a brand book", "Есть брендбук"),
                ("needed", "A design is needed", "Нужен дизайн"),
            ),
        ),
        _f(
            "integrations",
            "multi_choice",
            "Integrations",
            "Интеграции",
            choices=_choices(
                ("crm", "CRM", "CRM"),
                ("payments", "Online payments", "Онлайн-оплата"),
                ("1c", "1C", "1С"),
                ("delivery", "Delivery services", "Службы доставки"),
            ),
        ),
        _f("content_ready", "yes_no", "Texts and photos are ready", "Тексты и фото готовы"),
        _f("launch", "date", "Wanted launch date", "Желаемая дата запуска"),
        _f("budget", "money", "Budget for the project", "Бюджет проекта", True),
    ],
}


def install(template_model: Any, service_model: Any) -> None:
    """Give each seeded service its brief if it has none; never changes an edited one."""
    for code, fields in BY_SERVICE.items():
        service = service_model.objects.filter(code=code).first()
        if service is not None:
            template_model.objects.get_or_create(service=service, defaults={"fields": fields})


def install_now() -> None:
    from leadrelay.catalog.models import Service
    from leadrelay.presale.models import BriefTemplate

    install(BriefTemplate, Service)
