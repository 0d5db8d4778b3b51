"""The rejection loop over the API: sales returns an MQL with a code, the SDR accepts or
disputes, a head settles the dispute; each party sees the returns that concern them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.qualify.models import Return
from tests.factories import walk

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User], Client]
MakeLead = Callable[..., Lead]
Cast = dict[str, User]


def returned(cast: Cast, api_client: ClientFor, make_lead: MakeLead, sdr: str = "sdr") -> Return:
    """An MQL of ``sdr``'s that the sales manager took and sent back through the API."""
    lead = walk(make_lead(), cast[sdr], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    body = {
        "to": "sdr_processing",
        "version": lead.version,
        "reason": "Бюджета нет, клиент ошибся",
        "reason_code": "no_budget",
    }
    response = api_client(cast["sales"]).post(
        f"/api/v1/leads/{lead.pk}/transition", body, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return Return.objects.get(lead=lead)


def decide(client: Client, ret: Return, **body: Any) -> Response:
    return client.post(f"/api/v1/returns/{ret.pk}/decision", body, content_type="application/json")


def judge(client: Client, ret: Return, **body: Any) -> Response:
    return client.post(f"/api/v1/returns/{ret.pk}/judgement", body, content_type="application/json")


def state(ret: Return) -> str:
    return Return.objects.get(pk=ret.pk).state


def test_a_return_is_listed_for_the_sdr_with_the_managers_reason(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    ret = returned(cast, api_client, make_lead)
    response = api_client(cast["sdr"]).get("/api/v1/returns", {"state": "open"})
    assert response.status_code == 200, response.content
    [item] = response.json()["items"]
    assert item["id"] == ret.pk and item["lead"] == ret.lead_id
    assert (item["state"], item["from_status"]) == ("open", "assigned")
    assert (item["reason_code"], item["reason"]) == ("no_budget", "Бюджета нет, клиент ошибся")
    assert item["returned_by"]["id"] == cast["sales"].pk
    assert item["sdr"]["id"] == cast["sdr"].pk
    assert item["judge"] is None and item["decided_at"] is None
    assert response.json()["next_cursor"] is None


SEES = {
    "sdr": {"mine"},
    "sdr2": {"theirs"},
    "sales": {"mine", "theirs"},  # returned both
    "sales2": set(),
    "partner": set(),
    "head_marketing": {"mine", "theirs"},
    "head_sales": {"mine", "theirs"},
    "admin": {"mine", "theirs"},
}


@pytest.mark.parametrize("who", list(SEES))
def test_each_role_lists_the_returns_that_concern_it(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    found = {
        "mine": returned(cast, api_client, make_lead, "sdr"),
        "theirs": returned(cast, api_client, make_lead, "sdr2"),
    }
    response = api_client(cast[who]).get("/api/v1/returns")
    assert response.status_code == 200
    assert {i["id"] for i in response.json()["items"]} == {found[n].pk for n in SEES[who]}


def test_returns_are_filtered_by_state_and_paged(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, django_assert_max_num_queries: Any
) -> None:
    rets = [returned(cast, api_client, make_lead) for _ in range(3)]
    client = api_client(cast["head_marketing"])
    assert decide(client, rets[0], accept=True).status_code == 200
    assert decide(client, rets[1], accept=False, note="MQL был верный").status_code == 200
    by_state = {
        s: {i["id"] for i in client.get("/api/v1/returns", {"state": s}).json()["items"]}
        for s in ("open", "accepted", "disputed")
    }
    assert by_state == {"open": {rets[2].pk}, "accepted": {rets[0].pk}, "disputed": {rets[1].pk}}
    both = client.get("/api/v1/returns?state=open&state=disputed").json()["items"]
    assert {i["id"] for i in both} == {rets[1].pk, rets[2].pk}
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        with django_assert_max_num_queries(4):
            page = client.get("/api/v1/returns", params).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted((r.pk for r in rets), reverse=True)


@pytest.mark.parametrize("query", ["state=lost", "colour=red", "cursor=@@@", "limit=0"], ids=str)
def test_a_bad_returns_filter_is_422(cast: Cast, api_client: ClientFor, query: str) -> None:
    response = api_client(cast["admin"]).get(f"/api/v1/returns?{query}")
    assert response.status_code == 422, response.content
    assert response.json()["code"] in {"validation_error", "missing_field", "invalid_cursor"}


def test_the_sdr_accepts_a_return(cast: Cast, api_client: ClientFor, make_lead: MakeLead) -> None:
    ret = returned(cast, api_client, make_lead)
    response = decide(api_client(cast["sdr"]), ret, accept=True, note="Переквалифицирую")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["sdr_note"]) == ("accepted", "Переквалифицирую")
    assert body["decided_at"] is not None
    event = LeadEvent.objects.filter(lead_id=ret.lead_id, kind="return").get()
    assert (event.actor, event.data["state"]) == (cast["sdr"], "accepted")


def test_a_dispute_needs_a_note(cast: Cast, api_client: ClientFor, make_lead: MakeLead) -> None:
    ret = returned(cast, api_client, make_lead)
    response = decide(api_client(cast["sdr"]), ret, accept=False, note="  ")
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("missing_field", "note")
    assert state(ret) == "open"


def test_a_return_is_answered_once(cast: Cast, api_client: ClientFor, make_lead: MakeLead) -> None:
    ret = returned(cast, api_client, make_lead)
    client = api_client(cast["sdr"])
    assert decide(client, ret, accept=False, note="Бюджет подтверждён письмом").status_code == 200
    response = decide(client, ret, accept=True)
    assert (response.status_code, response.json()["code"]) == (422, "transition_not_allowed")
    assert state(ret) == "disputed"


@pytest.mark.parametrize("who", ["sdr2", "sales", "head_sales", "partner"])
def test_only_the_requests_sdr_or_the_head_of_marketing_answers(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    ret = returned(cast, api_client, make_lead)
    response = decide(api_client(cast[who]), ret, accept=True)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert state(ret) == "open"


@pytest.mark.parametrize("who", ["head_marketing", "head_sales", "admin"])
def test_a_head_overturns_a_disputed_return_and_the_mql_goes_back_to_sales(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    ret = returned(cast, api_client, make_lead)
    assert decide(api_client(cast["sdr"]), ret, accept=False, note="Бюджет есть").status_code == 200
    response = judge(api_client(cast[who]), ret, overturn=True, note="Бюджет подтверждён")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["judge"]["id"], body["judge_note"]) == (
        "overturned",
        cast[who].pk,
        "Бюджет подтверждён",
    )
    lead = Lead.objects.get(pk=ret.lead_id)
    assert (lead.status, lead.manager_id) == ("awaiting_assignment", None)


def test_a_head_upholds_a_return_and_the_request_stays_with_the_sdr(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    ret = returned(cast, api_client, make_lead)
    assert decide(api_client(cast["sdr"]), ret, accept=False, note="Не согласен").status_code == 200
    response = judge(api_client(cast["head_sales"]), ret, overturn=False)
    assert (response.status_code, response.json()["state"]) == (200, "upheld")
    assert Lead.objects.get(pk=ret.lead_id).status == "sdr_processing"


@pytest.mark.parametrize("who", ["sdr", "sales", "partner"])
def test_only_a_head_settles_a_dispute(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, who: str
) -> None:
    ret = returned(cast, api_client, make_lead)
    assert decide(api_client(cast["sdr"]), ret, accept=False, note="Не согласен").status_code == 200
    response = judge(api_client(cast[who]), ret, overturn=True)
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")
    assert state(ret) == "disputed"
    assert Lead.objects.get(pk=ret.lead_id).status == "sdr_processing"


def test_an_undisputed_return_is_not_judged(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead
) -> None:
    ret = returned(cast, api_client, make_lead)
    response = judge(api_client(cast["head_sales"]), ret, overturn=True)
    assert (response.status_code, response.json()["code"]) == (422, "transition_not_allowed")
    assert state(ret) == "open"


def test_an_unknown_return_is_404(cast: Cast, api_client: ClientFor) -> None:
    for path in ("decision", "judgement"):
        body = {"accept": True} if path == "decision" else {"overturn": True}
        response = api_client(cast["admin"]).post(
            f"/api/v1/returns/999999/{path}", body, content_type="application/json"
        )
        assert (response.status_code, response.json()["code"]) == (404, "not_found")


@pytest.mark.parametrize("body", [{}, {"accept": "perhaps"}, {"accept": True, "mood": 1}])
def test_a_decision_of_the_wrong_shape_is_422(
    cast: Cast, api_client: ClientFor, make_lead: MakeLead, body: dict[str, Any]
) -> None:
    ret = returned(cast, api_client, make_lead)
    response = decide(api_client(cast["sdr"]), ret, **body)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert state(ret) == "open"
