"""Questionnaire versions: publishing never changes answers already given."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.errors import InvalidInput, MissingField
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import claim
from leadrelay.qualify import answers
from leadrelay.qualify.models import Answers, Questionnaire, QuestionnaireVersion
from tests.conftest import T0


def text(key: str, required: bool = False, **more: Any) -> dict[str, Any]:
    return {"key": key, "type": "text", "label_en": key.title(), "label_ru": key, **more} | {
        "required": required
    }


def choice(key: str, *values: str) -> dict[str, Any]:
    return {
        "key": key,
        "type": "choice",
        "label_en": key.title(),
        "label_ru": key,
        "choices": [{"value": v, "label_en": v.title(), "label_ru": v} for v in values],
    }


@pytest.fixture
def service(db: None) -> Service:
    return Service.objects.create(code="versioning", name_en="Versioning", name_ru="Версии")


@pytest.fixture
def questionnaire(service: Service, cast: dict[str, User]) -> Questionnaire:
    q = Questionnaire.objects.create(service=service)
    answers.publish(q, [text("site", True), choice("kind", "landing", "shop")], cast["admin"], T0)
    return q


@pytest.fixture
def claimed(
    make_lead: Callable[..., Lead], service: Service, cast: dict[str, User]
) -> Callable[[], Lead]:
    def make() -> Lead:
        lead = make_lead(service=service)
        return claim(cast["sdr"], lead.pk)

    return make


def versions_of(q: Questionnaire) -> list[int]:
    return list(
        QuestionnaireVersion.objects.filter(questionnaire=q)
        .order_by("number")
        .values_list("number", flat=True)
    )


def test_publishing_makes_version_n_plus_1_and_past_answers_keep_version_n(
    questionnaire: Questionnaire, claimed: Callable[[], Lead], cast: dict[str, User]
) -> None:
    v1 = questionnaire.current()
    assert v1 is not None and v1.number == 1
    lead = claimed()
    sdr = cast["sdr"]
    # The SDR opens the form: it shows v1.
    opened = answers.version_for(lead, questionnaire)
    assert opened == v1
    saved = answers.save_answers(sdr, lead.pk, v1.pk, {"site": "a.ru", "kind": "shop"})
    assert saved.version_id == v1.pk

    # An admin renames a field, drops one and adds another: version 2.
    v2 = answers.publish(
        questionnaire,
        [text("site", True, label_en="Website"), text("cms")],
        cast["admin"],
        T0 + timedelta(hours=1),
    )
    assert (v2.number, v2.created_by, versions_of(questionnaire)) == (2, cast["admin"], [1, 2])
    assert questionnaire.current() == v2

    # The lead's answers did not move, and its form still shows v1 ...
    kept = Answers.objects.get(lead=lead, questionnaire=questionnaire)
    assert (kept.version_id, kept.values) == (v1.pk, {"site": "a.ru", "kind": "shop"})
    assert answers.version_for(lead, questionnaire) == v1
    # ... so the SDR who had v1 open saves against v1, "kind" (gone in v2) included.
    again = answers.save_answers(sdr, lead.pk, v1.pk, {"site": "b.ru", "kind": "landing"})
    assert (again.version_id, again.values) == (v1.pk, {"site": "b.ru", "kind": "landing"})
    # v1 itself was never rewritten.
    assert QuestionnaireVersion.objects.get(pk=v1.pk).fields == v1.fields

    # A new lead gets v2.
    fresh = claimed()
    assert answers.version_for(fresh, questionnaire) == v2
    # The summary sales read labels answers by the version they were given against.
    section = next(s for s in answers.summary(lead) if s.version is not None)
    assert section.version == 1
    assert [i.field for i in section.items] == ["site", "kind"]


def test_an_unchanged_definition_publishes_nothing(
    questionnaire: Questionnaire, cast: dict[str, User]
) -> None:
    current = questionnaire.current()
    assert current is not None
    same = answers.publish(questionnaire, list(current.fields), cast["head_marketing"])
    assert same == current
    # Defaults filled in (help, required) make no difference either.
    sparse = [
        {"key": "site", "type": "text", "label_en": "Site", "label_ru": "site", "required": True},
        choice("kind", "landing", "shop"),
    ]
    assert answers.publish(questionnaire, sparse, cast["admin"]) == current
    assert versions_of(questionnaire) == [1]


@pytest.mark.parametrize(
    ("definition", "bad_key", "message"),
    [
        ([text("site"), text("site")], "site", "used twice"),
        ([text("Site Url")], "Site Url", "lower-case Latin letters"),
        ([text("9lives")], "9lives", "lower-case Latin letters"),
        ([choice("kind")], "kind", "at least one option"),
        ([choice("kind", "a", "a")], "kind", "same value"),
        ([{"key": "x", "type": "colour", "label_en": "X", "label_ru": "X"}], "x", "Unknown"),
    ],
)
def test_an_invalid_definition_is_refused_and_nothing_is_published(
    questionnaire: Questionnaire,
    cast: dict[str, User],
    definition: list[dict[str, Any]],
    bad_key: str,
    message: str,
) -> None:
    with translation.override("en"), pytest.raises(InvalidInput) as caught:
        answers.publish(questionnaire, definition, cast["admin"])
    assert caught.value.http_status == 422
    assert message in caught.value.details["errors"][bad_key]
    assert versions_of(questionnaire) == [1]


def test_a_published_version_is_never_saved_again(questionnaire: Questionnaire) -> None:
    version = questionnaire.current()
    assert version is not None
    version.fields = []
    with pytest.raises(TypeError):
        version.save()
    assert QuestionnaireVersion.objects.get(pk=version.pk).fields != []


def test_answers_to_a_version_of_another_questionnaire_are_refused(
    questionnaire: Questionnaire, claimed: Callable[[], Lead], cast: dict[str, User]
) -> None:
    other = Questionnaire.objects.create(
        service=Service.objects.create(code="other", name_en="Other", name_ru="Другая")
    )
    foreign = answers.publish(other, [text("x")], cast["admin"])
    lead = claimed()
    with pytest.raises(MissingField) as caught:
        answers.save_answers(cast["sdr"], lead.pk, foreign.pk, {"x": "y"})
    assert caught.value.http_status == 422
    assert not Answers.objects.filter(lead=lead).exists()
