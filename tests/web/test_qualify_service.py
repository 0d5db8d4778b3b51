"""A request that came without a service: the SDR names it, and its questionnaire and
its required answers appear."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.qualify.answers import handoff_missing
from tests.factories import walk


def test_the_sdr_names_the_service_and_its_questionnaire_applies(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    assert handoff_missing(lead)[0][0] == "service"
    page = client_for(cast["sdr"]).get(f"/leads/{lead.pk}/")
    assert b'id="service-form"' in page.content
    response = client_for(cast["sdr"]).post(f"/leads/{lead.pk}/service/", {"service": "smm"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.service == Service.objects.get(code="smm")
    fields = [f for f, _ in handoff_missing(lead)]
    assert "service" not in fields and "answers.networks" in fields
    event = LeadEvent.objects.get(lead=lead, kind="qualification")
    assert (event.data["service"], event.data["service_before"]) == ("smm", None)
    page = client_for(cast["sdr"]).get(f"/leads/{lead.pk}/")
    assert page.status_code == 200
    assert b'id="questionnaire-smm-form"' in page.content
    assert "Service named: SMM" in page.content.decode()


def test_an_unknown_service_changes_nothing_and_another_sdr_may_not(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    lead = walk(make_lead(), cast["sdr"], "sdr_processing")
    response = client_for(cast["sdr"]).post(f"/leads/{lead.pk}/service/", {"service": "nope"})
    assert response.status_code == 422
    response = client_for(cast["sdr2"]).post(f"/leads/{lead.pk}/service/", {"service": "smm"})
    assert response.status_code == 404
    lead.refresh_from_db()
    assert lead.service_id is None
    assert not LeadEvent.objects.filter(lead=lead, kind="qualification").exists()
