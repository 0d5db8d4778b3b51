"""Moving a lead from its page: one POST to move_lead, its refusals shown on the page."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from leadrelay.accounts.models import Department, User
from leadrelay.catalog.models import Partner
from leadrelay.leads.models import Lead, LeadEvent
from tests.factories import walk
from tests.web.helpers import state_of

HTMX = {"HX-Request": "true"}


def test_move_by_a_plain_post_changes_status_records_event_and_redirects_back(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    client = client_for(cast["sdr"])
    response = client.post(
        f"/leads/{lead.pk}/move/", {"to": "sdr_processing", "version": lead.version}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/leads/{lead.pk}/"
    lead.refresh_from_db()
    assert (lead.status, lead.version, lead.sdr) == ("sdr_processing", 2, cast["sdr"])
    event = LeadEvent.objects.filter(lead=lead).last()
    assert event is not None and event.actor == cast["sdr"]
    page = client.get(response["Location"]).text
    assert "Moved to “Received by SDR, questionnaire in progress”." in page


def test_move_by_htmx_returns_the_lead_panel_with_the_new_event(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/move/",
        {"to": "sdr_processing", "version": lead.version},
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="lead-main"')
    assert "<html" not in response.text
    assert response.text.count('<li class="event">') == 2
    assert '<input type="hidden" name="version" value="2">' in response.text
    assert state_of(lead) == ("sdr_processing", 2, 2)


def test_stale_version_shows_changed_by_someone_else_and_changes_nothing(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    seen = lead.version
    lead = walk(lead, cast["sdr"], "sdr_processing")  # someone else moved it meanwhile
    before = state_of(lead)
    client = client_for(cast["sdr"])
    for headers in ({}, HTMX):
        response = client.post(
            f"/leads/{lead.pk}/move/",
            {"to": "awaiting_assignment", "version": seen},
            headers=headers,
        )
        assert response.status_code == 409
        assert "changed by someone else" in response.text
        assert "Reload the lead" in response.text
        # The page shown is the lead as it is now, so the next click uses the new version.
        assert f'name="version" value="{lead.version}"' in response.text
        assert state_of(lead) == before


def test_missing_reason_is_a_form_error_and_changes_nothing(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/move/",
        {"to": "new", "version": lead.version, "reason": "   "},
        headers=HTMX,
    )
    assert response.status_code == 422
    assert "A reason is required for this move." in response.text
    # The form the user was filling (release to the queue) stays open.
    assert '<details class="release" id="release" open>' in response.text
    assert state_of(lead) == before


def test_move_not_in_the_table_is_refused_with_422_and_changes_nothing(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    before = state_of(lead)
    response = client_for(cast["admin"]).post(
        f"/leads/{lead.pk}/move/", {"to": "converted", "version": lead.version}
    )
    assert response.status_code == 422
    assert "Cannot move from" in response.text
    assert state_of(lead) == before


def test_malformed_move_is_a_form_error_and_changes_nothing(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    before = state_of(lead)
    client = client_for(cast["sdr"])
    for data in (
        {"to": "sdr_processing"},
        {"to": "nowhere", "version": lead.version},
        {"to": "sdr_processing", "version": "two"},
    ):
        response = client.post(f"/leads/{lead.pk}/move/", data)
        assert response.status_code == 422
        assert "The move was not made" in response.text
    assert state_of(lead) == before


def test_role_that_may_not_make_the_move_gets_403_and_nothing_changes(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    before = state_of(lead)
    # The head of marketing sees the lead (their SDR's) but assigning is the sales side's.
    response = client_for(cast["head_marketing"]).post(
        f"/leads/{lead.pk}/move/",
        {"to": "assigned", "version": lead.version, "manager": cast["sales"].pk},
    )
    assert response.status_code == 403
    assert "Your role may not make this move on this lead." in response.text
    assert state_of(lead) == before


def test_moving_a_lead_you_cannot_see_is_404_and_changes_nothing(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    before = state_of(lead)
    client = client_for(cast["sdr2"])
    for headers in ({}, HTMX):
        response = client.post(
            f"/leads/{lead.pk}/move/",
            {"to": "awaiting_assignment", "version": lead.version},
            headers=headers,
        )
        assert response.status_code == 404
        assert "This lead does not exist or is not visible to you." in response.text
        assert state_of(lead) == before


def test_head_of_sales_assigns_the_manager_chosen_in_the_select(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    response = client_for(cast["head_sales"]).post(
        f"/leads/{lead.pk}/move/",
        {"to": "assigned", "version": lead.version, "manager": cast["sales2"].pk},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.manager) == ("assigned", cast["sales2"])


def test_assigning_without_choosing_a_manager_is_refused_and_changes_nothing(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    before = state_of(lead)
    response = client_for(cast["head_sales"]).post(
        f"/leads/{lead.pk}/move/", {"to": "assigned", "version": lead.version, "manager": ""}
    )
    assert response.status_code == 422
    assert "Choose the sales manager to assign." in response.text
    assert state_of(lead) == before


def test_referring_and_routing_record_the_chosen_partner_and_department(
    cast: dict[str, User],
    departments: dict[str, Department],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    partner = Partner.objects.create(name="Web Partners LLC")
    group = Department.objects.create(name="Group Co", kind=Department.Kind.GROUP_COMPANY)
    client = client_for(cast["sdr"])
    referred = walk(make_lead(), cast["sdr"], "sdr_processing")
    routed = walk(make_lead(), cast["sdr"], "sdr_processing")
    client.post(
        f"/leads/{referred.pk}/move/",
        {"to": "referred", "version": referred.version, "partner": partner.pk},
    )
    client.post(
        f"/leads/{routed.pk}/move/",
        {"to": "routed", "version": routed.version, "department": group.pk},
    )
    referred.refresh_from_db()
    routed.refresh_from_db()
    assert (referred.status, referred.partner) == ("referred", partner)
    assert (routed.status, routed.routed_to) == ("routed", group)


def test_move_page_accepts_only_post(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()
    assert client_for(cast["sdr"]).get(f"/leads/{lead.pk}/move/").status_code == 405
    assert state_of(lead) == ("new", 1, 1)


def test_move_without_a_csrf_token_is_refused(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    lead = make_lead()
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast["sdr"])
    response = client.post(f"/leads/{lead.pk}/move/", {"to": "sdr_processing", "version": 1})
    assert response.status_code == 403
    assert state_of(lead) == ("new", 1, 1)
