"""The brief's link: signed, expiring, single use, withdrawn by a newer link or by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone, translation

from leadrelay.accounts.models import User
from leadrelay.leads.errors import Forbidden, InvalidInput, LeadNotFound
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.notify.models import Outbox
from leadrelay.presale import briefs, defaults
from leadrelay.presale.models import Brief, BriefTemplate
from tests.presale.conftest import SEO_ANSWERS

pytestmark = pytest.mark.django_db


def test_sending_makes_a_brief_from_the_service_template_and_emails_the_link(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    now = timezone.now()

    brief, url = briefs.send_brief(cast["sales"], lead.pk, now=now)

    assert url == f"/brief/{briefs.token_for(brief)}/"
    template = BriefTemplate.objects.get(service__code="seo")
    assert brief.fields == template.fields
    assert (brief.sent_to, brief.sent_at) == ("irina@example.ru", now)
    assert brief.expires_at == now + timedelta(days=template.link_days)
    event = LeadEvent.objects.get(lead=lead, kind="brief")
    assert (event.actor, event.at) == (cast["sales"], now)
    assert event.data == {"brief": brief.pk, "action": "sent", "to": "irina@example.ru"}
    mail = Outbox.objects.get(event="brief_link")
    assert mail.payload["to"] == "irina@example.ru"
    assert url in mail.payload["text"]


def test_a_template_edit_does_not_change_a_brief_already_made(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    before = list(brief.fields)
    BriefTemplate.objects.filter(service__code="seo").update(
        fields=[{"key": "x", "type": "text", "label_en": "X", "label_ru": "Х"}]
    )
    assert Brief.objects.get(pk=brief.pk).fields == before


def test_a_service_without_a_template_gets_the_generic_brief(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    BriefTemplate.objects.filter(service__code="smm").delete()
    lead = discussion_lead(service="smm")
    brief = briefs.make_brief(cast["sales"], lead.pk)
    assert [f["key"] for f in brief.fields] == [f["key"] for f in defaults.GENERIC]


def test_a_tampered_token_is_not_valid(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    brief, _url = briefs.send_brief(cast["sales"], discussion_lead().pk)
    token = briefs.token_for(brief)
    with translation.override("en"), pytest.raises(briefs.LinkTampered) as caught:
        briefs.brief_for_token(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    assert caught.value.message == "This link is not valid."
    assert caught.value.http_status == 404


def test_a_signature_does_not_open_another_brief(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    first, _url = briefs.send_brief(cast["sales"], discussion_lead().pk)
    other, _url = briefs.send_brief(cast["sales"], discussion_lead(email="b@example.ru").pk)
    signature = briefs.token_for(first).split(":", 1)[1]
    with pytest.raises(briefs.LinkTampered):
        briefs.brief_for_token(f"{other.nonce.hex}:{signature}")
    with pytest.raises(briefs.LinkTampered):
        briefs.fill_by_client(f"{other.nonce.hex}:{signature}", SEO_ANSWERS)
    assert not Brief.objects.filter(filled_at__isnull=False).exists()


def test_a_link_expires_after_the_templates_days(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    now = timezone.now()
    brief, _url = briefs.send_brief(cast["sales"], discussion_lead().pk, now=now)
    token = briefs.token_for(brief)
    assert briefs.brief_for_token(token, now + timedelta(days=13, hours=23)).pk == brief.pk
    later = now + timedelta(days=14, seconds=1)
    with translation.override("en"), pytest.raises(briefs.LinkExpired) as caught:
        briefs.fill_by_client(token, SEO_ANSWERS, now=later)
    assert caught.value.message.startswith("This link expired on ")
    assert caught.value.message.endswith("; ask your manager for a new one.")
    assert caught.value.http_status == 410
    assert Brief.objects.get(pk=brief.pk).filled_at is None


def test_a_new_link_withdraws_the_earlier_unfilled_one(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    first, _url = briefs.send_brief(cast["sales"], lead.pk)
    second, _url = briefs.send_brief(cast["sales"], lead.pk, to="boss@example.ru")
    with translation.override("en"), pytest.raises(briefs.LinkRevoked) as caught:
        briefs.brief_for_token(briefs.token_for(first))
    assert caught.value.message == "This link was withdrawn."
    assert briefs.brief_for_token(briefs.token_for(second)).sent_to == "boss@example.ru"


def test_a_withdrawn_link_takes_nothing(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    briefs.revoke(cast["sales"], brief.pk)
    briefs.revoke(cast["sales"], brief.pk)  # again: nothing more
    events = LeadEvent.objects.filter(lead=lead, kind="brief").order_by("id")
    assert [e.data["action"] for e in events] == ["sent", "revoked"]
    with pytest.raises(briefs.LinkRevoked):
        briefs.fill_by_client(briefs.token_for(brief), SEO_ANSWERS)
    assert Lead.objects.get(pk=lead.pk).status == "discussion"


def test_a_link_to_a_lead_that_was_lost_is_withdrawn(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    from tests.factories import walk

    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    walk(lead, cast["sales"], "lost")
    with pytest.raises(briefs.LinkRevoked):
        briefs.fill_by_client(briefs.token_for(brief), SEO_ANSWERS)


def test_a_wrong_address_sends_nothing(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead(email="")
    with pytest.raises(InvalidInput) as caught:
        briefs.send_brief(cast["sales"], lead.pk)
    assert set(caught.value.details["errors"]) == {"to"}
    with pytest.raises(InvalidInput):
        briefs.send_brief(cast["sales"], lead.pk, to="not an address")
    assert not Brief.objects.exists()
    assert not Outbox.objects.filter(event="brief_link").exists()
    assert not LeadEvent.objects.filter(lead=lead, kind="brief").exists()


def test_another_manager_cannot_see_and_an_sdr_cannot_send(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    with pytest.raises(LeadNotFound):
        briefs.send_brief(cast["sales2"], lead.pk)
    with pytest.raises((Forbidden, LeadNotFound)):
        briefs.send_brief(cast["sdr"], lead.pk)
    brief, _url = briefs.send_brief(cast["head_sales"], lead.pk)
    with pytest.raises(LeadNotFound):
        briefs.revoke(cast["sales2"], brief.pk)
    assert Brief.objects.get(pk=brief.pk).revoked_at is None
