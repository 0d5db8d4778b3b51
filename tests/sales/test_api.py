"""The assignment API: the queue, (re)assigning, the history with why, settings, rules,
absences and loads; the head's alone, with JSON errors for bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from leadrelay.sales.engine import assign_next
from leadrelay.sales.models import Absence, AssignmentRule, AssignmentSettings, ManagerProfile
from tests.sales.conftest import MakeMql

ApiClient = Callable[[User], Client]
JSON = "application/json"


def put(client: Client, url: str, body: Any) -> Any:
    return client.put(url, body, content_type=JSON)


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type=JSON)


def test_the_queue_shows_what_the_engine_would_do(
    cast: dict[str, User], api_client: ApiClient, make_mql: MakeMql
) -> None:
    first, second = make_mql(), make_mql()
    response = api_client(cast["head_sales"]).get("/api/v1/assignment/queue")
    assert response.status_code == 200
    body = response.json()
    assert (body["mode"], body["total"]) == ("manual", 2)
    assert [i["lead"] for i in body["items"]] == [first.pk, second.pk]
    # Round-robin: the second goes to the next manager, the first counted.
    assert [i["would_go_to"]["id"] for i in body["items"]] == [
        cast["sales"].pk,
        cast["sales2"].pk,
    ]
    item = body["items"][0]
    assert item["region"] == "Москва" and item["budget_band"] == "300k_1m"
    assert item["language"] == "ru" and item["why"]["strategy"] == "round_robin"


@pytest.mark.parametrize("who", ["sales", "sdr", "head_marketing"])
def test_the_head_only_endpoints_refuse_others(
    cast: dict[str, User], api_client: ApiClient, who: str
) -> None:
    client = api_client(cast[who])
    for url in (
        "/api/v1/assignment/queue",
        "/api/v1/assignment/settings",
        "/api/v1/assignment/rules",
        "/api/v1/assignment/absences",
        "/api/v1/assignment/managers",
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["code"] == "forbidden"
    body = {"mode": "auto", "strategy": "weighted", "default_cap": 5}
    assert put(client, "/api/v1/assignment/settings", body).status_code == 403
    assert not AssignmentSettings.objects.exists()


def test_the_head_assigns_and_reassigns_over_the_api(
    cast: dict[str, User], api_client: ApiClient, make_mql: MakeMql
) -> None:
    lead = make_mql()
    client = api_client(cast["head_sales"])
    url = f"/api/v1/leads/{lead.pk}/assign"
    response = post(client, url, {"manager": cast["sales"].pk, "version": lead.version})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "assigned" and body["manager"]["id"] == cast["sales"].pk
    stale = post(client, url, {"manager": cast["sales2"].pk, "version": lead.version})
    assert stale.status_code == 409 and stale.json()["current_version"] == body["version"]
    moved = post(client, url, {"manager": cast["sales2"].pk, "version": body["version"]})
    assert moved.status_code == 200 and moved.json()["version"] == body["version"] + 1
    history = client.get(f"/api/v1/leads/{lead.pk}/assignments").json()
    assert [(h["how"], h["manager"]["id"]) for h in history] == [
        ("manual", cast["sales"].pk),
        ("reassign", cast["sales2"].pk),
    ]
    assert history[1]["previous"]["id"] == cast["sales"].pk
    assert history[1]["by"]["id"] == cast["head_sales"].pk


@pytest.mark.parametrize("manager", ["sdr", "gone", "unknown"])
def test_assigning_to_someone_not_in_sales_is_422(
    cast: dict[str, User], api_client: ApiClient, make_mql: MakeMql, manager: str
) -> None:
    lead = make_mql()
    ids = {
        "sdr": cast["sdr"].pk,
        "gone": User.objects.create_user("gone", role="sales", is_active=False).pk,
        "unknown": 999_999,
    }
    response = post(
        api_client(cast["admin"]),
        f"/api/v1/leads/{lead.pk}/assign",
        {"manager": ids[manager], "version": lead.version},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid" and "manager" in response.json()["errors"]
    assert Lead.objects.get(pk=lead.pk).status == Status.AWAITING_ASSIGNMENT


def test_a_manager_cannot_assign_over_the_api(
    cast: dict[str, User], api_client: ApiClient, make_mql: MakeMql
) -> None:
    lead = make_mql()
    response = post(
        api_client(cast["sales"]),
        f"/api/v1/leads/{lead.pk}/assign",
        {"manager": cast["sales"].pk, "version": lead.version},
    )
    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).manager_id is None


def test_the_history_says_why_and_is_for_those_who_see_the_lead(
    cast: dict[str, User], api_client: ApiClient, make_mql: MakeMql, auto: Callable[..., Any]
) -> None:
    auto("least_loaded")
    lead = make_mql()
    assign_next()
    history = api_client(cast["head_sales"]).get(f"/api/v1/leads/{lead.pk}/assignments").json()
    (only,) = history
    assert only["how"] == "auto" and only["by"] is None
    assert only["why"]["because"] == "least_loaded: 0 open leads"
    assert api_client(cast["sdr2"]).get(f"/api/v1/leads/{lead.pk}/assignments").status_code == 404


def test_settings_are_read_and_written(cast: dict[str, User], api_client: ApiClient) -> None:
    client = api_client(cast["head_sales"])
    assert client.get("/api/v1/assignment/settings").json() == {
        "mode": "manual",
        "strategy": "round_robin",
        "default_cap": 300,
    }
    body = {"mode": "auto", "strategy": "least_loaded", "default_cap": 25}
    assert put(client, "/api/v1/assignment/settings", body).json() == body
    assert AssignmentSettings.get().default_cap == 25
    bad = put(client, "/api/v1/assignment/settings", {**body, "default_cap": 0})
    assert bad.status_code == 422
    assert AssignmentSettings.get().default_cap == 25


def test_rules_crud(cast: dict[str, User], api_client: ApiClient) -> None:
    client = api_client(cast["head_sales"])
    service = Service.objects.order_by("pk").first()
    assert service is not None
    body = {
        "name": "SEO in Moscow",
        "order": 2,
        "service": service.pk,
        "region": "Москва",
        "managers": [cast["sales2"].pk],
    }
    created = post(client, "/api/v1/assignment/rules", body)
    assert created.status_code == 201
    rule = created.json()
    assert rule["managers"] == [cast["sales2"].pk] and rule["strategy"] == ""
    bad = post(client, "/api/v1/assignment/rules", {**body, "managers": [cast["sdr"].pk]})
    assert bad.status_code == 422 and "managers" in bad.json()["errors"]
    unknown = post(client, "/api/v1/assignment/rules", {**body, "service": 999_999})
    assert unknown.status_code == 422 and "service" in unknown.json()["errors"]
    empty = post(client, "/api/v1/assignment/rules", {**body, "managers": []})
    assert empty.status_code == 422
    assert AssignmentRule.objects.count() == 1
    url = f"/api/v1/assignment/rules/{rule['id']}"
    changed = put(client, url, {**body, "strategy": "weighted", "language": "ru"})
    assert changed.json()["strategy"] == "weighted" and changed.json()["language"] == "ru"
    assert [r["id"] for r in client.get("/api/v1/assignment/rules").json()] == [rule["id"]]
    assert client.delete(url).json() == {"deleted": rule["id"]}
    assert client.delete(url).status_code == 404
    assert put(client, url, body).status_code == 404


def test_absences_crud(cast: dict[str, User], api_client: ApiClient) -> None:
    client = api_client(cast["head_sales"])
    body = {
        "user": cast["sales"].pk,
        "kind": "sick",
        "starts_at": "2099-03-02T09:00:00Z",
        "ends_at": "2099-03-06T18:00:00Z",
    }
    backwards = post(client, "/api/v1/assignment/absences", {**body, "ends_at": body["starts_at"]})
    assert backwards.status_code == 422 and "ends_at" in backwards.json()["errors"]
    not_sales = post(client, "/api/v1/assignment/absences", {**body, "user": cast["sdr"].pk})
    assert not_sales.status_code == 422 and "user" in not_sales.json()["errors"]
    assert not Absence.objects.exists()
    created = post(client, "/api/v1/assignment/absences", body)
    assert created.status_code == 201
    listed = client.get("/api/v1/assignment/absences").json()
    assert [a["id"] for a in listed] == [created.json()["id"]]
    url = f"/api/v1/assignment/absences/{created.json()['id']}"
    assert client.delete(url).status_code == 200
    assert client.delete(url).status_code == 404


def test_managers_show_their_load(
    cast: dict[str, User], api_client: ApiClient, make_mql: MakeMql
) -> None:
    ManagerProfile.objects.create(user=cast["sales2"], weight=3, cap=7, languages=["en"])
    lead = make_mql()
    post(
        api_client(cast["head_sales"]),
        f"/api/v1/leads/{lead.pk}/assign",
        {"manager": cast["sales"].pk, "version": lead.version},
    )
    rows = {
        r["user"]["id"]: r
        for r in api_client(cast["admin"]).get("/api/v1/assignment/managers").json()
    }
    assert rows[cast["sales"].pk]["open"] == 1 and rows[cast["sales"].pk]["cap"] == 300
    assert (rows[cast["sales2"].pk]["weight"], rows[cast["sales2"].pk]["cap"]) == (3, 7)
    assert rows[cast["sales2"].pk]["languages"] == ["en"]
    assert rows[cast["sales2"].pk]["on_shift"] is True


def test_the_operations_are_documented_under_assignment() -> None:
    doc = Client().get("/api/v1/openapi.json").json()
    ops = {
        (method, path): op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if "assignment" in op.get("tags", [])
    }
    assert set(ops) >= {
        ("get", "/api/v1/assignment/queue"),
        ("post", "/api/v1/leads/{lead_id}/assign"),
        ("get", "/api/v1/leads/{lead_id}/assignments"),
        ("get", "/api/v1/assignment/settings"),
        ("put", "/api/v1/assignment/settings"),
        ("get", "/api/v1/assignment/rules"),
        ("post", "/api/v1/assignment/rules"),
        ("put", "/api/v1/assignment/rules/{rule_id}"),
        ("delete", "/api/v1/assignment/rules/{rule_id}"),
        ("get", "/api/v1/assignment/absences"),
        ("post", "/api/v1/assignment/absences"),
        ("delete", "/api/v1/assignment/absences/{absence_id}"),
        ("get", "/api/v1/assignment/managers"),
    }
    assert all(op.get("description") for op in ops.values())
    assert "409" in ops[("post", "/api/v1/leads/{lead_id}/assign")]["responses"]
