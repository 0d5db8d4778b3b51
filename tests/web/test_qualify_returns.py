"""Returns on the lead page (the SDR accepts or disputes, a head settles a dispute) and the
qualification summary sales reads."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.qualify.models import Return
from tests.factories import walk
from tests.web.helpers import state_of

HTMX = {"HX-Request": "true"}


def returned(make_lead: Callable[..., Lead], cast: dict[str, User]) -> tuple[Lead, Return]:
    """An MQL the sales manager sent back with a code and a reason."""
    lead = make_lead(service=Service.objects.get(code="seo"))
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales"], "assigned")
    lead = walk(lead, cast["sales"], "sdr_processing", reason="Клиент не знает бюджета")
    return lead, Return.objects.get(lead=lead)


def panel(html: str) -> str:
    start = html.index('id="return-panel"')
    return html[start : html.index("</section>", start)]


def test_the_sdr_sees_the_managers_reason_and_can_accept_or_dispute(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead, ret = returned(make_lead, cast)
    page = client_for(cast["sdr"]).get(f"/leads/{lead.pk}/").text
    html = panel(page)
    assert "Awaiting the SDR" in html
    assert "Not qualified: BANT does not hold" in html and "Клиент не знает бюджета" in html
    assert "by sales" in html
    assert f'action="/leads/{lead.pk}/returns/{ret.pk}/decide/"' in html
    assert 'name="decision" value="accept"' in html and 'name="decision" value="dispute"' in html
    assert "return-judge-form" not in html
    assert "Returned to the SDR" in page  # the move itself, in the history
    ru = panel(client_for(cast["sdr"], "ru").get(f"/leads/{lead.pk}/").text)
    assert "Не квалифицирован: BANT не подтвердился" in ru


def test_the_sdr_accepts_the_return(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead, ret = returned(make_lead, cast)
    client = client_for(cast["sdr"])
    response = client.post(
        f"/leads/{lead.pk}/returns/{ret.pk}/decide/", {"decision": "accept"}, headers=HTMX
    )
    assert response.status_code == 200 and "Return accepted." in response.text
    ret.refresh_from_db()
    assert ret.state == Return.State.ACCEPTED
    html = panel(response.text)
    assert "Accepted by the SDR" in html and "return-decide-form" not in html
    assert "Return: Accepted by the SDR" in response.text  # the history


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_dispute_needs_a_note_and_nothing_changes_without_one(
    headers: dict[str, str],
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead, ret = returned(make_lead, cast)
    before = state_of(lead)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/returns/{ret.pk}/decide/",
        {"decision": "dispute", "note": "  "},
        headers=headers,
    )
    assert response.status_code == 422
    assert '<p class="field-error" role="alert" id="return-error">' in response.text
    assert "Say why you dispute the return." in response.text
    ret.refresh_from_db()
    assert ret.state == Return.State.OPEN and state_of(lead) == before


def test_a_malformed_decision_is_refused(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead, ret = returned(make_lead, cast)
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/returns/{ret.pk}/decide/", {"decision": "maybe"}
    )
    assert response.status_code == 422 and "Accept the return or dispute it." in response.text
    ret.refresh_from_db()
    assert ret.state == Return.State.OPEN


@pytest.mark.parametrize(
    ("verdict", "state", "status"),
    [
        ("overturn", Return.State.OVERTURNED, "awaiting_assignment"),
        ("uphold", Return.State.UPHELD, "sdr_processing"),
    ],
)
def test_the_head_of_marketing_settles_a_dispute(
    verdict: str,
    state: str,
    status: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    lead, ret = returned(make_lead, cast)
    client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/returns/{ret.pk}/decide/",
        {"decision": "dispute", "note": "BANT был подтверждён звонком"},
    )
    head = client_for(cast["head_marketing"])
    html = panel(head.get(f"/leads/{lead.pk}/").text)
    assert "Disputed, awaiting a head" in html and "BANT был подтверждён звонком" in html
    assert 'name="verdict" value="overturn"' in html and "return-decide-form" not in html
    # The SDR who disputed cannot settle it.
    assert "return-judge-form" not in panel(client_for(cast["sdr"]).get(f"/leads/{lead.pk}/").text)
    response = head.post(
        f"/leads/{lead.pk}/returns/{ret.pk}/judge/", {"verdict": verdict, "note": "Решено"}
    )
    assert response.status_code == 302
    ret.refresh_from_db()
    lead.refresh_from_db()
    assert (ret.state, ret.judge, lead.status) == (state, cast["head_marketing"], status)
    page = head.get(f"/leads/{lead.pk}/").text
    assert "Decided by head_marketing" in panel(page) and "Решено" in panel(page)
    kinds = list(
        LeadEvent.objects.filter(lead=lead, kind=LeadEvent.Kind.RETURN).values_list(
            "data__state", flat=True
        )
    )
    assert kinds == ["disputed", state]


def test_an_sdr_cannot_judge_and_another_sdr_cannot_decide(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead, ret = returned(make_lead, cast)
    assert (
        client_for(cast["sdr2"])
        .post(f"/leads/{lead.pk}/returns/{ret.pk}/decide/", {"decision": "accept"})
        .status_code
        == 404
    )
    client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/returns/{ret.pk}/decide/", {"decision": "dispute", "note": "нет"}
    )
    response = client_for(cast["sdr"]).post(
        f"/leads/{lead.pk}/returns/{ret.pk}/judge/", {"verdict": "overturn"}
    )
    assert response.status_code == 403
    assert "Only the head of marketing or sales settles a dispute." in response.text
    ret.refresh_from_db()
    assert ret.state == Return.State.DISPUTED


def test_a_return_of_another_lead_is_a_404(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    _lead, ret = returned(make_lead, cast)
    other = walk(make_lead(), cast["sdr"], "sdr_processing")
    response = client_for(cast["sdr"]).post(
        f"/leads/{other.pk}/returns/{ret.pk}/decide/", {"decision": "accept"}
    )
    assert response.status_code == 404
    ret.refresh_from_db()
    assert ret.state == Return.State.OPEN


# The summary sales reads ----------------------------------------------------------------------


def test_sales_reads_the_qualification_summary_with_its_versions(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = make_lead(service=Service.objects.get(code="seo"))
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    page = client_for(cast["sales"]).get(f"/leads/{lead.pk}/").text
    start = page.index('id="qualification-summary"')
    summary = page[start : page.index("</section>", start)]
    # Sales reads it first, before the contact details.
    assert start < page.index('id="lead-request"')
    assert '<h2 id="summary-title">Qualification</h2>' in summary
    for text in (
        "<h3>BANT</h3>",
        'Common block <span class="muted small">version 1</span>',
        'SEO <span class="muted small">version 1</span>',
        "<dt>Budget</dt><dd>500\u00a0000.00 RUB</dd>",
        "<dt>Authority</dt><dd>CEO, decides</dd>",
        "<dt>Promotion region</dt><dd>Москва</dd>",
        "<dt>Search engines</dt><dd>Yandex</dd>",
    ):
        assert text in summary, text
    ru = client_for(cast["sales"], "ru").get(f"/leads/{lead.pk}/").text
    start = ru.index('id="qualification-summary"')
    summary = ru[start : ru.index("</section>", start)]
    for text in ("SEO-продвижение", "Регион продвижения", "Поисковые системы", "Яндекс"):
        assert text in summary, text
