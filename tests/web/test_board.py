"""The sales board: columns with counts and sums, a manager's scope, moves by button
(HTMX and plain), their refusals (422 with what is missing, 409 naming who changed the
lead, 403, 404), filters, the head's picker and load table, and a fixed number of queries."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from leadrelay.web.board_views import CARD_CAP
from tests.factories import walk
from tests.web.helpers import state_of

HTMX = {"HX-Request": "true"}
TO_SALES = ("sdr_processing", "awaiting_assignment")


def cards(html: str, status: str) -> list[int]:
    """The lead ids of one column's cards, in order."""
    found = re.search(
        rf'<ul class="board-cards" id="cards-{status}">(.*?)</ul>\s*(?:<p|</section>)', html, re.S
    )
    assert found, f"no column {status}"
    return [int(i) for i in re.findall(r'<li id="card-(\d+)" class="board-card"', found.group(1))]


def column_head(html: str, status: str) -> str:
    found = re.search(rf'<section class="board-col" data-status="{status}".*?</header>', html, re.S)
    assert found, f"no column {status}"
    return found.group(0)


def card_of(html: str, lead: Lead) -> str:
    found = re.search(rf'<li id="card-{lead.pk}".*?\n</li>', html, re.S)
    assert found, f"no card for lead {lead.pk}"
    return found.group(0)


@pytest.fixture
def on_board(cast: dict[str, User], make_lead: Callable[..., Lead]) -> Callable[..., Lead]:
    """A lead of ``manager`` walked to ``status`` the way sales gets there."""

    def make(
        status: str = "assigned",
        manager: User | None = None,
        amount: str | None = None,
        currency: str = "RUB",
        **fields: Any,
    ) -> Lead:
        manager = manager or cast["sales"]
        lead = walk(make_lead(**fields), cast["sdr"], *TO_SALES)
        lead = walk(lead, manager, "assigned")
        path = ["discussion", "brief_filled", "proposal", "contract", "converted"]
        if status in path:
            lead = walk(lead, manager, *path[: path.index(status) + 1])
        elif status == "lost":
            lead = walk(lead, manager, "lost")
        # No deadline unless a test sets one (the first-contact clock of make_lead's
        # long-past arrival would still be running).
        Lead.objects.filter(pk=lead.pk).update(sla_due_at=None, sla_warn_at=None)
        if amount is not None:
            Lead.objects.filter(pk=lead.pk).update(
                deal_amount=Decimal(amount), deal_currency=currency
            )
        return Lead.objects.get(pk=lead.pk)

    return make


def quick(manager: User, status: str, n: int, make_lead: Callable[..., Lead]) -> list[Lead]:
    """``n`` leads put straight into ``status`` for ``manager`` (no history): for pages
    that only read."""
    leads = [make_lead(name=f"Lead {i}", company=f"Co {i}") for i in range(n)]
    base = timezone.now() - timedelta(days=3)
    for i, lead in enumerate(leads):
        Lead.objects.filter(pk=lead.pk).update(
            status=status, manager=manager, status_changed_at=base + timedelta(minutes=i)
        )
    return leads


# The page -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Board", "Received by a sales manager, awaiting action", "Accept", "This month:"]),
        ("ru", ["Заявка получена менеджером", "Обсуждение задач клиента"]),
    ],
)
def test_board_renders_in_each_language(
    language: str,
    texts: list[str],
    cast: dict[str, User],
    on_board: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = on_board(company="Ромашка")
    response = client_for(cast["sales"], language).get("/board/")
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.text
    assert cards(response.text, "assigned") == [lead.pk]
    for text in texts:
        assert text in response.text


def test_columns_show_counts_and_sums_per_currency(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    on_board("proposal", amount="150000", company="A")
    on_board("proposal", amount="50000.50", company="B")
    on_board("proposal", amount="2000", currency="USD", company="C")
    on_board("proposal", company="D")  # no value yet
    on_board("discussion", company="E")
    html = client_for(cast["sales"]).get("/board/").text
    proposal = column_head(html, "proposal")
    assert '<span class="board-count" title="Leads">4</span>' in proposal
    assert "200,000.50 RUB · 2,000 USD" in proposal
    discussion = column_head(html, "discussion")
    assert '<span class="board-count" title="Leads">1</span>' in discussion
    assert '<span class="board-sum" title="Expected value">—</span>' in discussion
    assert '<span class="board-count" title="Leads">0</span>' in column_head(html, "contract")
    assert len(cards(html, "proposal")) == 4


def test_card_shows_company_person_service_value_time_in_status_and_deadline(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    seo = Service.objects.get(code="seo")
    lead = on_board("discussion", amount="120000", company="ТехноСтрой", service=seo)
    due = timezone.now() + timedelta(hours=2)
    Lead.objects.filter(pk=lead.pk).update(
        sla_due_at=due,
        sla_warn_at=due - timedelta(hours=1),
        status_changed_at=timezone.now() - timedelta(days=3, hours=1),
    )
    card = card_of(client_for(cast["sales"]).get("/board/").text, lead)
    for text in ("ТехноСтрой", "Ирина Петрова", "SEO", "120,000 RUB", "3 days", "left"):
        assert text in card, text
    assert f'href="/leads/{lead.pk}/"' in card
    assert 'data-sla-due="' in card
    # Forward along the board and out as a loss; going back is the lead page's.
    assert 'data-drops="brief_filled"' in card
    assert 'value="brief_filled"' in card and 'value="lost"' in card
    assert 'value="sdr_processing"' not in card


@pytest.mark.parametrize("role", ["sdr", "partner", "head_marketing"])
def test_roles_outside_sales_are_refused_the_board(
    role: str, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast[role]).get("/board/")
    assert response.status_code == 403
    assert "The board is the sales team&#x27;s." in response.text


def test_anonymous_user_is_sent_to_log_in(client: Client) -> None:
    response = client.get("/board/")
    assert response.status_code == 302 and response["Location"].startswith("/?next=")


def test_a_manager_sees_only_their_own_leads_whatever_the_link_says(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    mine = on_board("discussion")
    theirs = on_board("discussion", manager=cast["sales2"])
    client = client_for(cast["sales"])
    for url in ("/board/", f"/board/?manager={cast['sales2'].pk}"):
        html = client.get(url).text
        assert cards(html, "discussion") == [mine.pk], url
        assert f"card-{theirs.pk}" not in html
        assert 'name="manager"' not in html  # no picker for a manager


def test_converted_and_lost_this_month_link_to_the_lead_list(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    on_board("converted")
    on_board("lost")
    on_board("lost")
    on_board("lost", manager=cast["sales2"])
    html = client_for(cast["sales"]).get("/board/").text
    manager = cast["sales"].pk
    assert f'<a href="/leads/?status=converted&amp;manager={manager}">1 converted</a>' in html
    assert f'<a href="/leads/?status=lost&amp;manager={manager}">2 lost</a>' in html


# Moves ----------------------------------------------------------------------------------


def test_move_by_button_under_htmx_redraws_the_board_with_the_card_moved(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("assigned")
    other = on_board("assigned")
    response = client_for(cast["sales"]).post(
        f"/board/move/{lead.pk}/",
        {"to": "discussion", "version": lead.version, "next": "/board/?q=Ирина"},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#board"
    assert response.text.lstrip().startswith('<div id="board"')
    assert cards(response.text, "discussion") == [lead.pk]
    assert cards(response.text, "assigned") == [other.pk]
    assert "moved to “Discussing the client" in response.text
    # The redrawn cards keep the filters for the next move.
    assert 'name="next" value="/board/?q=%D0%98%D1%80%D0%B8%D0%BD%D0%B0"' in response.text
    assert state_of(lead) == ("discussion", lead.version + 1, state_of(lead)[2])
    assert Lead.objects.get(pk=lead.pk).status == Status.DISCUSSION


def test_move_without_javascript_redirects_back_to_the_board_with_a_message(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("assigned")
    client = client_for(cast["sales"])
    response = client.post(
        f"/board/move/{lead.pk}/",
        {"to": "discussion", "version": lead.version, "next": "/board/?deadline=overdue"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/board/?deadline=overdue"
    page = client.get("/board/").text
    assert f"#{lead.pk} moved to “Discussing the client" in page
    assert cards(page, "discussion") == [lead.pk]


def test_next_outside_the_board_is_not_followed(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("assigned")
    for target in ("https://evil.example/board/", "/leads/"):
        response = client_for(cast["sales"]).post(
            f"/board/move/{lead.pk}/", {"to": "lost", "version": 1, "next": target}
        )
        assert response["Location"] == "/board/"


def test_a_gate_refusal_lists_what_is_missing_with_a_link_to_the_lead(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("discussion")  # no brief
    before = state_of(lead)
    response = client_for(cast["sales"]).post(
        f"/board/move/{lead.pk}/",
        {"to": "brief_filled", "version": lead.version, "next": "/board/"},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert response.text.startswith(f'<li id="card-{lead.pk}" class="board-card"')
    assert "The pre-sale brief, filled in by the client or from a call" in response.text
    assert f'<a href="/leads/{lead.pk}/">Open the lead to fill them in</a>' in response.text
    assert state_of(lead) == before


def test_a_move_not_allowed_from_the_status_names_the_allowed_ones(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("assigned")
    before = state_of(lead)
    response = client_for(cast["sales"]).post(
        f"/board/move/{lead.pk}/", {"to": "contract", "version": lead.version}, headers=HTMX
    )
    assert response.status_code == 422
    assert "Allowed from here:" in response.text and "Accept" in response.text
    assert "Lost" in response.text
    assert state_of(lead) == before


def test_a_stale_card_is_refused_with_who_changed_it_and_redrawn_from_the_database(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("assigned")
    seen = lead.version
    # The head of sales accepts it meanwhile.
    moved = walk(lead, cast["head_sales"], "discussion")
    before = state_of(moved)
    response = client_for(cast["sales"]).post(
        f"/board/move/{lead.pk}/",
        {"to": "discussion", "version": seen, "next": "/board/"},
        headers=HTMX,
    )
    assert response.status_code == 409
    assert "Changed by head_sales at " in response.text
    assert '<a href="/board/">Reload</a>' in response.text
    # The card as it is now: its new version and moves, so the next try is current.
    assert f'name="version" value="{moved.version}"' in response.text
    assert 'data-status="discussion"' in response.text
    assert state_of(moved) == before


def test_another_managers_lead_is_not_found(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    theirs = on_board("assigned", manager=cast["sales2"])
    before = state_of(theirs)
    response = client_for(cast["sales"]).post(
        f"/board/move/{theirs.pk}/", {"to": "discussion", "version": theirs.version}, headers=HTMX
    )
    assert response.status_code == 404
    assert "This lead does not exist or is not visible to you." in response.text
    assert "sales2" not in response.text
    assert state_of(theirs) == before


@pytest.mark.parametrize("role", ["sdr", "head_marketing", "partner"])
def test_roles_outside_sales_may_not_move_from_the_board(
    role: str,
    cast: dict[str, User],
    on_board: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = on_board("assigned")
    before = state_of(lead)
    response = client_for(cast[role]).post(
        f"/board/move/{lead.pk}/", {"to": "discussion", "version": lead.version}, headers=HTMX
    )
    assert response.status_code == 403
    assert response.text.startswith(f'<li id="card-{lead.pk}" class="board-card is-gone">')
    assert "The board is the sales team&#x27;s." in response.text
    assert state_of(lead) == before


def test_lost_needs_a_reason_code_and_keeps_the_competitor(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("proposal")
    client = client_for(cast["sales"])
    html = client.get("/board/").text
    assert '<option value="price">' in card_of(html, lead)
    refused = client.post(
        f"/board/move/{lead.pk}/", {"to": "lost", "version": lead.version}, headers=HTMX
    )
    assert refused.status_code == 422
    assert "A reason is required for this move." in refused.text
    response = client.post(
        f"/board/move/{lead.pk}/",
        {"to": "lost", "version": lead.version, "reason_code": "price", "competitor": "Rival"},
        headers=HTMX,
    )
    assert response.status_code == 200
    lead.refresh_from_db()
    assert (lead.status, lead.end_reason_code, lead.lost_to) == ("lost", "price", "Rival")
    assert f"card-{lead.pk}" not in response.text
    assert "1 lost" in response.text


def test_a_bad_form_changes_nothing(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("assigned")
    before = state_of(lead)
    for data in ({"to": "discussion"}, {"to": "new", "version": 1}, {"version": 1}):
        response = client_for(cast["sales"]).post(f"/board/move/{lead.pk}/", data, headers=HTMX)
        assert response.status_code == 422, data
        assert "The form is out of date; reload the board." in response.text
    assert state_of(lead) == before


# Filters --------------------------------------------------------------------------------


def test_filters_by_service_source_deadline_and_text(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    # A lead without a service is given the first one (SEO) before its hand-off.
    ppc = Service.objects.get(code="ppc")
    form = Source.objects.create(kind=Source.Kind.TILDA, name="Landing")
    now = timezone.now()
    a = on_board("discussion", company="Альфа", service=ppc)
    b = on_board("discussion", company="Бета", source=form)
    c = on_board("discussion", company="Гамма")
    Lead.objects.filter(pk=b.pk).update(sla_due_at=now + timedelta(hours=3))
    Lead.objects.filter(pk=c.pk).update(sla_due_at=now - timedelta(hours=1))
    client = client_for(cast["sales"])
    for query, expected in [
        ("", [a, b, c]),
        (f"service={ppc.pk}", [a]),
        (f"source={form.pk}", [b]),
        ("deadline=soon", [b]),
        ("deadline=overdue", [c]),
        (f"q={quote('Гамма')}", [c]),
        ("q=%D0%B8%D1%80%D0%B8%D0%BD%D0%B0", []),  # "ирина": lower case, SQLite-proof below
        (f"q={quote('Ирина')}", [a, b, c]),
    ]:
        response = client.get(f"/board/?{query}")
        assert response.status_code == 200
        if query == "q=%D0%B8%D1%80%D0%B8%D0%BD%D0%B0":
            continue  # SQLite's LIKE folds only ASCII case; PostgreSQL's ILIKE folds all
        assert cards(response.text, "discussion") == [x.pk for x in expected], query


def test_a_filter_change_under_htmx_swaps_the_board_only(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("discussion", company="Альфа")
    response = client_for(cast["sales"]).get(
        "/board/?q=Alpha", headers={**HTMX, "HX-Target": "board"}
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="board"')
    assert "<html" not in response.text
    assert cards(response.text, "discussion") == []
    assert f"card-{lead.pk}" not in response.text
    assert "Vary" in response and "HX-Request" in response["Vary"]


def test_bad_filters_are_a_400_with_the_reason(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    response = client_for(cast["sales"]).get("/board/?service=999999&deadline=tomorrow")
    assert response.status_code == 400
    assert "These filters cannot be applied:" in response.text


def test_show_more_brings_the_next_cards_of_one_column(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    leads = quick(cast["sales"], "proposal", CARD_CAP + 5, make_lead)
    client = client_for(cast["sales"])
    html = client.get("/board/").text
    assert cards(html, "proposal") == [x.pk for x in leads[:CARD_CAP]]
    assert f'<span class="board-count" title="Leads">{CARD_CAP + 5}</span>' in html
    more = re.search(r'hx-get="(/board/\?column=proposal&amp;after=[^"]+)"', html)
    assert more, "no Show more link"
    url = more.group(1).replace("&amp;", "&")
    fragment = client.get(url, headers={**HTMX, "HX-Target": "more-proposal"})
    assert fragment.status_code == 200
    found = [int(i) for i in re.findall(r'<li id="card-(\d+)"', fragment.text)]
    assert found == [x.pk for x in leads[CARD_CAP:]]
    assert "Show more" not in fragment.text
    # Without JavaScript the link reloads the page with that column further on.
    page = client.get(url).text
    assert cards(page, "proposal") == [x.pk for x in leads[CARD_CAP:]]
    assert "Back to the first cards" in page


# The head's view --------------------------------------------------------------------------


def test_head_sees_everyone_with_owners_or_one_managers_board(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    mine = on_board("discussion")
    theirs = on_board("discussion", manager=cast["sales2"])
    client = client_for(cast["head_sales"])
    everyone = client.get("/board/").text
    assert sorted(cards(everyone, "discussion")) == sorted([mine.pk, theirs.pk])
    assert '<div class="board-card-owner muted small">sales2</div>' in card_of(everyone, theirs)
    assert '<select name="manager" id="id_manager">' in everyone
    one = client.get(f"/board/?manager={cast['sales2'].pk}").text
    assert cards(one, "discussion") == [theirs.pk]
    assert "board-card-owner" not in one
    assert f'<option value="{cast["sales2"].pk}" selected>' in one


def test_head_can_move_any_managers_card(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = on_board("assigned", manager=cast["sales2"])
    response = client_for(cast["head_sales"]).post(
        f"/board/move/{lead.pk}/", {"to": "discussion", "version": lead.version}, headers=HTMX
    )
    assert response.status_code == 200
    assert Lead.objects.get(pk=lead.pk).status == Status.DISCUSSION


def test_load_table_counts_each_managers_open_leads_value_and_overdue_deadlines(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    on_board("assigned", amount="1000")
    late = on_board("proposal", amount="2500")
    on_board("lost")  # not open: not counted
    on_board("discussion", manager=cast["sales2"], amount="300", currency="USD")
    Lead.objects.filter(pk=late.pk).update(sla_due_at=timezone.now() - timedelta(minutes=5))
    html = client_for(cast["head_sales"]).get("/board/?service=").text
    table = re.search(r'<table class="leads load-table">.*?</table>', html, re.S)
    assert table
    assert '<th class="num" title="Contract and payment">Contract</th>' in table.group(0)
    rows = re.findall(
        r"<tr(?: class=\"is-current\")?>\s*<td><a href=\"([^\"]+)\">([^<]+)</a></td>(.*?)</tr>",
        table.group(0),
        re.S,
    )
    by_name = {
        name: (url, re.findall(r'<td class="num[^"]*">(?:<strong>)?([^<]*)', cells))
        for url, name, cells in rows
    }
    assert by_name["sales"][1] == ["1", "0", "0", "1", "0", "2", "3,500 RUB", "1"]
    assert by_name["sales2"][1] == ["0", "1", "0", "0", "0", "1", "300 USD", "0"]
    assert by_name["sales"][0] == f"/board/?manager={cast['sales'].pk}"


def test_a_manager_has_no_load_table(
    cast: dict[str, User], on_board: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    on_board("assigned")
    assert "load-table" not in client_for(cast["sales"]).get("/board/").text


# Queries ----------------------------------------------------------------------------------

# Session, user, services, sources (the filters' choices), the cards' keys (one windowed
# query), the cards, the columns' counts and sums, the month's ends, the loss reasons.
MANAGER_QUERIES = 9
# The head adds the managers (the picker), the load table and their department's ids.
HEAD_QUERIES = MANAGER_QUERIES + 3


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_board_costs_the_same_queries_however_many_leads(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    sales, head = client_for(cast["sales"]), client_for(cast["head_sales"])
    for status in ("assigned", "discussion", "proposal"):
        quick(cast["sales"], status, 3, make_lead)
    quick(cast["sales2"], "contract", 3, make_lead)
    few = (_count(sales, "/board/"), _count(head, "/board/"))
    for status in ("assigned", "discussion", "brief_filled", "proposal", "contract"):
        quick(cast["sales"], status, CARD_CAP + 10, make_lead)
        quick(cast["sales2"], status, 5, make_lead)
    many = (_count(sales, "/board/"), _count(head, "/board/"))
    assert few == many
    with django_assert_max_num_queries(MANAGER_QUERIES):
        sales.get("/board/?deadline=soon&q=Co")
    with django_assert_max_num_queries(HEAD_QUERIES):
        head.get("/board/")
    with django_assert_max_num_queries(HEAD_QUERIES):
        head.get(f"/board/?manager={cast['sales'].pk}")
