"""Each role sees only its own leads through the web; a denied request changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Partner
from leadrelay.leads.models import Lead
from tests.factories import walk
from tests.web.helpers import state_of


def listed_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<td class="num"><a href="/leads/(\d+)/">', html)]


def test_sdr_cannot_see_or_move_another_sdrs_lead(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    theirs = walk(make_lead(name="Theirs"), cast["sdr2"], "sdr_processing")
    mine = walk(make_lead(name="Mine"), cast["sdr"], "sdr_processing")
    incoming = make_lead(name="Nobody's yet")
    before = state_of(theirs)
    client = client_for(cast["sdr"])
    assert listed_ids(client.get("/leads/").text) == [incoming.pk, mine.pk]
    assert listed_ids(client.get(f"/leads/?sdr={cast['sdr2'].pk}").text) == []
    assert client.get(f"/leads/{theirs.pk}/").status_code == 404
    response = client.post(
        f"/leads/{theirs.pk}/move/",
        {"to": "disqualified", "version": theirs.version, "reason": "mine now"},
    )
    assert response.status_code == 404
    assert state_of(theirs) == before


def test_sales_cannot_see_leads_still_with_the_sdr(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    with_sdr = walk(make_lead(), cast["sdr"], "sdr_processing")
    queued = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    before = state_of(with_sdr)
    client = client_for(cast["sales"])
    assert listed_ids(client.get("/leads/").text) == [queued.pk]
    assert client.get(f"/leads/{with_sdr.pk}/").status_code == 404
    response = client.post(
        f"/leads/{with_sdr.pk}/move/", {"to": "awaiting_assignment", "version": with_sdr.version}
    )
    assert response.status_code == 404
    assert state_of(with_sdr) == before


def test_sales_manager_cannot_see_or_move_a_colleagues_lead(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing", "awaiting_assignment")
    lead = walk(lead, cast["sales2"], "assigned")
    before = state_of(lead)
    client = client_for(cast["sales"])
    assert listed_ids(client.get("/leads/").text) == []
    assert client.get(f"/leads/{lead.pk}/").status_code == 404
    response = client.post(
        f"/leads/{lead.pk}/move/",
        {"to": "discussion", "version": lead.version},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 404
    assert state_of(lead) == before


def test_partner_manager_sees_only_referred_leads(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    partner = Partner.objects.create(name="Web Partners LLC")
    referred = walk(make_lead(), cast["sdr"], "sdr_processing", "referred", partner=partner)
    other = walk(make_lead(), cast["sdr"], "sdr_processing")
    client = client_for(cast["partner"])
    assert listed_ids(client.get("/leads/").text) == [referred.pk]
    assert client.get(f"/leads/{other.pk}/").status_code == 404
