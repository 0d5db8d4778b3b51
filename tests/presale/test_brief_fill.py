"""Filling the brief: the client's answers move a discussing lead to SAL and tell its
manager; the manager may fill it from a call; a wrong answer saves nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone, translation

from leadrelay.accounts.models import User
from leadrelay.leads.errors import InvalidInput, TransitionNotAllowed
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.notify.models import Notification, Outbox
from leadrelay.presale import briefs
from leadrelay.presale.models import Brief
from tests.factories import walk
from tests.presale.conftest import SEO_ANSWERS

pytestmark = pytest.mark.django_db


def test_the_clients_answers_make_the_lead_sal_and_tell_the_manager(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    now = timezone.now()

    filled = briefs.fill_by_client(briefs.token_for(brief), SEO_ANSWERS, now=now)

    assert (filled.filled_at, filled.filled_via, filled.filled_by) == (now, "client", None)
    assert filled.values["budget"] == {"amount": "120000.00", "currency": "RUB"}
    lead.refresh_from_db()
    assert (lead.status, lead.reached_sal_at) == ("brief_filled", now)
    fill, move = LeadEvent.objects.filter(lead=lead, at=now).order_by("id")
    assert (fill.kind, fill.actor, fill.data) == (
        "brief",
        None,
        {"brief": brief.pk, "action": "filled", "via": "client"},
    )
    assert (move.kind, move.actor, move.from_status, move.to_status, move.reason) == (
        "status",
        None,
        "discussion",
        "brief_filled",
        "",
    )
    note = Notification.objects.get(kind="brief_filled")
    assert (note.user, note.lead_id, note.data) == (cast["sales"], lead.pk, {"company": "Ромашка"})
    assert Outbox.objects.filter(event="brief_filled", user=cast["sales"]).count() == 1


def test_a_used_link_is_refused_and_keeps_the_first_answers(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    token = briefs.token_for(brief)
    briefs.fill_by_client(token, SEO_ANSWERS)
    with translation.override("en"), pytest.raises(briefs.LinkUsed) as caught:
        briefs.fill_by_client(token, {**SEO_ANSWERS, "queries": "другое"})
    assert caught.value.message.startswith("This brief was already filled in on ")
    assert caught.value.message.endswith("; thank you.")
    assert Brief.objects.get(pk=brief.pk).values["queries"] == SEO_ANSWERS["queries"]
    assert LeadEvent.objects.filter(lead=lead, kind="brief", data__action="filled").count() == 1


def test_filling_while_the_lead_is_further_on_only_records(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    lead = walk(lead, cast["sales"], "brief_filled", "proposal")
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    before = Lead.objects.get(pk=lead.pk)
    briefs.fill_by_client(briefs.token_for(brief), SEO_ANSWERS)
    after = Lead.objects.get(pk=lead.pk)
    assert (after.status, after.version) == ("proposal", before.version)
    assert not LeadEvent.objects.filter(lead=lead, kind="status", actor=None).exists()


def test_wrong_or_missing_answers_save_nothing(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    brief, _url = briefs.send_brief(cast["sales"], lead.pk)
    bad = {"goal": "fame", "budget": {"amount": "-5", "currency": "RUB"}}
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        briefs.fill_by_client(briefs.token_for(brief), bad)
    assert caught.value.details["errors"] == {
        "goal": "Choose one of the options.",
        "budget": "An amount cannot be negative.",
        "queries": "This answer is required.",
    }
    assert Brief.objects.get(pk=brief.pk).filled_at is None
    assert Lead.objects.get(pk=lead.pk).status == "discussion"
    assert not Notification.objects.exists()
    # A right answer beside a wrong one is not reported missing.
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        briefs.fill_by_client(briefs.token_for(brief), {**SEO_ANSWERS, "budget": "много"})
    assert caught.value.details["errors"] == {"budget": "Enter an amount and a currency."}


def test_the_manager_fills_it_from_a_call(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    now = timezone.now()
    brief = briefs.fill_from_call(cast["sales"], lead.pk, SEO_ANSWERS, now=now)
    assert (brief.filled_via, brief.filled_by, brief.sent_at) == ("call", cast["sales"], None)
    fill, move = LeadEvent.objects.filter(lead=lead, at=now).order_by("id")
    assert (fill.actor, fill.data) == (
        cast["sales"],
        {"brief": brief.pk, "action": "filled", "via": "call"},
    )
    assert (move.actor, move.to_status) == (cast["sales"], "brief_filled")
    assert not Notification.objects.filter(kind="brief_filled").exists()


def test_a_call_fills_the_link_already_sent_which_then_says_so(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    lead = discussion_lead()
    sent, _url = briefs.send_brief(cast["sales"], lead.pk)
    filled = briefs.fill_from_call(cast["sales"], lead.pk, SEO_ANSWERS)
    assert filled.pk == sent.pk
    with pytest.raises(briefs.LinkUsed):
        briefs.brief_for_token(briefs.token_for(sent))


def test_no_brief_before_the_manager_accepts_the_lead(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    from leadrelay.catalog.models import Service

    lead = make_lead(service=Service.objects.get(code="seo"))
    lead = walk(lead, cast["sdr"], "sdr_processing", "awaiting_assignment")
    walk(lead, cast["sales"], "assigned")
    with pytest.raises(TransitionNotAllowed):
        briefs.fill_from_call(cast["sales"], lead.pk, SEO_ANSWERS)
    assert not Brief.objects.exists()


def test_a_filled_brief_cannot_be_withdrawn(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    brief = briefs.fill_from_call(cast["sales"], discussion_lead().pk, SEO_ANSWERS)
    with pytest.raises(TransitionNotAllowed):
        briefs.revoke(cast["sales"], brief.pk)


def test_answers_read_back_in_the_current_language(
    cast: dict[str, User], discussion_lead: Callable[..., Lead]
) -> None:
    brief = briefs.fill_from_call(cast["sales"], discussion_lead().pk, SEO_ANSWERS)
    with translation.override("en"):
        shown = dict(briefs.answers(brief))
    assert shown["The main goal"] == "More leads from search"
    assert shown["Budget per month"] == "120\u00a0000.00 RUB"
