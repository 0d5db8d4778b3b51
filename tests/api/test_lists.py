"""The lists a client needs to fill the forms: questionnaires, reason codes, needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.qualify.answers import publish
from leadrelay.qualify.models import NeedCategory, Questionnaire, ReasonCode

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]


def test_questionnaires_are_listed_with_their_current_version(
    cast: dict[str, User], api_client: ClientFor, django_assert_max_num_queries: Any
) -> None:
    seo = Questionnaire.objects.get(service__code="seo")
    v1 = seo.current()
    assert v1 is not None
    v2 = publish(seo, [*v1.fields, {"key": "cms", "type": "text", "label_en": "CMS"}], None)
    client = api_client(cast["sdr"])
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/questionnaires", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    listed = response.json()
    assert listed[0]["common"] is True and listed[0]["service"] is None
    assert listed[0]["name"] == "Common block"
    assert {q["service"] for q in listed[1:]} == {
        "seo",
        "ppc",
        "smm",
        "analytics",
        "development",
    }
    shown = next(q for q in listed if q["service"] == "seo")
    assert (shown["id"], shown["name"]) == (seo.pk, "SEO")
    assert (shown["version"]["id"], shown["version"]["number"]) == (v2.pk, 2)
    assert shown["version"]["fields"][-1]["key"] == "cms"


def test_reason_codes_are_listed_by_kind_with_both_names(
    cast: dict[str, User], api_client: ClientFor
) -> None:
    ReasonCode.objects.filter(kind="disqualify", code="job_seeker").update(active=False)
    client = api_client(cast["sdr"])
    response = client.get("/api/v1/reason-codes", {"kind": "disqualify"})
    assert response.status_code == 200
    codes = response.json()
    assert codes[0] == {"kind": "disqualify", "code": "spam", "name_en": "Spam", "name_ru": "Спам"}
    assert "job_seeker" not in {c["code"] for c in codes}
    assert {c["kind"] for c in codes} == {"disqualify"}
    everything = client.get("/api/v1/reason-codes").json()
    assert {c["kind"] for c in everything} == {"disqualify", "return", "lost"}
    assert len(everything) == ReasonCode.objects.filter(active=True).count()


def test_an_unknown_kind_of_reason_code_is_422(
    cast: dict[str, User], api_client: ClientFor
) -> None:
    response = api_client(cast["sdr"]).get("/api/v1/reason-codes", {"kind": "whim"})
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


def test_needs_are_listed_in_order_active_only(
    cast: dict[str, User], api_client: ClientFor
) -> None:
    NeedCategory.objects.filter(code="launch").update(active=False)
    needs = api_client(cast["sales"]).get("/api/v1/needs").json()
    assert needs[0] == {
        "code": "leads",
        "name_en": "More leads and sales",
        "name_ru": "Больше заявок и продаж",
    }
    assert "launch" not in {n["code"] for n in needs}


@pytest.mark.parametrize(
    "path", ["/api/v1/questionnaires", "/api/v1/reason-codes", "/api/v1/needs"]
)
def test_the_lists_need_a_token(path: str) -> None:
    response = Client().get(path)
    assert (response.status_code, response.json()["code"]) == (401, "unauthorized")
