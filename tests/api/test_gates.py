"""The gates over HTTP: a refused move's 422 names everything it still needs.

A hand-off lists each missing BANT item and required answer; a disqualification or a
return by sales without a valid code lists the codes allowed. Nothing changes on a
refusal; with what was missing supplied, the same move goes through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.qualify.models import ReasonCode
from tests.factories import qualify, walk
from tests.leads.snapshots import snapshot

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
MakeLead = Callable[..., Lead]
Cast = dict[str, User]

TO_SALES = ("sdr_processing", "awaiting_assignment")


def post(client: Client, lead: Lead, body: dict[str, Any], language: str = "en") -> Response:
    return client.post(
        f"/api/v1/leads/{lead.pk}/transition",
        body,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def refused_422(client: Client, lead: Lead, body: dict[str, Any], **kw: str) -> dict[str, Any]:
    before = snapshot(lead.pk)
    response = post(client, lead, {"version": lead.version, **body}, **kw)
    assert response.status_code == 422, response.content
    error: dict[str, Any] = response.json()
    assert error["code"] == "missing_field"
    assert error["message"]
    assert snapshot(lead.pk) == before
    return error


def claimed_seo_lead(make_lead: MakeLead, sdr: User) -> Lead:
    return walk(make_lead(service=Service.objects.get(code="seo")), sdr, "sdr_processing")


def codes(kind: str) -> list[str]:
    return list(ReasonCode.objects.filter(kind=kind, active=True).values_list("code", flat=True))


def test_a_handoff_with_nothing_filled_is_422_naming_each_missing_field(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = claimed_seo_lead(make_lead, cast["sdr"])
    error = refused_422(api_client(cast["sdr"]), lead, {"to": "awaiting_assignment"})
    assert error["missing"] == [
        {"field": "bant.budget", "label": "Budget"},
        {
            "field": "bant.authority",
            "label": "Authority: the contact's role and whether they decide",
        },
        {"field": "bant.need", "label": "Need: the client's task"},
        {"field": "bant.timeframe", "label": "Timeframe"},
        {"field": "answers.project_type", "label": "Project type"},
        {"field": "answers.region", "label": "Promotion region"},
        {"field": "answers.audience", "label": "Target audience"},
        {"field": "answers.task", "label": "The task for the agency"},
        {"field": "answers.ad_budget", "label": "Advertising budget per month"},
        {"field": "answers.site_url", "label": "Website"},
        {"field": "answers.search_engines", "label": "Search engines"},
    ]
    assert error["field"] == "bant.budget"
    # The message names them too, for a client that only shows the message.
    assert "Project type" in error["message"] and "Search engines" in error["message"]


def test_the_missing_labels_follow_the_request_language(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = claimed_seo_lead(make_lead, cast["sdr"])
    error = refused_422(api_client(cast["sdr"]), lead, {"to": "awaiting_assignment"}, language="ru")
    labels = {m["field"]: m["label"] for m in error["missing"]}
    assert labels["answers.project_type"] == "Тип проекта"
    assert labels["answers.search_engines"] == "Поисковые системы"


def test_a_handoff_with_some_answers_names_only_what_is_still_missing(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    sdr = cast["sdr"]
    lead = qualify(claimed_seo_lead(make_lead, sdr))
    client = api_client(sdr)
    qualification = client.get(f"/api/v1/leads/{lead.pk}/qualification").json()
    seo = next(q for q in qualification["questionnaires"] if q["service"] == "seo")
    values = {k: v for k, v in seo["answers"].items() if k != "search_engines"}
    r = client.put(
        f"/api/v1/leads/{lead.pk}/answers/{seo['version']['id']}",
        {"values": values},
        content_type="application/json",
    )
    assert r.status_code == 200, r.content
    lead.refresh_from_db()
    error = refused_422(client, lead, {"to": "awaiting_assignment"})
    assert error["missing"] == [{"field": "answers.search_engines", "label": "Search engines"}]


def test_a_lead_without_a_service_names_the_service_first(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    error = refused_422(api_client(cast["sdr"]), lead, {"to": "awaiting_assignment"})
    assert error["missing"][0]["field"] == "service"


def test_a_qualified_lead_is_handed_off(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = qualify(claimed_seo_lead(make_lead, cast["sdr"]))
    response = post(api_client(cast["sdr"]), lead, {"to": "awaiting_assignment", "version": 2})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["stage"]) == ("awaiting_assignment", "mql")


@pytest.mark.parametrize(
    "code", ["", "no_such_code", "not_qualified"], ids=["none", "unknown", "return-kind"]
)
def test_a_disqualification_without_a_valid_code_is_422_listing_the_codes(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, code: str
) -> None:
    lead = make_lead()
    body = {"to": "disqualified", "reason": "Spam from a bot", "reason_code": code}
    error = refused_422(api_client(cast["sdr"]), lead, body)
    [missing] = error["missing"]
    assert missing["field"] == "reason_code" == error["field"]
    allowed = codes("disqualify")
    assert "spam" in allowed and "not_qualified" not in allowed
    for allowed_code in allowed:
        assert allowed_code in missing["label"]


def test_an_inactive_code_is_not_accepted_nor_listed(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    ReasonCode.objects.filter(kind="disqualify", code="job_seeker").update(active=False)
    lead = make_lead()
    body = {"to": "disqualified", "reason": "CV", "reason_code": "job_seeker"}
    error = refused_422(api_client(cast["sdr"]), lead, body)
    assert "job_seeker" not in error["missing"][0]["label"]


def test_a_disqualification_with_a_code_stores_it_and_shows_it(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = make_lead()
    body = {"to": "disqualified", "version": 1, "reason_code": " budget_too_small "}
    response = post(api_client(cast["sdr"]), lead, body)
    assert response.status_code == 200, response.content
    assert response.json()["end_reason_code"] == "budget_too_small"
    stored = Lead.objects.get(pk=lead.pk)
    assert (stored.status, stored.end_reason_code) == ("disqualified", "budget_too_small")
    event = LeadEvent.objects.get(lead=lead, to_status="disqualified")
    assert event.data["reason_code"] == "budget_too_small"
    # The lead is never deleted: it is still read through the API.
    assert api_client(cast["admin"]).get(f"/api/v1/leads/{lead.pk}").status_code == 200


@pytest.mark.parametrize("who", ["sales", "head_sales"])
def test_a_return_by_sales_without_a_code_is_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    lead = walk(make_lead(), cast["sdr"], *TO_SALES)
    body = {"to": "sdr_processing", "reason": "Not a real budget"}
    error = refused_422(api_client(cast[who]), lead, body)
    [missing] = error["missing"]
    assert missing["field"] == "reason_code"
    for code in codes("return"):
        assert code in missing["label"]


def test_a_return_by_sales_with_a_code_is_200(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], *TO_SALES)
    body = {
        "to": "sdr_processing",
        "version": lead.version,
        "reason": "No budget",
        "reason_code": "no_budget",
    }
    response = post(api_client(cast["sales"]), lead, body)
    assert response.status_code == 200, response.content
    assert response.json()["sdr"]["id"] == cast["sdr"].pk


def test_the_sdr_side_moving_back_from_the_queue_needs_no_code(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], *TO_SALES)
    body = {"to": "sdr_processing", "version": lead.version, "reason": "Forgot the budget"}
    assert post(api_client(cast["sdr"]), lead, body).status_code == 200


def test_a_release_puts_the_request_back_in_the_queue(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    client = api_client(cast["sdr"])
    error = refused_422(client, lead, {"to": "new"})
    assert error["field"] == "reason"
    response = post(client, lead, {"to": "new", "version": lead.version, "reason": "Off sick"})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["sdr"]) == ("new", None)
    # Anyone may claim it again.
    assert api_client(cast["sdr2"]).post(f"/api/v1/leads/{lead.pk}/claim").status_code == 200
