"""The assignment queue, its settings and the lead page's assignment panel, in a browser's
place: who may open them, what they show, what each form does, at a bounded cost."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from leadrelay.qualify.models import Return
from leadrelay.sales.engine import assign
from leadrelay.sales.models import (
    Absence,
    Assignment,
    AssignmentRule,
    AssignmentSettings,
    ManagerProfile,
)
from tests.sales.conftest import MakeMql

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "assignment-body"}


@pytest.fixture
def login(client: Client) -> Callable[[User], Client]:
    def as_(user: User) -> Client:
        client.force_login(user)
        client.cookies["django_language"] = "en"
        return client

    return as_


Login = Callable[[User], Client]


def text(response: Any) -> str:
    return str(response.content.decode())


@pytest.mark.parametrize("who", ["sales", "sdr", "head_marketing", "partner"])
def test_only_the_head_and_admins_open_the_assignment_pages(
    cast: dict[str, User], login: Login, who: str
) -> None:
    client = login(cast[who])
    for url in ("/assignment/", "/assignment/settings/"):
        assert client.get(url).status_code == 403
    assert client.post("/assignment/run/").status_code == 403
    assert client.post("/assignment/settings/", {"mode": "auto"}).status_code == 403
    assert not AssignmentSettings.objects.exists()


def test_the_queue_lists_mqls_with_the_engines_suggestion(
    cast: dict[str, User], login: Login, make_mql: MakeMql
) -> None:
    lead = make_mql(company="ООО Ромашка")
    Absence.objects.create(
        user=cast["sales2"],
        starts_at="2020-01-01T00:00Z",
        ends_at="2099-01-01T00:00Z",
    )
    response = login(cast["head_sales"]).get("/assignment/")
    assert response.status_code == 200
    page = text(response)
    assert f'id="mql-{lead.pk}"' in page and "ООО Ромашка" in page
    assert f"Would go to {cast['sales']}" in page
    assert "Vacation until" in page  # sales2's absence, in the load table
    ManagerProfile.objects.create(user=cast["sales"], auto=False)
    page = text(login(cast["head_sales"]).get("/assignment/"))
    assert "Nobody eligible" in page and "takes leads by hand only" in page and "away" in page


def test_the_queue_costs_the_same_for_few_or_many_mqls(
    cast: dict[str, User], login: Login, make_mql: MakeMql
) -> None:
    client = login(cast["head_sales"])
    make_mql()
    client.get("/assignment/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/assignment/").status_code == 200
    for _ in range(6):
        make_mql()
    with CaptureQueriesContext(connection) as many:
        assert client.get("/assignment/").status_code == 200
    assert len(many) == len(few) <= 16


def test_the_head_assigns_from_the_queue(
    cast: dict[str, User], login: Login, make_mql: MakeMql
) -> None:
    lead = make_mql()
    client = login(cast["head_sales"])
    data = {"manager": cast["sales2"].pk, "version": lead.version}
    response = client.post(f"/assignment/{lead.pk}/assign/", data, **HTMX)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert 'id="assignment-body"' in text(response) and "<html" not in text(response)
    assert Lead.objects.get(pk=lead.pk).manager_id == cast["sales2"].pk
    assert Assignment.objects.get(lead=lead).how == "manual"


@pytest.mark.parametrize(
    ("manager", "stale", "status"),
    [("sdr", False, 422), ("nobody", False, 422), ("sales", True, 409)],
)
def test_a_bad_assignment_from_the_queue_changes_nothing(
    cast: dict[str, User],
    login: Login,
    make_mql: MakeMql,
    manager: str,
    stale: bool,
    status: int,
) -> None:
    lead = make_mql()
    pk = cast[manager].pk if manager in cast else 999_999
    data = {"manager": pk, "version": lead.version - 1 if stale else lead.version}
    client = login(cast["head_sales"])
    response = client.post(f"/assignment/{lead.pk}/assign/", data, **HTMX)  # type: ignore[arg-type]
    assert response.status_code == status
    assert 'class="alert alert-error"' in text(response)
    assert Lead.objects.get(pk=lead.pk).status == Status.AWAITING_ASSIGNMENT
    # Without JavaScript: back to the queue, the message on it.
    response = client.post(f"/assignment/{lead.pk}/assign/", data, follow=True)
    assert response.redirect_chain[-1][0] == "/assignment/"
    assert 'class="alert alert-error"' in text(response)
    assert Lead.objects.get(pk=lead.pk).status == Status.AWAITING_ASSIGNMENT


def test_assign_all_now_runs_the_engine_once_even_in_manual_mode(
    cast: dict[str, User], login: Login, make_mql: MakeMql
) -> None:
    leads = [make_mql() for _ in range(3)]
    response = login(cast["head_sales"]).post("/assignment/run/", follow=True)
    assert "Assigned: 3. Still waiting: 0." in text(response)
    assert all(
        m is not None
        for m in Lead.objects.filter(pk__in=[x.pk for x in leads]).values_list(
            "manager_id", flat=True
        )
    )
    assert AssignmentSettings.get().mode == "manual"


def test_the_settings_save_and_refuse_bad_values(cast: dict[str, User], login: Login) -> None:
    client = login(cast["head_sales"])
    assert client.get("/assignment/settings/").status_code == 200
    bad = client.post(
        "/assignment/settings/", {"mode": "auto", "strategy": "weighted", "default_cap": 0}
    )
    assert bad.status_code == 422 and "id_default_cap-error" in text(bad)
    assert not AssignmentSettings.objects.exists()
    good = client.post(
        "/assignment/settings/", {"mode": "auto", "strategy": "weighted", "default_cap": 40}
    )
    assert good.status_code == 302
    row = AssignmentSettings.get()
    assert (row.mode, row.strategy, row.default_cap) == ("auto", "weighted", 40)


def test_an_absence_ending_before_it_starts_is_a_field_error(
    cast: dict[str, User], login: Login
) -> None:
    client = login(cast["head_sales"])
    data = {
        "user": cast["sales"].pk,
        "kind": "vacation",
        "starts_at": "2026-03-10T09:00",
        "ends_at": "2026-03-09T09:00",
    }
    bad = client.post("/assignment/settings/absences/", data)
    assert bad.status_code == 422 and "id_ends_at-error" in text(bad)
    assert not Absence.objects.exists()
    data["ends_at"] = "2026-03-20T18:00"
    assert client.post("/assignment/settings/absences/", data).status_code == 302
    absence = Absence.objects.get()
    assert absence.user == cast["sales"]
    not_sales = {**data, "user": cast["sdr"].pk}
    assert client.post("/assignment/settings/absences/", not_sales).status_code == 422
    client.post(f"/assignment/settings/absences/{absence.pk}/delete/")
    assert not Absence.objects.exists()


def test_rules_are_added_edited_and_deleted(cast: dict[str, User], login: Login) -> None:
    client = login(cast["head_sales"])
    data = {"name": "English", "order": 1, "active": "on", "language": "en"}
    bad = client.post("/assignment/settings/rules/new/", data)  # no managers
    assert bad.status_code == 422 and "id_managers-error" in text(bad)
    data["managers"] = [cast["sales2"].pk]
    assert client.post("/assignment/settings/rules/new/", data).status_code == 302
    rule = AssignmentRule.objects.get()
    assert list(rule.managers.all()) == [cast["sales2"]] and rule.language == "en"
    assert client.get(f"/assignment/settings/rules/{rule.pk}/").status_code == 200
    data.update(name="English, least loaded", strategy="least_loaded")
    assert client.post(f"/assignment/settings/rules/{rule.pk}/", data).status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.strategy) == ("English, least loaded", "least_loaded")
    page = text(client.get("/assignment/settings/"))
    assert f'id="rule-{rule.pk}"' in page
    client.post(f"/assignment/settings/rules/{rule.pk}/delete/")
    assert not AssignmentRule.objects.exists()
    assert client.get("/assignment/settings/rules/999/").status_code == 404


def test_a_rule_with_a_manager_id_past_64_bits_is_a_form_error(
    cast: dict[str, User], login: Login
) -> None:
    """Not a 500: SQLite cannot bind such a number in the managers' IN query."""
    client = login(cast["head_sales"])
    data = {"name": "Huge", "order": 1, "active": "on", "managers": ["9" * 40]}
    bad = client.post("/assignment/settings/rules/new/", data)
    assert bad.status_code == 422 and "id_managers-error" in text(bad)
    assert not AssignmentRule.objects.exists()


def test_a_managers_profile_is_edited(cast: dict[str, User], login: Login) -> None:
    client = login(cast["head_sales"])
    url = f"/assignment/settings/managers/{cast['sales'].pk}/"
    assert client.get(url).status_code == 200
    data = {"auto": "on", "weight": 3, "cap": 10, "languages": ["en"]}
    assert client.post(url, data).status_code == 302
    profile = ManagerProfile.objects.get(user=cast["sales"])
    assert (profile.weight, profile.cap, profile.languages) == (3, 10, ["en"])
    assert client.post(url, {**data, "weight": 0}).status_code == 422
    assert client.get(f"/assignment/settings/managers/{cast['sdr'].pk}/").status_code == 404


# The lead page -------------------------------------------------------------------------


def test_the_manager_accepts_a_lead_given_to_them(
    cast: dict[str, User], login: Login, make_mql: MakeMql
) -> None:
    lead = assign(cast["head_sales"], make_mql().pk, cast["sales"], how="manual")
    client = login(cast["sales"])
    page = text(client.get(f"/leads/{lead.pk}/"))
    assert 'id="assignment-panel"' in page and "Accept (SQL)" in page
    assert "Reassign" not in page  # a manager does not hand leads around
    response = client.post(
        f"/leads/{lead.pk}/assignment/accept/",
        {"version": lead.version},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="lead-main",
    )
    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).status == Status.DISCUSSION


def test_a_stale_accept_says_reload(cast: dict[str, User], login: Login, make_mql: MakeMql) -> None:
    lead = assign(cast["head_sales"], make_mql().pk, cast["sales"], how="manual")
    response = login(cast["sales"]).post(
        f"/leads/{lead.pk}/assignment/accept/", {"version": lead.version - 1}
    )
    assert response.status_code == 409
    assert "changed by someone else" in text(response)
    assert Lead.objects.get(pk=lead.pk).status == Status.ASSIGNED


def test_a_return_needs_a_reason_code(
    cast: dict[str, User], login: Login, make_mql: MakeMql
) -> None:
    lead = assign(cast["head_sales"], make_mql().pk, cast["sales"], how="manual")
    client = login(cast["sales"])
    url = f"/leads/{lead.pk}/assignment/return/"
    response = client.post(url, {"version": lead.version, "note": "no budget really"})
    assert response.status_code == 422
    assert Lead.objects.get(pk=lead.pk).status == Status.ASSIGNED
    data = {"version": lead.version, "reason_code": "not_qualified", "note": "no budget"}
    response = client.post(url, data)
    # No longer the manager's to see: back to their board, the message there.
    assert response.status_code == 302 and response["Location"] == "/board/"
    lead.refresh_from_db()
    assert lead.status == Status.SDR_PROCESSING and lead.manager_id is None
    ret = Return.objects.get(lead=lead)
    assert (ret.reason_code, ret.reason) == ("not_qualified", "no budget")


def test_a_return_under_htmx_sends_the_manager_to_the_board(
    cast: dict[str, User], login: Login, make_mql: MakeMql
) -> None:
    lead = assign(cast["head_sales"], make_mql().pk, cast["sales"], how="manual")
    response = login(cast["sales"]).post(
        f"/leads/{lead.pk}/assignment/return/",
        {"version": lead.version, "reason_code": "not_qualified"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="lead-main",
    )
    assert response.status_code == 200 and response["HX-Redirect"] == "/board/"
    assert Lead.objects.get(pk=lead.pk).status == Status.SDR_PROCESSING


def test_the_head_reassigns_from_the_lead_page_and_sees_why(
    cast: dict[str, User], login: Login, make_mql: MakeMql, auto: Callable[..., object]
) -> None:
    auto("least_loaded")
    from leadrelay.sales.engine import assign_next

    lead = make_mql()
    assign_next()
    lead.refresh_from_db()
    client = login(cast["head_sales"])
    page = text(client.get(f"/leads/{lead.pk}/"))
    assert "Who got it and why" in page and "Least loaded" in page
    assert "fewest open leads (0)" in page and "the assignment engine" in page
    other = cast["sales2"] if lead.manager_id == cast["sales"].pk else cast["sales"]
    response = client.post(
        f"/leads/{lead.pk}/assignment/assign/", {"manager": other.pk, "version": lead.version}
    )
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).manager_id == other.pk
    # The manager who lost it cannot take it back.
    assert lead.manager_id is not None
    response = login(User.objects.get(pk=lead.manager_id)).post(
        f"/leads/{lead.pk}/assignment/assign/", {"manager": lead.manager_id, "version": 99}
    )
    assert response.status_code in (403, 404)
    assert Lead.objects.get(pk=lead.pk).manager_id == other.pk


def test_the_panel_costs_the_same_however_long_the_history(
    cast: dict[str, User], login: Login, make_mql: MakeMql
) -> None:
    lead = assign(cast["head_sales"], make_mql().pk, cast["sales"], how="manual")
    client = login(cast["head_sales"])
    client.get(f"/leads/{lead.pk}/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/leads/{lead.pk}/")
    for who in ("sales2", "sales", "sales2"):
        assign(cast["head_sales"], lead.pk, cast[who], how="manual")
    with CaptureQueriesContext(connection) as four:
        client.get(f"/leads/{lead.pk}/")
    mine = [q for q in four.captured_queries if "sales_assignment" in q["sql"]]
    assert len(mine) == 1
    assert len(four) <= len(one) + 1  # the history names the people (one join, no more)


def test_the_panel_costs_nothing_on_a_request_never_handed_to_sales(
    cast: dict[str, User], login: Login, make_lead: Callable[..., Lead]
) -> None:
    from tests.factories import walk

    lead = walk(make_lead(), cast["sdr"], Status.SDR_PROCESSING)
    client = login(cast["sdr"])
    with CaptureQueriesContext(connection) as queries:
        page = text(client.get(f"/leads/{lead.pk}/"))
    assert 'id="assignment-panel"' not in page
    assert not [q for q in queries.captured_queries if "sales_assignment" in q["sql"]]
