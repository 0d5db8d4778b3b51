"""The incoming queue: rows by deadline, filters, claims (HTMX and plain), reassignment,
returns at the top, keyboard help, keyset pages and a fixed number of queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadrelay.accounts.models import Department, Team, User
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import claim
from leadrelay.qualify.models import Return, SdrQueueSettings
from tests.factories import walk
from tests.web.helpers import state_of

HTMX = {"HX-Request": "true"}
# Session, user, sources, services, SDRs (the filters' and "reassign to" choices), the
# lead-SDR check, the count, the page's keys, its leads with their service, source and
# SDR, the open returns (and their reason codes' labels when there are any).
QUEUE_QUERIES = 10


def queued_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr id="queue-row-(\d+)" class="queue-row', html)]


def row_of(html: str, lead: Lead) -> str:
    found = re.search(rf'<tr id="queue-row-{lead.pk}".*?</tr>', html, re.S)
    assert found, f"no row for lead {lead.pk}"
    return found.group(0)


def set_deadline(lead: Lead, minutes: int | None) -> None:
    due = None if minutes is None else timezone.now() + timedelta(minutes=minutes)
    Lead.objects.filter(pk=lead.pk).update(sla_due_at=due, sla_warn_at=due)


@pytest.fixture
def lead_sdr(cast: dict[str, User], departments: dict[str, Department]) -> User:
    """sdr leads the marketing team: the lead SDR who may reassign."""
    Team.objects.create(name="SDR", department=departments["marketing"], lead=cast["sdr"])
    return cast["sdr"]


# The page -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Incoming", "Name / company", "Deadline", "New", "Claim"]),
        ("ru", ["Имя / компания", "Срок", "Новая"]),
    ],
)
def test_queue_page_renders_in_each_language(
    language: str,
    texts: list[str],
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead(name="Олег Смирнов", company="Ромашка")
    response = client_for(cast["sdr"], language).get("/incoming/")
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.text
    assert queued_ids(response.text) == [lead.pk]
    for text in texts:
        assert text in response.text


@pytest.mark.parametrize("role", ["sales", "sales2", "partner", "head_sales"])
def test_roles_outside_the_sdr_team_are_refused_the_queue(
    role: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    make_lead()
    response = client_for(cast[role]).get("/incoming/")
    assert response.status_code == 403
    assert "The incoming queue is the SDR team&#x27;s." in response.text
    assert queued_ids(response.text) == []


def test_anonymous_user_is_sent_to_log_in(client: Client) -> None:
    response = client.get("/incoming/")
    assert response.status_code == 302 and response["Location"].startswith("/?next=")


def test_row_shows_source_attribution_duplicate_countdown_owner_and_status(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    source = Source.objects.create(kind=Source.Kind.TILDA, name="Landing page form")
    first = make_lead(name="Ирина Петрова")
    lead = make_lead(
        name="Олег Смирнов",
        company="Ромашка",
        service=Service.objects.get(code="seo"),
        source=source,
        attribution={"utm_source": "yandex", "utm_medium": "cpc", "utm_term": "seo"},
        duplicate_of=first,
    )
    set_deadline(lead, 20)
    row = row_of(client_for(cast["sdr"]).get("/incoming/").text, lead)
    for text in (
        "Олег Смирнов",
        "Ромашка",
        "SEO",
        "Landing page form",
        "· Tilda",
        "yandex / cpc",  # the UTM summary: source, medium, campaign where present
        f'Duplicate of <a href="/leads/{first.pk}/">#{first.pk}</a>',
        "2026-03-02 12:00",  # received 09:00 UTC, shown in Moscow time
        "unclaimed",
        '<span class="badge status-new">New</span>',
        'class="sla sla-ok"',
        f'action="/incoming/{lead.pk}/claim/"',
        f'<a class="btn btn-sm" href="/leads/{lead.pk}/">Open</a>',
    ):
        assert text in row, text
    assert "utm_term" not in row and "/ seo" not in row


def test_rows_come_by_deadline_those_without_one_last_by_arrival(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    late, soon, later, contacted_old, contacted_new = (make_lead() for _ in range(5))
    set_deadline(late, -10)
    set_deadline(soon, 5)
    set_deadline(later, 25)
    set_deadline(contacted_new, None)
    set_deadline(contacted_old, None)
    Lead.objects.filter(pk=contacted_old.pk).update(received_at=late.received_at - timedelta(1))
    page = client_for(cast["admin"]).get("/incoming/").text
    assert queued_ids(page) == [late.pk, soon.pk, later.pk, contacted_old.pk, contacted_new.pk]


def test_the_queue_holds_only_requests_on_the_sdr_side(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    new = make_lead()
    working = walk(make_lead(), cast["sdr"], "sdr_processing")
    walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    walk(make_lead(), cast["sdr"], "sdr_processing", "disqualified")
    page = client_for(cast["admin"]).get("/incoming/").text
    assert sorted(queued_ids(page)) == [new.pk, working.pk]
    assert "2 requests in the queue" in page


def test_an_sdr_sees_the_unclaimed_and_their_own_not_a_colleagues(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    free = make_lead()
    mine = claim(cast["sdr"], make_lead().pk)
    claim(cast["sdr2"], make_lead().pk)
    page = client_for(cast["sdr"]).get("/incoming/").text
    assert sorted(queued_ids(page)) == [free.pk, mine.pk]
    assert "is-mine" in row_of(page, mine) and "Claim" not in row_of(page, mine)


# Filters --------------------------------------------------------------------------------


@pytest.fixture
def mixed(cast: dict[str, User], make_lead: Callable[..., Lead]) -> dict[str, Any]:
    tilda = Source.objects.create(kind=Source.Kind.TILDA, name="Tilda landing")
    form = Source.objects.create(kind=Source.Kind.FORM, name="Site form")
    seo, ppc = Service.objects.get(code="seo"), Service.objects.get(code="ppc")
    leads = {
        "tilda_seo": make_lead(source=tilda, service=seo),
        "form_ppc": make_lead(source=form, service=ppc),
        "form_seo_sdr": make_lead(source=form, service=seo),
        "tilda_ppc_sdr2": make_lead(source=tilda, service=ppc),
    }
    claim(cast["sdr"], leads["form_seo_sdr"].pk)
    claim(cast["sdr2"], leads["tilda_ppc_sdr2"].pk)
    return {"tilda": tilda, "form": form, "seo": seo, "ppc": ppc, **leads}


def test_filters_by_source_service_channel_and_owner(
    cast: dict[str, User], mixed: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    def ids(user: str, query: str) -> list[int]:
        response = client_for(cast[user]).get("/incoming/?" + query)
        assert response.status_code == 200
        return sorted(queued_ids(response.text))

    def pks(*names: str) -> list[int]:
        return sorted(mixed[name].pk for name in names)

    assert ids("admin", f"source={mixed['tilda'].pk}") == pks("tilda_seo", "tilda_ppc_sdr2")
    assert ids("admin", f"service={mixed['seo'].pk}") == pks("tilda_seo", "form_seo_sdr")
    assert ids("admin", "channel=form") == pks("form_ppc", "form_seo_sdr")
    assert ids("admin", "channel=tilda&service=" + str(mixed["ppc"].pk)) == pks("tilda_ppc_sdr2")
    assert ids("admin", "owner=unclaimed") == pks("tilda_seo", "form_ppc")
    assert ids("admin", f"owner={cast['sdr2'].pk}") == pks("tilda_ppc_sdr2")
    assert ids("admin", "owner=") == pks(*(k for k in mixed if "_" in k))
    assert ids("sdr", "owner=mine") == pks("form_seo_sdr")
    assert ids("sdr2", "owner=mine") == pks("tilda_ppc_sdr2")
    # The scope still holds: an SDR filtering by a colleague sees none of theirs.
    assert ids("sdr", f"owner={cast['sdr2'].pk}") == []


def test_a_filter_matching_nothing_says_so(
    cast: dict[str, User], mixed: dict[str, Any], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["admin"]).get("/incoming/?channel=calendly").text
    assert queued_ids(page) == []
    assert "No requests match these filters." in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("source=abc", "Select a valid choice"),
        ("source=999999", "Select a valid choice"),
        ("service=-1", "Select a valid choice"),
        ("channel=fax", "Select a valid choice"),
        ("owner=theirs", "Select a valid choice"),
        ("owner=999999", "Select a valid choice"),
        ("after=yesterday", "This page marker is not valid"),
        ("after=1.2", "This page marker is not valid"),
        ("after=99999999999999999999999.1.1", "This page marker is not valid"),
    ],
)
def test_bad_filter_is_a_400_with_a_message_not_a_traceback(
    query: str,
    message: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    make_lead()
    response = client_for(cast["sdr"]).get("/incoming/?" + query)
    assert response.status_code == 400
    assert "These filters cannot be applied" in response.text
    assert message in response.text
    assert queued_ids(response.text) == []


def test_filters_work_without_javascript_and_by_htmx(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client = client_for(cast["sdr"])
    full = client.get("/incoming/?owner=unclaimed")
    assert '<form id="queue-filters" class="filters queue-filters card" method="get"' in full.text
    partial = client.get("/incoming/?owner=unclaimed", headers=HTMX)
    assert partial.text.lstrip().startswith('<div id="queue-results"')
    assert "<html" not in partial.text
    assert queued_ids(partial.text) == [lead.pk]
    assert "HX-Request" in partial["Vary"] and "HX-Request" in full["Vary"]


# Claiming -------------------------------------------------------------------------------


def test_claim_by_htmx_replaces_the_row_with_the_claimed_one(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    response = client_for(cast["sdr"]).post(f"/incoming/{lead.pk}/claim/", headers=HTMX)
    assert response.status_code == 200
    html = response.text.strip()
    assert html.startswith(f'<tr id="queue-row-{lead.pk}" class="queue-row is-mine"')
    assert html.endswith("</tr>")
    assert f"Request #{lead.pk} is yours." in html
    assert "status-sdr_processing" in html and "<strong>sdr</strong>" in html
    assert "claim-form" not in html
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.status, fresh.sdr_id) == (Status.SDR_PROCESSING, cast["sdr"].pk)


def test_claim_without_javascript_redirects_back_with_a_message(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client = client_for(cast["sdr"])
    response = client.post(f"/incoming/{lead.pk}/claim/", {"next": "/incoming/?owner=unclaimed"})
    assert response.status_code == 302 and response["Location"] == "/incoming/?owner=unclaimed"
    assert Lead.objects.get(pk=lead.pk).sdr_id == cast["sdr"].pk
    page = client.get(response["Location"]).text
    assert f"Request #{lead.pk} is yours." in page


def test_claim_does_not_follow_a_next_to_another_site(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    response = client_for(cast["sdr"]).post(
        f"/incoming/{lead.pk}/claim/", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/incoming/"


def test_a_taken_request_answers_409_already_taken_by_the_owner_in_the_row(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claim(cast["sdr2"], make_lead().pk)
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(f"/incoming/{lead.pk}/claim/", headers=HTMX)
    assert response.status_code == 409
    html = response.text.strip()
    assert html.startswith(f'<tr id="queue-row-{lead.pk}" class="queue-row is-gone"')
    assert "Already taken by sdr2." in html
    assert 'class="row-notice row-notice-error" role="alert"' in html
    assert state_of(lead) == before
    assert Lead.objects.get(pk=lead.pk).sdr_id == cast["sdr2"].pk


def test_a_taken_request_without_javascript_says_who_has_it(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claim(cast["sdr2"], make_lead().pk)
    before = state_of(lead)
    client = client_for(cast["sdr"])
    response = client.post(f"/incoming/{lead.pk}/claim/")
    assert response.status_code == 302
    assert "Already taken by sdr2." in client.get(response["Location"]).text
    assert state_of(lead) == before


def test_an_sdr_cannot_claim_for_another_sdr(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client_for(cast["sdr"]).post(
        f"/incoming/{lead.pk}/claim/", {"sdr": cast["sdr2"].pk, "actor": cast["sdr2"].pk}
    )
    assert Lead.objects.get(pk=lead.pk).sdr_id == cast["sdr"].pk


def test_claiming_ones_own_request_again_changes_nothing(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claim(cast["sdr"], make_lead().pk)
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(f"/incoming/{lead.pk}/claim/", headers=HTMX)
    assert response.status_code == 200
    assert state_of(lead) == before


@pytest.mark.parametrize("role", ["sales", "head_sales", "partner"])
def test_roles_outside_the_sdr_team_cannot_claim(
    role: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead()
    before = state_of(lead)
    response = client_for(cast[role]).post(f"/incoming/{lead.pk}/claim/", headers=HTMX)
    assert response.status_code in (403, 404)
    assert "row-notice-error" in response.text
    assert state_of(lead) == before


def test_a_request_past_the_sdr_side_cannot_be_claimed(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    before = state_of(lead)
    response = client_for(cast["head_marketing"]).post(f"/incoming/{lead.pk}/claim/", headers=HTMX)
    assert response.status_code in (409, 422)
    assert state_of(lead) == before


def test_claiming_a_missing_request_is_a_404_row(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["sdr"]).post("/incoming/999999/claim/", headers=HTMX)
    assert response.status_code == 404
    assert "This request does not exist or is not visible to you." in response.text


def test_claim_only_takes_post(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    assert client_for(cast["sdr"]).get(f"/incoming/{lead.pk}/claim/").status_code == 405
    assert Lead.objects.get(pk=lead.pk).sdr_id is None


# Reassigning ----------------------------------------------------------------------------


def test_the_lead_sdr_sees_a_reassign_select_and_a_plain_sdr_does_not(
    cast: dict[str, User],
    lead_sdr: User,
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead()
    row = row_of(client_for(lead_sdr).get("/incoming/").text, lead)
    assert f'action="/incoming/{lead.pk}/reassign/"' in row
    assert f'<option value="{cast["sdr2"].pk}">sdr2</option>' in row
    assert 'name="version" value="1"' in row
    plain = row_of(client_for(cast["sdr2"]).get("/incoming/").text, lead)
    assert "reassign" not in plain


@pytest.mark.parametrize("who", ["lead_sdr", "head_marketing", "admin"])
def test_the_lead_sdr_and_the_head_reassign_a_request(
    who: str,
    cast: dict[str, User],
    lead_sdr: User,
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead()
    user = lead_sdr if who == "lead_sdr" else cast[who]
    response = client_for(user).post(
        f"/incoming/{lead.pk}/reassign/",
        {"sdr": cast["sdr2"].pk, "version": lead.version},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert f"Request #{lead.pk} is now sdr2&#x27;s." in response.text
    assert Lead.objects.get(pk=lead.pk).sdr_id == cast["sdr2"].pk


def test_reassign_without_javascript_redirects_back(
    cast: dict[str, User],
    lead_sdr: User,
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead()
    response = client_for(lead_sdr).post(
        f"/incoming/{lead.pk}/reassign/",
        {"sdr": cast["sdr2"].pk, "version": lead.version, "next": "/incoming/?owner="},
    )
    assert response.status_code == 302 and response["Location"] == "/incoming/?owner="
    assert Lead.objects.get(pk=lead.pk).sdr_id == cast["sdr2"].pk


@pytest.mark.parametrize("role", ["sdr2", "sales", "head_sales"])
def test_others_may_not_reassign_and_nothing_changes(
    role: str,
    cast: dict[str, User],
    lead_sdr: User,
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead()
    before = state_of(lead)
    client = client_for(cast[role])
    data = {"sdr": cast["sdr2"].pk, "version": lead.version}
    plain = client.post(f"/incoming/{lead.pk}/reassign/", data)
    assert plain.status_code == 403
    assert "Only the lead SDR or the head of marketing reassigns requests." in plain.text
    htmx = client.post(f"/incoming/{lead.pk}/reassign/", data, headers=HTMX)
    assert htmx.status_code == 403 and "row-notice-error" in htmx.text
    assert state_of(lead) == before


def test_reassign_at_a_stale_version_is_a_409_message(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    stale = lead.version
    lead = claim(cast["sdr"], lead.pk)
    before = state_of(lead)
    response = client_for(cast["head_marketing"]).post(
        f"/incoming/{lead.pk}/reassign/", {"sdr": cast["sdr2"].pk, "version": stale}, headers=HTMX
    )
    assert response.status_code == 409
    assert "The lead was changed by someone else; reload it." in response.text
    # The row is shown as it is now, with the current version for another try.
    assert f'name="version" value="{before[1]}"' in response.text
    assert state_of(lead) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sdr": "", "version": "1"}, "Choose the SDR to give the request to."),
        ({"sdr": "sales", "version": "1"}, "Choose the SDR to give the request to."),
        ({"version": "1"}, "Choose the SDR to give the request to."),
        ({"sdr": "SDR2", "version": "x"}, "The form is out of date; reload the page."),
    ],
)
def test_reassign_with_bad_input_is_a_422_and_changes_nothing(
    data: dict[str, str],
    message: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = make_lead()
    before = state_of(lead)
    values = {
        k: str(cast["sales"].pk if v == "sales" else cast["sdr2"].pk if v == "SDR2" else v)
        for k, v in data.items()
    }
    response = client_for(cast["head_marketing"]).post(
        f"/incoming/{lead.pk}/reassign/", values, headers=HTMX
    )
    assert response.status_code == 422
    assert message in response.text
    assert state_of(lead) == before


# Returned to you -------------------------------------------------------------------------


def test_open_returns_are_listed_at_the_top_with_the_managers_reason(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead(name="Вернувшийся клиент")
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    walk(lead, cast["sales"], "sdr_processing", reason="Бюджета на самом деле нет")
    other = walk(make_lead(), cast["sdr2"], "sdr_processing", "awaiting_assignment")
    walk(walk(other, cast["sales"], "assigned"), cast["sales"], "sdr_processing")
    page = client_for(cast["sdr"]).get("/incoming/").text
    block = page.split('<section class="card queue-returns"', 1)[1].split("</section>", 1)[0]
    assert "Returned to you" in block
    assert (
        f'<a class="lead-link" href="/leads/{lead.pk}/">#{lead.pk} Вернувшийся клиент</a>' in block
    )
    assert "Not qualified: BANT does not hold" in block
    assert "Бюджета на самом деле нет" in block
    assert f"/leads/{other.pk}/" not in block


def test_returns_answered_are_no_longer_listed(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    walk(walk(lead, cast["sales"], "assigned"), cast["sales"], "sdr_processing")
    Return.objects.filter(lead=lead).update(state=Return.State.ACCEPTED)
    assert "Returned to you" not in client_for(cast["sdr"]).get("/incoming/").text


def test_returns_are_shown_in_russian_with_the_russian_reason(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    walk(walk(lead, cast["sales"], "assigned"), cast["sales"], "sdr_processing")
    page = client_for(cast["sdr"], "ru").get("/incoming/").text
    assert "Не квалифицирован: BANT не подтвердился" in page


# Keyboard -------------------------------------------------------------------------------


def test_the_shortcuts_help_and_script_are_on_the_page(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    make_lead()
    page = client_for(cast["sdr"]).get("/incoming/").text
    assert '<div id="queue-help" class="kbd-overlay" hidden>' in page
    help_box = page.split('<div id="queue-help"', 1)[1].split("</dl>", 1)[0]
    for keys, action in (
        ("<kbd>j</kbd> / <kbd>k</kbd>", "Select the next / the previous request"),
        ("<kbd>Enter</kbd> / <kbd>o</kbd>", "Open the selected request"),
        ("<kbd>c</kbd>", "Claim the selected request"),
        ("<kbd>/</kbd>", "Go to the filters"),
        ("<kbd>?</kbd>", "Show or hide this help"),
    ):
        assert f"<dt>{keys}</dt><dd>{action}</dd>" in help_box
    assert '<script src="/static/web/queue.js" defer></script>' in page
    assert 'data-queue-help aria-controls="queue-help"' in page


def test_rows_carry_what_the_shortcuts_need(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    row = row_of(client_for(cast["sdr"]).get("/incoming/").text, lead)
    assert f'data-lead="{lead.pk}" data-url="/leads/{lead.pk}/"' in row
    assert 'class="claim-form"' in row


# Pages and queries ---------------------------------------------------------------------


def test_show_more_walks_the_queue_by_keyset_without_offset(
    settings: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    settings.LEADRELAY_PAGE_SIZE = 3
    leads = [make_lead(name=f"Lead {i}") for i in range(8)]
    # Ties and no deadlines across page ends: two share a deadline, three have none.
    due = timezone.now() + timedelta(minutes=10)
    for i, lead in enumerate(leads):
        value = None if i >= 5 else due + timedelta(minutes=i if i != 1 else 0)
        Lead.objects.filter(pk=lead.pk).update(sla_due_at=value, sla_warn_at=value)
    expected = queued_ids(client_for(cast["admin"]).get("/incoming/?owner=").text)
    client = client_for(cast["admin"])
    seen: list[int] = []
    url: str | None = "/incoming/?owner="
    with CaptureQueriesContext(connection) as queries:
        while url:
            page = client.get(url).text
            seen += queued_ids(page)
            found = re.search(r'rel="next" href="([^"]+)"', page)
            url = found.group(1).replace("&amp;", "&") if found else None
    assert len(seen) == 8 and len(set(seen)) == 8
    assert seen[:3] == expected
    for query in queries.captured_queries:
        assert "OFFSET" not in query["sql"].upper()


def test_show_more_by_htmx_returns_the_next_rows_and_a_new_more_row(
    settings: Any,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    settings.LEADRELAY_PAGE_SIZE = 2
    for i in range(5):
        make_lead(name=f"Lead {i}")
    client = client_for(cast["admin"])
    first = client.get("/incoming/").text
    link = re.search(r'hx-get="([^"]+)" hx-target="#queue-more"', first)
    assert link
    more = client.get(
        link.group(1).replace("&amp;", "&"), headers={**HTMX, "HX-Target": "queue-more"}
    )
    assert more.status_code == 200
    assert more.text.lstrip().startswith('<tr id="queue-row-')
    assert len(queued_ids(more.text)) == 2
    assert '<tr id="queue-more"' in more.text
    assert not set(queued_ids(more.text)) & set(queued_ids(first))


def test_queue_page_costs_the_same_few_queries_however_many_rows(
    settings: Any,
    cast: dict[str, User],
    lead_sdr: User,
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    source = Source.objects.create(kind=Source.Kind.FORM, name="Site")
    services = list(Service.objects.all())
    first = make_lead(name="First", source=source)
    client = client_for(lead_sdr)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        small = client.get("/incoming/")
    assert len(queued_ids(small.text)) == 1
    for i in range(40):
        lead = make_lead(
            name=f"Lead {i}",
            source=source,
            service=services[i % len(services)],
            attribution={"utm_source": "google", "utm_campaign": f"c{i}"},
            duplicate_of=first,
        )
        if i % 3 == 0:
            claim(lead_sdr, lead.pk)
    returned = walk(make_lead(), lead_sdr, "sdr_processing", "awaiting_assignment")
    walk(walk(returned, cast["sales"], "assigned"), cast["sales"], "sdr_processing")
    with django_assert_max_num_queries(QUEUE_QUERIES + 1):  # + the returns' reason labels
        big = client.get(f"/incoming/?source={source.pk}&channel=form&owner=")
    assert len(queued_ids(big.text)) == 41
    assert "Returned to you" in big.text


# Queue settings -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["head_marketing", "admin"])
def test_the_head_of_marketing_and_admins_set_up_the_queue(
    role: str, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    client = client_for(cast[role])
    page = client.get("/incoming/settings/")
    assert page.status_code == 200
    assert re.search(r'value="manual"[^>]* checked', page.text) and 'value="8"' in page.text
    response = client.post("/incoming/settings/", {"mode": "round_robin", "stale_hours": "12"})
    assert response.status_code == 302 and response["Location"] == "/incoming/settings/"
    row = SdrQueueSettings.get()
    assert (row.mode, row.stale_hours) == ("round_robin", 12)
    assert "The queue settings are saved." in client.get("/incoming/settings/").text


def test_settings_list_the_sdrs_on_shift(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    User.objects.filter(pk=cast["sdr2"].pk).update(on_shift=True)
    page = client_for(cast["head_marketing"]).get("/incoming/settings/").text
    block = page.split("SDRs on shift now", 1)[1]
    assert "<li>sdr2</li>" in block and "<li>sdr</li>" not in block


@pytest.mark.parametrize("role", ["sdr", "sales", "head_sales", "partner"])
def test_others_are_refused_the_settings_and_change_nothing(
    role: str, cast: dict[str, User], lead_sdr: User, client_for: Callable[..., Client]
) -> None:
    client = client_for(cast[role])
    assert client.get("/incoming/settings/").status_code == 403
    response = client.post("/incoming/settings/", {"mode": "round_robin", "stale_hours": "1"})
    assert response.status_code == 403
    assert "Only the head of marketing and administrators set up the queue." in response.text
    row = SdrQueueSettings.get()
    assert (row.mode, row.stale_hours) == ("manual", 8)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "lottery", "stale_hours": "8"}, "Select a valid choice"),
        ({"mode": "manual", "stale_hours": "0"}, "greater than or equal to 1"),
        ({"mode": "manual", "stale_hours": "eight"}, "Enter a whole number"),
        ({"mode": "manual", "stale_hours": "99999"}, "less than or equal to 2000"),
        ({"mode": "manual"}, "This field is required"),
    ],
)
def test_bad_settings_are_refused_with_the_reason_and_nothing_saved(
    data: dict[str, str], message: str, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["head_marketing"]).post("/incoming/settings/", data)
    assert response.status_code == 422
    assert "The settings were not saved:" in response.text and message in response.text
    row = SdrQueueSettings.get()
    assert (row.mode, row.stale_hours) == ("manual", 8)


def test_settings_render_in_russian(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["admin"], "ru").get("/incoming/settings/")
    assert page.status_code == 200 and '<html lang="ru">' in page.text
    assert "Сохранить" in page.text


def test_the_settings_link_is_shown_only_to_who_may_use_it(
    cast: dict[str, User], lead_sdr: User, client_for: Callable[..., Client]
) -> None:
    assert 'href="/incoming/settings/"' in client_for(cast["head_marketing"]).get("/incoming/").text
    assert 'href="/incoming/settings/"' not in client_for(lead_sdr).get("/incoming/").text
