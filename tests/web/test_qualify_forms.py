"""BANT and the questionnaires on the lead page: each saved whole through the domain,
a wrong value a field error with nothing saved, answers kept against the version opened."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.qualify.answers import publish
from leadrelay.qualify.models import Answers, Bant, Questionnaire, QuestionnaireVersion
from tests.factories import walk
from tests.web.helpers import state_of

HTMX = {"HX-Request": "true"}

ALL_TYPES: list[dict[str, Any]] = [
    {"key": "brand", "type": "text", "label_en": "Brand", "label_ru": "Бренд", "required": True},
    {
        "key": "story",
        "type": "long_text",
        "label_en": "Story",
        "label_ru": "История",
        "help_en": "In the client's words.",
        "help_ru": "Словами клиента.",
    },
    {"key": "shops", "type": "number", "label_en": "Shops", "label_ru": "Магазинов"},
    {"key": "spend", "type": "money", "label_en": "Spend", "label_ru": "Расход"},
    {
        "key": "size",
        "type": "choice",
        "label_en": "Size",
        "label_ru": "Размер",
        "choices": [
            {"value": "small", "label_en": "Small", "label_ru": "Малый"},
            {"value": "big", "label_en": "Big", "label_ru": "Крупный"},
        ],
    },
    {
        "key": "tier",
        "type": "choice",
        "label_en": "Tier",
        "label_ru": "Уровень",
        "choices": [
            {"value": f"t{i}", "label_en": f"Tier {i}", "label_ru": f"Уровень {i}"}
            for i in range(6)
        ],
    },
    {
        "key": "channels",
        "type": "multi_choice",
        "label_en": "Channels",
        "label_ru": "Каналы",
        "choices": [
            {"value": "seo", "label_en": "Search", "label_ru": "Поиск"},
            {"value": "ads", "label_en": "Ads", "label_ru": "Реклама"},
        ],
    },
    {"key": "start", "type": "date", "label_en": "Start", "label_ru": "Старт"},
    {"key": "has_site", "type": "yes_no", "label_en": "Has a site", "label_ru": "Есть сайт"},
    {"key": "where", "type": "region", "label_en": "Region", "label_ru": "Регион"},
]

GOOD = {
    "a-brand": "Ромашка",
    "a-story": "Продаём цветы",
    "a-shops": "12",
    "a-spend__amount": "150 000,50",
    "a-spend__currency": "RUB",
    "a-size": "big",
    "a-tier": "t3",
    "a-channels": ["seo", "ads"],
    "a-start": "2027-01-15",
    "a-has_site": "yes",
    "a-where": "Казань",
}


@pytest.fixture
def audit(db: None, cast: dict[str, User]) -> Questionnaire:
    """A service whose questionnaire has one question of every type."""
    service = Service.objects.create(code="audit", name_en="Audit", name_ru="Аудит")
    questionnaire = Questionnaire.objects.create(service=service)
    publish(questionnaire, ALL_TYPES, cast["admin"])
    return questionnaire


def claimed(make_lead: Callable[..., Lead], cast: dict[str, User], **fields: Any) -> Lead:
    return walk(make_lead(**fields), cast["sdr"], "sdr_processing")


def part(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start : html.index("</section>", start)]


# BANT ------------------------------------------------------------------------------------

BANT = {
    "budget_amount": "500000",
    "currency": "RUB",
    "authority_role": "Директор по маркетингу",
    "decision_maker": "yes",
    "need": "leads",
    "need_text": "Нужны заявки из поиска",
    "timeframe_date": "",
    "timeframe_band": "month",
}


def test_the_sdr_saves_bant_and_sales_will_read_it(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claimed(make_lead, cast)
    client = client_for(cast["sdr"])
    response = client.post(f"/leads/{lead.pk}/bant/", BANT)
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.pk}/#bant"
    bant = Bant.objects.get(lead=lead)
    assert bant.budget_amount == Decimal("500000") and bant.decision_maker is True
    assert bant.need is not None and bant.need.code == "leads"
    assert (bant.timeframe_band, bant.updated_by) == ("month", cast["sdr"])
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.QUALIFICATION)
    assert event.data["bant"] is True
    page = client.get(f"/leads/{lead.pk}/").text
    assert "BANT saved." in page
    form = part(page, "bant")
    assert 'name="budget_amount" value="500000"' in form
    assert '<option value="leads" selected>More leads and sales</option>' in form
    assert '<input type="radio" name="decision_maker" value="yes" checked>' in form
    summary = part(page, "qualification-summary")
    assert "500\u00a0000.00 RUB" in summary and "Директор по маркетингу, decides" in summary
    assert "Within a month" in summary


def test_bant_in_place_redraws_its_card_and_the_checklist(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claimed(make_lead, cast)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/bant/", BANT, headers={**HTMX, "HX-Target": "bant"}
    )
    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<section class="card qualify-card" id="bant"')
    assert "BANT saved." in html
    # Out of band: the checklist has lost its BANT items, the summary and history have it.
    panel = part(html, "handoff-panel")
    assert 'hx-swap-oob="true"' in panel[:200] and 'data-field="bant.budget"' not in panel
    assert 'id="qualification-summary" aria-labelledby="summary-title" hx-swap-oob' in html
    assert "questionnaire-common-form" not in html  # the questionnaire's typing is left alone


@pytest.mark.parametrize("headers", [{}, {**HTMX, "HX-Target": "bant"}])
def test_bant_with_wrong_values_shows_each_error_by_its_field_and_saves_nothing(
    headers: dict[str, str],
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast)
    before = state_of(lead)
    bad = {
        **BANT,
        "budget_amount": "полмиллиона",
        "decision_maker": "maybe",
        "need": "world_peace",
        "timeframe_date": "2027-13-45",
    }
    response = client_for(cast["sdr"]).post(f"/leads/{lead.pk}/bant/", bad, headers=headers)
    assert response.status_code == 422
    html = response.text
    for field, message in (
        ("budget_amount", "Enter a number."),
        ("decision_maker", "Answer yes or no."),
        ("need", "Choose one of the options."),
        ("timeframe_date", "Enter a date as YYYY-MM-DD."),
    ):
        assert f'<p class="field-error" id="bant-{field}-error">{message}</p>' in html, field
    # What was typed stays, and nothing was saved.
    assert 'name="budget_amount" value="полмиллиона"' in html
    assert 'value="2027-13-45"' in html
    assert "Some answers are not valid; nothing was saved." in html
    assert not Bant.objects.filter(lead=lead).exists()
    assert state_of(lead) == before


def test_a_refused_bant_leaves_the_saved_one_as_it_was(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claimed(make_lead, cast)
    client = client_for(cast["sdr"])
    client.post(f"/leads/{lead.pk}/bant/", BANT)
    response = client.post(f"/leads/{lead.pk}/bant/", {**BANT, "currency": "DOGE"})
    assert response.status_code == 422 and "Choose a currency." in response.text
    assert Bant.objects.get(lead=lead).currency == "RUB"
    assert LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.QUALIFICATION).count() == 1


def test_sales_cannot_edit_bant_once_the_request_left_the_sdr(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(claimed(make_lead, cast), cast["sdr"], "awaiting_assignment")
    bant = Bant.objects.get(lead=lead)
    client = client_for(cast["sales"])
    page = client.get(f"/leads/{lead.pk}/").text
    assert 'id="bant-form"' not in page and 'id="questionnaire-common-form"' not in page
    response = client.post(f"/leads/{lead.pk}/bant/", {**BANT, "budget_amount": "1"})
    assert response.status_code == 403
    assert "The questionnaire is closed once the request leaves the SDR." in response.text
    assert Bant.objects.get(lead=lead).budget_amount == bant.budget_amount


def test_an_sdr_must_claim_before_filling_bant(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    response = client_for(cast["sdr"]).post(f"/leads/{lead.pk}/bant/", BANT)
    assert response.status_code == 403
    assert "Claim the request first" in response.text
    assert not Bant.objects.filter(lead=lead).exists()


def test_another_sdrs_request_is_a_404_for_bant_and_answers(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claimed(make_lead, cast, service=Service.objects.get(code="seo"))
    version = Questionnaire.objects.get(common=True).current()
    assert version is not None
    client = client_for(cast["sdr2"])
    assert client.post(f"/leads/{lead.pk}/bant/", BANT).status_code == 404
    response = client.post(
        f"/leads/{lead.pk}/answers/", {"version_id": version.pk, "a-region": "Москва"}
    )
    assert response.status_code == 404
    assert not Bant.objects.filter(lead=lead).exists()
    assert not Answers.objects.filter(lead=lead).exists()


# Questionnaires ----------------------------------------------------------------------------


def test_each_field_type_is_rendered_with_its_own_input(
    audit: Questionnaire,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast, service=audit.service)
    version = audit.current()
    assert version is not None
    page = client_for(cast["sdr"]).get(f"/leads/{lead.pk}/").text
    # The common block first, then the service's questionnaire.
    assert page.index('id="questionnaire-common"') < page.index('id="questionnaire-audit"')
    form = part(page, "questionnaire-audit")
    assert "Questionnaire: Audit" in form and "version 1" in form
    assert f'<input type="hidden" name="version_id" value="{version.pk}">' in form
    assert re.search(r'<input id="audit-brand" name="a-brand" value="" [^>]*type="text"', form)
    assert re.search(r"Brand <abbr class=\"req\"", form)  # required mark
    assert '<textarea id="audit-story" name="a-story"' in form
    assert '<p class="help" id="audit-story-help">In the client&#x27;s words.</p>' in form
    assert re.search(r'id="audit-shops" name="a-shops"[^>]*inputmode="decimal"', form)
    assert 'name="a-spend__amount"' in form and 'name="a-spend__currency"' in form
    assert '<input type="radio" name="a-size" value="big"> Big' in form  # two: radios
    assert '<select id="audit-tier" name="a-tier"' in form  # six: a list
    assert '<input type="checkbox" name="a-channels" value="ads"> Ads' in form
    assert re.search(r'id="audit-start" name="a-start" value="" [^>]*type="date"', form)
    assert '<input type="radio" name="a-has_site" value="yes"> Yes' in form
    assert re.search(r'id="audit-where" name="a-where"[^>]*list="regions"', form)
    assert '<datalist id="regions"><option value="Moscow">' in page


def test_answers_are_saved_typed_and_read_back_by_sales(
    audit: Questionnaire,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast, service=audit.service)
    version = audit.current()
    assert version is not None
    client = client_for(cast["sdr"])
    response = client.post(f"/leads/{lead.pk}/answers/", {"version_id": version.pk, **GOOD})
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/#questionnaire-audit"
    answers = Answers.objects.get(lead=lead, questionnaire=audit)
    assert answers.version == version
    assert answers.values == {
        "brand": "Ромашка",
        "story": "Продаём цветы",
        "shops": "12",
        "spend": {"amount": "150000.50", "currency": "RUB"},
        "size": "big",
        "tier": "t3",
        "channels": ["seo", "ads"],
        "start": "2027-01-15",
        "has_site": True,
        "where": "Казань",
    }
    page = client.get(f"/leads/{lead.pk}/").text
    assert "Answers saved (questionnaire version 1)." in page
    form = part(page, "questionnaire-audit")
    assert '<input type="checkbox" name="a-channels" value="seo" checked>' in form
    assert '<option value="t3" selected>Tier 3</option>' in form
    assert '<input type="radio" name="a-has_site" value="yes" checked>' in form
    summary = part(page, "qualification-summary")
    assert 'Audit <span class="muted small">version 1</span>' in summary
    for shown in ("Big", "Search, Ads", "15.01.2027", "150\u00a0000.50 RUB", "Казань", "Yes"):
        assert shown in summary, shown


@pytest.mark.parametrize("headers", [{}, {**HTMX, "HX-Target": "questionnaire-audit"}])
def test_an_answer_of_the_wrong_type_is_a_field_error_and_nothing_is_saved(
    headers: dict[str, str],
    audit: Questionnaire,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast, service=audit.service)
    version = audit.current()
    assert version is not None
    before = state_of(lead)
    bad = {
        **GOOD,
        "a-shops": "много",
        "a-start": "31.02.2027",
        "a-spend__amount": "дорого",
        "a-size": "huge",
    }
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/answers/", {"version_id": version.pk, **bad}, headers=headers
    )
    assert response.status_code == 422
    html = response.text
    for key, message in (
        ("shops", "Enter a number."),
        ("start", "Enter a date as YYYY-MM-DD."),
        ("spend", "Enter a number."),
        ("size", "Choose one of the options."),
    ):
        assert f'<p class="field-error" id="audit-{key}-error">{message}</p>' in html, key
    assert 'value="много"' in html and 'value="31.02.2027"' in html
    assert 'id="audit-brand" name="a-brand" value="Ромашка"' in html
    assert not Answers.objects.filter(lead=lead).exists()
    assert state_of(lead) == before
    if headers:
        assert html.lstrip().startswith(
            '<section class="card qualify-card" id="questionnaire-audit"'
        )


def test_answers_are_saved_against_the_version_the_sdr_opened(
    audit: Questionnaire,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast, service=audit.service)
    client = client_for(cast["sdr"])
    page = client.get(f"/leads/{lead.pk}/").text
    opened = int(
        re.search(
            r'<input type="hidden" name="version_id" value="(\d+)">',
            part(page, "questionnaire-audit"),
        ).group(1)  # type: ignore[union-attr]
    )
    # Meanwhile an admin publishes version 2: "shops" is now a required yes/no question.
    changed = [dict(f) for f in ALL_TYPES]
    changed[2] = {"key": "shops", "type": "yes_no", "label_en": "Shops?", "required": True}
    v2 = publish(audit, changed, cast["admin"])
    assert v2.number == 2 and v2.pk != opened
    response = client.post(f"/leads/{lead.pk}/answers/", {"version_id": opened, **GOOD})
    assert response.status_code == 302
    answers = Answers.objects.get(lead=lead, questionnaire=audit)
    assert answers.version_id == opened and answers.values["shops"] == "12"
    event = LeadEvent.objects.get(lead=lead, kind=LeadEvent.Kind.QUALIFICATION)
    assert event.data["version"] == 1
    # The lead keeps version 1: its form, its summary and the hand-off checklist.
    page = client.get(f"/leads/{lead.pk}/").text
    form = part(page, "questionnaire-audit")
    assert f'name="version_id" value="{opened}"' in form and "version 1" in form
    assert "version 2 has been published since" in form
    assert 'name="a-shops" value="12"' in form
    assert 'data-field="answers.shops"' not in part(page, "handoff-panel")


def test_a_refused_save_is_shown_again_against_the_version_posted(
    audit: Questionnaire,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast, service=audit.service)
    v1 = audit.current()
    assert v1 is not None
    publish(audit, [*ALL_TYPES, {"key": "late", "type": "text", "label_en": "Late"}], None)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/answers/", {"version_id": v1.pk, **GOOD, "a-shops": "x"}
    )
    assert response.status_code == 422
    form = part(response.text, "questionnaire-audit")
    # The form comes back as the SDR had it, version 1, so the next save goes there too.
    assert f'name="version_id" value="{v1.pk}"' in form and "version 1" in form
    assert 'name="a-late"' not in form


def test_a_version_of_another_questionnaire_is_refused(
    audit: Questionnaire,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast, service=Service.objects.get(code="seo"))
    version = audit.current()
    assert version is not None
    client = client_for(cast["sdr"])
    for version_id in (str(version.pk), "abc", "", "99999999"):
        response = client.post(
            f"/leads/{lead.pk}/answers/", {"version_id": version_id, "a-brand": "x"}
        )
        assert response.status_code == 422, version_id
        assert "This questionnaire does not apply to the lead&#x27;s service." in response.text
    assert not Answers.objects.filter(lead=lead).exists()


def test_sales_cannot_edit_the_questionnaire(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claimed(make_lead, cast, service=Service.objects.get(code="seo"))
    lead = walk(lead, cast["sdr"], "awaiting_assignment")
    answers = Answers.objects.get(lead=lead, questionnaire__common=True)
    response = client_for(cast["sales"]).post(
        f"/leads/{lead.pk}/answers/", {"version_id": answers.version_id, "a-region": "Тула"}
    )
    assert response.status_code == 403
    answers.refresh_from_db()
    assert answers.values["region"] == "Москва"


def test_the_questionnaire_speaks_russian_on_a_russian_page(
    audit: Questionnaire,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast, service=audit.service)
    version = audit.current()
    assert version is not None
    client = client_for(cast["sdr"], "ru")
    client.post(f"/leads/{lead.pk}/answers/", {"version_id": version.pk, **GOOD})
    page = client.get(f"/leads/{lead.pk}/").text
    form = part(page, "questionnaire-audit")
    for text in ("Бренд", "Словами клиента.", "Крупный", "Уровень 3", "Поиск", "Есть сайт"):
        assert text in form, text
    assert '<datalist id="regions"><option value="Москва">' in page
    summary = part(page, "qualification-summary")
    assert "Аудит" in summary and "Крупный" in summary and "Поиск, Реклама" in summary
    assert "Тип проекта" in part(page, "questionnaire-common")
    assert date(2027, 1, 15).strftime("%d.%m.%Y") in summary
    assert QuestionnaireVersion.objects.filter(questionnaire=audit).count() == 1
