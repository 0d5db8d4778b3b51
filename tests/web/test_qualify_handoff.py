"""The hand-off panel: what is still missing, and the ends of the SDR's work, each through
its own form so no gate can be skipped; a sales return needs its reason code too."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from leadrelay.accounts.models import Department, User
from leadrelay.catalog.models import Partner, Service
from leadrelay.leads.models import Lead
from leadrelay.qualify.answers import handoff_missing
from leadrelay.qualify.models import Bant, Referral, Return, Routing
from tests.factories import qualify, walk
from tests.web.helpers import state_of

HTMX = {"HX-Request": "true"}
IN_PANEL = {**HTMX, "HX-Target": "handoff-panel"}


def claimed(make_lead: Callable[..., Lead], cast: dict[str, User], **fields: object) -> Lead:
    return walk(make_lead(**fields), cast["sdr"], "sdr_processing")


def panel(html: str) -> str:
    start = html.index('id="handoff-panel"')
    return html[start : html.index("</section>", start)]


def checklist_fields(html: str) -> list[str]:
    return re.findall(r'<li class="todo" data-field="([\w.]+)">', panel(html))


def test_the_checklist_is_what_the_gate_will_ask_for(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = claimed(make_lead, cast)  # no service yet
    client = client_for(cast["sdr"])
    expected = [field for field, _label in handoff_missing(lead)]
    assert checklist_fields(client.get(f"/leads/{lead.pk}/").text) == expected
    assert expected[:2] == ["service", "bant.budget"]
    Lead.objects.filter(pk=lead.pk).update(service=Service.objects.get(code="ppc"))
    client.post(f"/leads/{lead.pk}/bant/", {"budget_band": "300k_1m", "authority_role": "CEO"})
    lead.refresh_from_db()
    page = client.get(f"/leads/{lead.pk}/").text
    expected = [field for field, _label in handoff_missing(lead)]
    assert checklist_fields(page) == expected
    assert "bant.budget" not in expected and "answers.platforms" in expected
    assert f"{len(expected)} missing" in panel(page)
    qualify(lead)
    page = client.get(f"/leads/{lead.pk}/").text
    assert handoff_missing(lead) == [] and checklist_fields(page) == []
    assert "Everything sales needs is filled in." in panel(page)
    assert "Ready for sales" in panel(page)


@pytest.mark.parametrize("headers", [{}, IN_PANEL])
def test_a_hand_off_with_missing_answers_is_refused_naming_each_and_changes_nothing(
    headers: dict[str, str],
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast, service=Service.objects.get(code="seo"))
    Bant.objects.create(lead=lead, budget_band="lt_100k", updated_at=lead.received_at)
    before = state_of(lead)
    missing = handoff_missing(lead)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/move/",
        {"to": "awaiting_assignment", "version": lead.version},
        headers=headers,
    )
    assert response.status_code == 422
    refused = panel(response.text)
    assert "Not handed to sales yet. Still missing:" in refused
    items = re.findall(r'<li data-field="([\w.]+)">(.*?)</li>', refused)
    assert [field for field, _ in items] == [field for field, _ in missing]
    for (_, shown), (field, label) in zip(items, missing, strict=True):
        assert label.replace("'", "&#x27;") in shown, field
    assert 'data-focus="seo-site_url"' in refused  # each item leads to its field
    assert state_of(lead) == before
    if headers:
        # Only the panel is redrawn: the forms keep whatever the SDR typed.
        assert response.text.lstrip().startswith('<section class="card handoff" id="handoff-panel"')
        assert 'id="bant-form"' not in response.text


def test_a_qualified_request_is_handed_to_sales(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = qualify(claimed(make_lead, cast))
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/move/",
        {"to": "awaiting_assignment", "version": lead.version},
        headers=IN_PANEL,
    )
    assert response.status_code == 200
    # The lead is no longer the SDR's to work on: the whole of it is drawn again.
    assert response["HX-Retarget"] == "#lead-main"
    assert "Moved to “Awaiting a sales manager”." in response.text
    assert 'id="handoff-form"' not in response.text and 'id="bant-form"' not in response.text
    assert 'id="qualification-summary"' in response.text
    lead.refresh_from_db()
    assert lead.status == "awaiting_assignment" and lead.reached_mql_at is not None


@pytest.mark.parametrize("code", ["", "not_a_code", "not_qualified"])
def test_disqualifying_without_a_disqualification_code_is_refused(
    code: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead = claimed(make_lead, cast)
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/move/",
        {"to": "disqualified", "version": lead.version, "reason_code": code, "reason": "нет"},
        headers=IN_PANEL,
    )
    assert response.status_code == 422
    html = panel(response.text)
    assert "A disqualification reason code" in html
    assert '<details class="move move-danger" id="disqualify" open>' in html
    assert 'aria-describedby="disqualify-code-error"' in html
    assert state_of(lead) == before


def test_disqualifying_with_a_code_ends_the_request_and_says_why(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead()  # not even claimed: spam is spam
    client = client_for(cast["sdr"])
    assert 'id="disqualify-form"' in client.get(f"/leads/{lead.pk}/").text
    response = client.post(
        f"/leads/{lead.pk}/move/",
        {"to": "disqualified", "version": lead.version, "reason_code": "spam", "reason": "Бот"},
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.status, lead.end_reason_code, lead.end_reason) == ("disqualified", "spam", "Бот")
    page = client.get(f"/leads/{lead.pk}/").text
    assert "<dd>Spam</dd>" in page and "Reason: Spam" in page
    assert "<dd>Спам</dd>" in client_for(cast["sdr"], "ru").get(f"/leads/{lead.pk}/").text


def test_referring_records_the_partner_and_the_reason(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    partner = Partner.objects.create(name="Web Partners LLC")
    lead = claimed(make_lead, cast)
    client = client_for(cast["sdr"])
    before = state_of(lead)
    response = client.post(
        f"/leads/{lead.pk}/move/", {"to": "referred", "version": lead.version}, headers=IN_PANEL
    )
    assert response.status_code == 422
    assert "The partner the request goes to" in panel(response.text)
    assert state_of(lead) == before
    client.post(
        f"/leads/{lead.pk}/move/",
        {"to": "referred", "version": lead.version, "partner": partner.pk, "reason": "1С"},
    )
    referral = Referral.objects.get(lead=lead)
    assert (referral.partner, referral.reason) == (partner, "1С")
    page = client_for(cast["partner"]).get(f"/leads/{lead.pk}/").text
    assert "Partner: Web Partners LLC" in page


def test_routing_goes_to_a_group_company_never_to_a_funnel_department(
    cast: dict[str, User],
    departments: dict[str, Department],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    group = Department.objects.create(name="Group Co", kind=Department.Kind.GROUP_COMPANY)
    lead = claimed(make_lead, cast)
    client = client_for(cast["sdr"])
    before = state_of(lead)
    response = client.post(
        f"/leads/{lead.pk}/move/",
        {"to": "routed", "version": lead.version, "department": departments["sales"].pk},
    )
    assert response.status_code == 422 and "The move was not made" in response.text
    assert state_of(lead) == before
    client.post(
        f"/leads/{lead.pk}/move/",
        {"to": "routed", "version": lead.version, "department": group.pk, "reason": "Их клиент"},
    )
    routing = Routing.objects.get(lead=lead)
    assert (routing.department, routing.reason) == (group, "Их клиент")


def test_an_sdr_cannot_hand_off_another_sdrs_claimed_request(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = qualify(claimed(make_lead, cast))
    before = state_of(lead)
    client = client_for(cast["sdr2"])
    for data in (
        {"to": "awaiting_assignment"},
        {"to": "disqualified", "reason_code": "spam"},
    ):
        response = client.post(f"/leads/{lead.pk}/move/", {**data, "version": lead.version})
        assert response.status_code == 404
    assert state_of(lead) == before


def test_sales_sends_a_lead_back_only_with_a_return_code(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(claimed(make_lead, cast), cast["sdr"], "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    client = client_for(cast["sales"])
    page = client.get(f"/leads/{lead.pk}/").text
    back = page[page.index("↩ Return to the SDR") :]
    back = back[: back.index("</form>")]
    assert '<select name="reason_code" required>' in back
    assert "Not qualified: BANT does not hold" in back and "Spam" not in back
    before = state_of(lead)
    response = client.post(
        f"/leads/{lead.pk}/move/",
        {"to": "sdr_processing", "version": lead.version, "reason": "Нет бюджета"},
    )
    assert response.status_code == 422 and "A reason code for the return" in response.text
    assert state_of(lead) == before
    client.post(
        f"/leads/{lead.pk}/move/",
        {
            "to": "sdr_processing",
            "version": lead.version,
            "reason_code": "no_budget",
            "reason": "Нет бюджета",
        },
    )
    lead.refresh_from_db()
    ret = Return.objects.get(lead=lead)
    assert (lead.status, ret.reason_code, ret.reason) == (
        "sdr_processing",
        "no_budget",
        "Нет бюджета",
    )
