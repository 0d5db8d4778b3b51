"""/settings/briefs/: the head of sales edits each service's brief, its link's validity and
its demo policy; a wrong definition is refused with its errors and nothing saved."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils.html import escape
from pytest_django import DjangoAssertNumQueries

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.presale.models import BriefTemplate, DemoPolicy

pytestmark = pytest.mark.django_db

QUESTIONS: list[dict[str, Any]] = [
    {"key": "goal", "type": "long_text", "label_en": "Goal", "label_ru": "Цель", "required": True},
    {
        "key": "size",
        "type": "choice",
        "label_en": "Size",
        "label_ru": "Размер",
        "choices": [{"value": "s", "label_en": "Small", "label_ru": "Малый"}],
    },
]


def test_the_page_lists_every_service_with_its_questions(
    cast: dict[str, User],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    client = client_for(cast["head_sales"])
    with django_assert_max_num_queries(8):
        response = client.get("/settings/briefs/")
    assert response.status_code == 200
    html = response.content.decode()
    for service in Service.objects.all():
        assert f'id="service-{service.code}"' in html
    assert "The main goal" in html
    assert 'name="demo_required"' in html


def test_saving_a_brief_and_the_demo_policy(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    seo = Service.objects.get(code="seo")
    response = client_for(cast["admin"]).post(
        f"/settings/briefs/{seo.pk}/",
        {"fields": json.dumps(QUESTIONS), "link_days": "7", "demo_required": "on"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/briefs/#service-seo"
    template = BriefTemplate.objects.get(service=seo)
    assert [f["key"] for f in template.fields] == ["goal", "size"]
    assert template.link_days == 7
    assert DemoPolicy.objects.get(service=seo).demo_required
    client_for(cast["admin"]).post(
        f"/settings/briefs/{seo.pk}/", {"fields": json.dumps(QUESTIONS), "link_days": "7"}
    )
    assert not DemoPolicy.objects.get(service=seo).demo_required


@pytest.mark.parametrize(
    ("fields", "days", "message"),
    [
        ("[{", "14", "Not valid JSON"),
        ('{"key": "x"}', "14", "a JSON list of objects"),
        (json.dumps([{**QUESTIONS[0], "key": "Bad Key"}]), "14", "lower-case Latin letters"),
        (json.dumps([{**QUESTIONS[1], "choices": []}]), "14", "at least one option"),
        (json.dumps([{**QUESTIONS[0], "type": "colour"}]), "14", "Unknown field type"),
        (json.dumps(QUESTIONS), "0", "1 to 365 days"),
        (json.dumps(QUESTIONS), "many", "1 to 365 days"),
    ],
)
def test_a_wrong_brief_is_refused_with_its_errors(
    cast: dict[str, User],
    client_for: Callable[..., Client],
    fields: str,
    days: str,
    message: str,
) -> None:
    seo = Service.objects.get(code="seo")
    before = BriefTemplate.objects.get(service=seo)
    response = client_for(cast["head_sales"]).post(
        f"/settings/briefs/{seo.pk}/", {"fields": fields, "link_days": days, "demo_required": "on"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert message in html
    # What was typed is shown again for correction.
    assert escape(fields) + "</textarea>" in html
    after = BriefTemplate.objects.get(service=seo)
    assert (after.fields, after.link_days) == (before.fields, before.link_days)
    assert not DemoPolicy.objects.filter(service=seo).exists()


@pytest.mark.parametrize("role", ["sales", "sdr", "head_marketing"])
def test_only_the_head_of_sales_and_admins_edit_briefs(
    cast: dict[str, User], client_for: Callable[..., Client], role: str
) -> None:
    seo = Service.objects.get(code="seo")
    client = client_for(cast[role])
    assert client.get("/settings/briefs/").status_code == 403
    response = client.post(
        f"/settings/briefs/{seo.pk}/", {"fields": json.dumps(QUESTIONS), "link_days": "7"}
    )
    assert response.status_code == 403
    assert BriefTemplate.objects.get(service=seo).link_days == 14
