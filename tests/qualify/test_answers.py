"""Questionnaire answers and BANT: checked whole, stored whole or not at all."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.errors import Forbidden, InvalidInput, MissingField
from leadrelay.leads.models import Lead, LeadEvent
from leadrelay.qualify import fields as qf
from leadrelay.qualify.answers import (
    handoff_missing,
    publish,
    save_answers,
    save_bant,
    summary,
    version_for,
)
from leadrelay.qualify.models import Answers, Bant, Questionnaire, QuestionnaireVersion
from tests.conftest import T0
from tests.factories import walk

MakeLead = Callable[..., Lead]


@pytest.fixture
def lead(cast: dict[str, User], make_lead: MakeLead) -> Lead:
    return walk(make_lead(service=Service.objects.get(code="ppc")), cast["sdr"], "sdr_processing")


def ppc() -> QuestionnaireVersion:
    version = Questionnaire.objects.get(service__code="ppc").current()
    assert version is not None
    return version


def field(type_: str, **more: Any) -> qf.Field:
    return qf.Field.of({"key": "k", "type": type_, "label_en": "K", **more})


@pytest.mark.parametrize(
    ("type_", "raw", "stored"),
    [
        ("text", "  Лендинг ", "Лендинг"),
        ("number", "1 500,5", "1500.5"),
        ("number", 7, "7"),
        (
            "money",
            {"amount": "150 000", "currency": "rub"},
            {"amount": "150000.00", "currency": "RUB"},
        ),
        ("date", "2027-02-01", "2027-02-01"),
        ("yes_no", "yes", True),
        ("yes_no", False, False),
        ("region", "Казань", "Казань"),
        ("text", "", None),
        ("money", {"amount": "", "currency": "RUB"}, None),
    ],
)
def test_answers_are_stored_in_one_form(type_: str, raw: Any, stored: Any) -> None:
    assert qf.clean(field(type_), raw) == stored


@pytest.mark.parametrize(
    ("type_", "raw"),
    [
        ("number", "many"),
        ("number", "NaN"),
        ("number", True),
        ("money", {"amount": "-5", "currency": "RUB"}),
        ("money", {"amount": "5", "currency": "GBP"}),
        ("money", "5"),
        ("date", "31.12.2026"),
        ("yes_no", "maybe"),
        ("text", "x" * 301),
        ("text", 5),
    ],
)
def test_a_wrong_answer_is_a_field_error(type_: str, raw: Any) -> None:
    with pytest.raises(qf.AnswerError):
        qf.clean(field(type_), raw)


def test_choices_accept_only_their_options() -> None:
    choices = [{"value": "a", "label_en": "A"}, {"value": "b", "label_en": "B"}]
    single = field("choice", choices=choices)
    multi = field("multi_choice", choices=choices)
    assert qf.clean(single, "b") == "b"
    assert qf.clean(multi, ["b", "a", ""]) == ["a", "b"]  # in the options' order
    for bad_field, raw in ((single, "c"), (multi, ["a", "c"]), (single, ["a"])):
        with pytest.raises(qf.AnswerError):
            qf.clean(bad_field, raw)


def test_a_wrong_type_saves_nothing_and_names_each_field(cast: dict[str, User], lead: Lead) -> None:
    version = ppc()
    with pytest.raises(InvalidInput) as caught:
        save_answers(
            cast["sdr"],
            lead.pk,
            version.pk,
            {
                "platforms": ["yandex_direct", "tiktok"],
                "target_cpl": {"amount": "lots", "currency": "RUB"},
                "running_now": "yes",
                "nonsense": "x",
            },
            now=T0,
        )
    assert set(caught.value.details["errors"]) == {"platforms", "target_cpl", "nonsense"}
    assert not Answers.objects.filter(lead=lead).exists()
    assert not LeadEvent.objects.filter(lead=lead, kind="qualification").exists()


def test_saving_writes_a_history_event_with_the_changed_fields(
    cast: dict[str, User], lead: Lead
) -> None:
    version = ppc()
    values = {"platforms": ["vk_ads"], "target_cpl": {"amount": "900", "currency": "RUB"}}
    save_answers(cast["sdr"], lead.pk, version.pk, values, now=T0)
    save_answers(cast["sdr"], lead.pk, version.pk, values, now=T0)  # unchanged: no event
    values["running_now"] = "no"
    save_answers(cast["sdr"], lead.pk, version.pk, values, now=T0)
    events = LeadEvent.objects.filter(lead=lead, kind="qualification").order_by("id")
    assert [e.data["changed"] for e in events] == [["platforms", "target_cpl"], ["running_now"]]
    assert all(e.actor_id == cast["sdr"].pk for e in events)


def test_a_new_version_never_changes_answers_given_against_the_old_one(
    cast: dict[str, User], lead: Lead, make_lead: MakeLead
) -> None:
    """An admin publishes v2 while the SDR is typing: the SDR's save lands on v1, the
    lead keeps v1, and only a lead with no answers yet gets v2."""
    v1 = ppc()
    opened = version_for(lead, v1.questionnaire)  # what the SDR's form shows
    assert opened == v1
    definition = [*v1.fields, {"key": "geo", "type": "text", "label_en": "Geo", "required": True}]
    v2 = publish(v1.questionnaire, definition, cast["admin"], now=T0)
    assert v2.number == v1.number + 1
    save_answers(
        cast["sdr"],
        lead.pk,
        opened.pk,
        {"platforms": ["vk_ads"], "target_cpl": {"amount": "900", "currency": "RUB"}},
        now=T0,
    )
    answers = Answers.objects.get(lead=lead, questionnaire=v1.questionnaire)
    assert answers.version_id == v1.pk
    assert version_for(lead, v1.questionnaire) == v1
    # v2's new required question is not asked of a lead answered on v1.
    assert "answers.geo" not in [f for f, _ in handoff_missing(lead)]
    fresh = walk(make_lead(service=lead.service), cast["sdr"], "sdr_processing")
    assert version_for(fresh, v1.questionnaire) == v2
    assert "answers.geo" in [f for f, _ in handoff_missing(fresh)]
    # Publishing the same definition again publishes nothing.
    assert publish(v1.questionnaire, definition, cast["admin"], now=T0) == v2
    with pytest.raises(TypeError):
        v1.save()


def test_answers_to_another_service_questionnaire_are_refused(
    cast: dict[str, User], lead: Lead
) -> None:
    seo = Questionnaire.objects.get(service__code="seo").current()
    assert seo is not None
    with pytest.raises(MissingField):
        save_answers(cast["sdr"], lead.pk, seo.pk, {"site_url": "x"}, now=T0)


def test_only_the_owner_sdr_fills_the_questionnaire(cast: dict[str, User], lead: Lead) -> None:
    version = ppc()
    walk_to_sales = walk(walk(lead, cast["sdr"], "awaiting_assignment"), cast["sales"], "assigned")
    with pytest.raises(Forbidden):
        save_answers(cast["sales"], walk_to_sales.pk, version.pk, {}, now=T0)
    with pytest.raises(Forbidden):  # closed once it left the SDR side, even for its SDR
        save_bant(cast["sdr"], walk_to_sales.pk, {"budget_band": "gt_3m"}, now=T0)


def test_bant_errors_name_each_field_and_save_nothing(cast: dict[str, User], lead: Lead) -> None:
    with pytest.raises(InvalidInput) as caught:
        save_bant(
            cast["sdr"],
            lead.pk,
            {
                "budget_amount": "-1",
                "budget_band": "huge",
                "currency": "XXX",
                "decision_maker": "perhaps",
                "need": "no_such_need",
                "timeframe_date": "tomorrow",
            },
            now=T0,
        )
    assert set(caught.value.details["errors"]) == {
        "budget_amount",
        "budget_band",
        "currency",
        "decision_maker",
        "need",
        "timeframe_date",
    }
    assert not Bant.objects.filter(lead=lead).exists()


def test_bant_is_stored_typed_and_reads_as_a_summary(cast: dict[str, User], lead: Lead) -> None:
    bant = save_bant(
        cast["sdr"],
        lead.pk,
        {
            "budget_amount": "450000",
            "currency": "RUB",
            "authority_role": "CMO",
            "decision_maker": "no",
            "need": "cost_per_lead",
            "need_text": "CPL is 4,000 now",
            "timeframe_date": "2027-03-01",
        },
        now=T0,
    )
    assert bant.budget_amount == Decimal("450000")
    assert bant.decision_maker is False
    sections = summary(lead)
    assert sections[0].title == "BANT"
    shown = {i.field: i.value for i in sections[0].items}
    assert shown["budget"] == "450\u00a0000.00 RUB"
    assert "CMO" in shown["authority"]
    assert shown["timeframe"] == "01.03.2027"


def test_a_budget_beyond_the_column_is_a_field_error(cast: dict[str, User], lead: Lead) -> None:
    with pytest.raises(InvalidInput) as caught:
        save_bant(cast["sdr"], lead.pk, {"budget_amount": "1000000000000"}, now=T0)
    assert set(caught.value.details["errors"]) == {"budget_amount"}
    assert not Bant.objects.filter(lead=lead).exists()
    bant = save_bant(cast["sdr"], lead.pk, {"budget_amount": "999999999999.994"}, now=T0)
    assert Bant.objects.get(pk=bant.pk).budget_amount == Decimal("999999999999.99")
