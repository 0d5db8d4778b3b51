"""BANT and questionnaire answers through the API: read, saved whole or not at all.

A wrong value is a 422 naming each field with nothing saved; answers are stored against
the version the SDR opened, whatever was published meanwhile; only the request's SDR (or
the head of marketing) writes them, and only while the request is on the SDR side.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.qualify.answers import publish
from leadrelay.qualify.models import Answers, Bant, Questionnaire
from tests.factories import qualify, walk

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
MakeLead = Callable[..., Lead]
Cast = dict[str, User]

GOOD_BANT = {
    "budget_amount": "500000",
    "currency": "rub",
    "authority_role": "Директор по маркетингу",
    "decision_maker": True,
    "need": "leads",
    "need_text": "Больше заявок из Яндекса",
    "timeframe_band": "month",
}
GOOD_COMMON = {
    "project_type": "existing",
    "region": "Москва",
    "audience": "B2B, производство",
    "task": "Заявки из поиска",
    "ad_budget": {"amount": "150000", "currency": "RUB"},
}


@pytest.fixture
def seo_lead(cast: Cast, make_lead: MakeLead) -> Lead:
    """A request for SEO that the SDR has claimed."""
    return walk(make_lead(service=Service.objects.get(code="seo")), cast["sdr"], "sdr_processing")


def get(client: Client, lead: Lead) -> Response:
    return client.get(f"/api/v1/leads/{lead.pk}/qualification", HTTP_ACCEPT_LANGUAGE="en")


def put_bant(client: Client, lead: Lead, body: Any) -> Response:
    return client.put(f"/api/v1/leads/{lead.pk}/bant", body, content_type="application/json")


def put_answers(client: Client, lead: Lead, version_id: int, values: Any) -> Response:
    return client.put(
        f"/api/v1/leads/{lead.pk}/answers/{version_id}",
        {"values": values},
        content_type="application/json",
    )


def versions(client: Client, lead: Lead) -> dict[str, int]:
    """Version ids by questionnaire: ``common`` and the service's code."""
    data = get(client, lead).json()
    return {q["service"] or "common": q["version"]["id"] for q in data["questionnaires"]}


def events(lead: Lead) -> int:
    return LeadEvent.objects.filter(lead=lead).count()


def test_a_fresh_request_shows_its_questionnaires_and_everything_missing(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    response = get(api_client(cast["sdr"]), seo_lead)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["bant"] is None
    common, seo = data["questionnaires"]
    assert (common["common"], common["service"]) == (True, None)
    assert (seo["common"], seo["service"]) == (False, "seo")
    for q in (common, seo):
        assert q["answers"] is None and q["answered_version"] is None
        assert q["version"]["number"] == 1
        assert q["id"] == Questionnaire.objects.get(versions__pk=q["version"]["id"]).pk
    keys = [f["key"] for f in seo["version"]["fields"]]
    assert keys == ["site_url", "site_age", "search_engines", "had_sanctions"]
    engines = seo["version"]["fields"][2]
    assert engines["type"] == "multi_choice" and engines["required"] is True
    assert [c["value"] for c in engines["choices"]] == ["yandex", "google"]
    assert engines["label_ru"] == "Поисковые системы"
    assert seo["version"]["fields"][0]["choices"] == []
    missing = [m["field"] for m in data["missing"]]
    assert missing[:4] == ["bant.budget", "bant.authority", "bant.need", "bant.timeframe"]
    assert "answers.search_engines" in missing


def test_bant_is_saved_and_read_back(cast: Cast, api_client: ClientFor, seo_lead: Lead) -> None:
    client = api_client(cast["sdr"])
    response = put_bant(client, seo_lead, GOOD_BANT)
    assert response.status_code == 200, response.content
    bant = response.json()["bant"]
    assert Decimal(bant["budget_amount"]) == Decimal("500000")
    assert (bant["currency"], bant["need"], bant["decision_maker"]) == ("RUB", "leads", True)
    assert (bant["timeframe_band"], bant["timeframe_date"]) == ("month", None)
    assert not [m for m in response.json()["missing"] if m["field"].startswith("bant.")]
    event = LeadEvent.objects.filter(lead=seo_lead, kind="qualification").get()
    assert event.actor == cast["sdr"] and event.data["bant"] is True


def test_a_put_replaces_the_bant_so_a_field_left_out_is_cleared(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    client = api_client(cast["sdr"])
    assert put_bant(client, seo_lead, GOOD_BANT).status_code == 200
    body = {k: v for k, v in GOOD_BANT.items() if k != "need_text"}
    bant = put_bant(client, seo_lead, body).json()["bant"]
    assert bant["need_text"] == "" and bant["need"] == "leads"


def test_saving_the_same_bant_twice_records_it_once(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    client = api_client(cast["sdr"])
    assert put_bant(client, seo_lead, GOOD_BANT).status_code == 200
    assert put_bant(client, seo_lead, GOOD_BANT).status_code == 200
    assert LeadEvent.objects.filter(lead=seo_lead, kind="qualification").count() == 1


BAD_BANT = {
    "budget_amount": "a lot",
    "budget_band": "huge",
    "currency": "XXX",
    "authority_role": 5,
    "decision_maker": "maybe",
    "need": "world_peace",
    "need_text": ["list"],
    "timeframe_date": "tomorrow",
    "timeframe_band": "someday",
    "surprise": 1,
}


@pytest.mark.parametrize("field", list(BAD_BANT))
def test_a_wrong_bant_value_is_422_naming_the_field_and_nothing_is_saved(
    cast: Cast, api_client: ClientFor, seo_lead: Lead, field: str
) -> None:
    client = api_client(cast["sdr"])
    assert put_bant(client, seo_lead, GOOD_BANT).status_code == 200
    before, count = dict(Bant.objects.filter(lead=seo_lead).values().get()), events(seo_lead)
    response = put_bant(client, seo_lead, {**GOOD_BANT, field: BAD_BANT[field]})
    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] == "invalid" and error["message"]
    assert list(error["errors"]) == [field]
    assert dict(Bant.objects.filter(lead=seo_lead).values().get()) == before
    assert events(seo_lead) == count


def test_every_wrong_bant_value_is_named_at_once(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    response = put_bant(api_client(cast["sdr"]), seo_lead, BAD_BANT)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == set(BAD_BANT)
    assert not Bant.objects.filter(lead=seo_lead).exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [([1, 2], 422, "validation_error"), ("5", 422, "validation_error"), ("{x", 400, "error")],
    ids=["list", "number", "not json"],
)
def test_a_bant_body_that_is_not_an_object_is_refused(
    cast: Cast, api_client: ClientFor, seo_lead: Lead, body: Any, status: int, code: str
) -> None:
    response = put_bant(api_client(cast["sdr"]), seo_lead, body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Bant.objects.filter(lead=seo_lead).exists()


def test_answers_are_saved_against_the_version_given(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    client = api_client(cast["sdr"])
    ids = versions(client, seo_lead)
    response = put_answers(client, seo_lead, ids["common"], GOOD_COMMON)
    assert response.status_code == 200, response.content
    common = response.json()["questionnaires"][0]
    assert common["answered_version"] == 1
    assert common["answers"]["ad_budget"] == {"amount": "150000.00", "currency": "RUB"}
    assert common["answers"]["project_type"] == "existing"
    missing = [m["field"] for m in response.json()["missing"]]
    assert not [f for f in missing if f in {f"answers.{k}" for k in GOOD_COMMON}]
    event = LeadEvent.objects.filter(lead=seo_lead, kind="qualification").get()
    assert event.data["version"] == 1 and event.data["changed"] == sorted(GOOD_COMMON)


BAD_ANSWERS: list[Any] = [
    ("common", "project_type", "skyscraper"),
    ("common", "project_type", 3),
    ("common", "region", {"city": "Moscow"}),
    ("common", "region", ["Москва"]),
    ("common", "task", 42),
    ("common", "ad_budget", "150000"),
    ("common", "ad_budget", {"amount": "lots", "currency": "RUB"}),
    ("common", "ad_budget", {"amount": "100", "currency": "DOGE"}),
    ("common", "no_such_question", "x"),
    ("seo", "site_age", "old"),
    ("seo", "site_age", True),
    ("seo", "search_engines", ["yandex", "altavista"]),
    ("seo", "had_sanctions", "perhaps"),
]


@pytest.mark.parametrize(("questionnaire", "key", "value"), BAD_ANSWERS)
def test_an_answer_of_the_wrong_type_is_422_naming_it_and_nothing_is_saved(
    cast: Cast,
    api_client: ClientFor,
    seo_lead: Lead,
    questionnaire: str,
    key: str,
    value: Any,
) -> None:
    client = api_client(cast["sdr"])
    qualify(seo_lead)
    before = {a.pk: (a.version_id, a.values) for a in Answers.objects.filter(lead=seo_lead)}
    count = events(seo_lead)
    stored = next(
        a
        for a in Answers.objects.filter(lead=seo_lead)
        if (a.questionnaire.common if questionnaire == "common" else not a.questionnaire.common)
    )
    response = put_answers(client, seo_lead, stored.version_id, {**stored.values, key: value})
    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] == "invalid"
    assert list(error["errors"]) == [key] and error["errors"][key]
    after = {a.pk: (a.version_id, a.values) for a in Answers.objects.filter(lead=seo_lead)}
    assert after == before
    assert events(seo_lead) == count


def test_values_that_are_not_an_object_are_422(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    client = api_client(cast["sdr"])
    response = put_answers(client, seo_lead, versions(client, seo_lead)["common"], ["x"])
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert not Answers.objects.filter(lead=seo_lead).exists()


def test_another_services_questionnaire_does_not_apply(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    ppc = Questionnaire.objects.get(service__code="ppc").current()
    assert ppc is not None
    for version_id in (ppc.pk, 999_999):
        response = put_answers(api_client(cast["sdr"]), seo_lead, version_id, {})
        assert response.status_code == 422
        assert (response.json()["code"], response.json()["field"]) == ("missing_field", "version")
    assert not Answers.objects.filter(lead=seo_lead).exists()


def test_answers_stay_with_the_version_opened_while_a_new_one_is_published(
    cast: Cast, api_client: ClientFor, seo_lead: Lead, make_lead: MakeLead
) -> None:
    client = api_client(cast["sdr"])
    opened = versions(client, seo_lead)["seo"]  # the SDR opens the form
    seo = Questionnaire.objects.get(service__code="seo")
    v1 = seo.current()
    assert v1 is not None and v1.pk == opened
    # Meanwhile an admin drops "site_age" and adds a required question.
    definition = [f for f in v1.fields if f["key"] != "site_age"]
    definition.append(
        {"key": "cms", "type": "text", "label_en": "CMS", "label_ru": "CMS", "required": True}
    )
    v2 = publish(seo, definition, cast["admin"])
    assert v2.number == 2
    values = {"site_url": "https://romashka.example", "site_age": "7", "search_engines": ["yandex"]}
    response = put_answers(client, seo_lead, opened, values)
    assert response.status_code == 200, response.content
    shown = response.json()["questionnaires"][1]
    assert (shown["version"]["id"], shown["answered_version"]) == (opened, 1)
    assert shown["answers"]["site_age"] == "7"
    # The version it was opened with decides what is required: not the new "cms".
    assert "answers.cms" not in [m["field"] for m in response.json()["missing"]]
    stored = Answers.objects.get(lead=seo_lead, questionnaire=seo)
    assert (stored.version_id, stored.values["site_age"]) == (opened, "7")
    # A request opened after the edit gets the new version.
    fresh = walk(make_lead(service=seo.service), cast["sdr"], "sdr_processing")
    assert versions(client, fresh)["seo"] == v2.pk
    listed = api_client(cast["sdr"]).get("/api/v1/questionnaires").json()
    assert next(q for q in listed if q["service"] == "seo")["version"]["id"] == v2.pk


def test_the_head_of_marketing_may_fill_an_sdrs_request(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    response = put_bant(api_client(cast["head_marketing"]), seo_lead, GOOD_BANT)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("who", ["sales", "head_sales"])
def test_sales_cannot_put_answers(
    cast: Cast, api_client: ClientFor, seo_lead: Lead, make_lead: MakeLead, who: str
) -> None:
    client = api_client(cast[who])
    common = versions(api_client(cast["sdr"]), seo_lead)["common"]
    # Still with the SDR: not in sales' scope.
    response = put_answers(client, seo_lead, common, GOOD_COMMON)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    # Handed to sales: they see it and read the answers, but the questionnaire is closed.
    handed = walk(seo_lead, cast["sdr"], "awaiting_assignment")
    snapshot = {a.pk: a.values for a in Answers.objects.filter(lead=handed)}
    assert get(client, handed).status_code == 200
    for response in (
        put_answers(client, handed, common, GOOD_COMMON),
        put_bant(client, handed, GOOD_BANT),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert {a.pk: a.values for a in Answers.objects.filter(lead=handed)} == snapshot


def test_the_sdr_cannot_change_answers_after_the_hand_off(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    handed = walk(seo_lead, cast["sdr"], "awaiting_assignment")
    response = put_bant(api_client(cast["sdr"]), handed, GOOD_BANT)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_reading_the_qualification_takes_a_bounded_number_of_queries(
    cast: Cast, api_client: ClientFor, seo_lead: Lead, django_assert_max_num_queries: Any
) -> None:
    client = api_client(cast["sdr"])
    qualify(seo_lead)
    with django_assert_max_num_queries(12):
        assert get(client, seo_lead).status_code == 200


def test_a_lead_out_of_scope_has_no_qualification_to_read(
    cast: Cast, api_client: ClientFor, seo_lead: Lead
) -> None:
    response = get(api_client(cast["sdr2"]), seo_lead)
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_put_service_names_it_and_an_unknown_one_is_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    client = api_client(cast["sdr"])
    bad = client.put(
        f"/api/v1/leads/{lead.pk}/service", {"service": "nope"}, content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["code"] == "invalid"
    good = client.put(
        f"/api/v1/leads/{lead.pk}/service", {"service": "seo"}, content_type="application/json"
    )
    assert good.status_code == 200
    assert Lead.objects.get(pk=lead.pk).service == Service.objects.get(code="seo")
    other = api_client(cast["sdr2"]).put(
        f"/api/v1/leads/{lead.pk}/service", {"service": "smm"}, content_type="application/json"
    )
    assert other.status_code == 404
