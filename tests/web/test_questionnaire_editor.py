"""The questionnaire editor: admins publish versions in the web UI; answers keep theirs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import claim
from leadrelay.qualify import answers
from leadrelay.qualify.models import Answers, Questionnaire, QuestionnaireVersion

HTMX = {"HX-Request": "true"}
LIST_QUERIES = 6  # session, user, questionnaires, their newest versions, services (+1 spare)
EDITOR_QUERIES = 5  # session, user, questionnaire, its versions (+1 spare)

ALL_TYPES: list[dict[str, Any]] = [
    {"key": "t_text", "type": "text", "label_en": "Site name", "label_ru": "Имя сайта"},
    {
        "key": "t_long",
        "type": "long_text",
        "label_en": "About the project",
        "label_ru": "О проекте",
        "help_en": "A few sentences",
        "help_ru": "Пара предложений",
    },
    {"key": "t_number", "type": "number", "label_en": "Pages", "label_ru": "Страниц"},
    {"key": "t_money", "type": "money", "label_en": "Ad spend", "label_ru": "Расход на рекламу"},
    {
        "key": "t_choice",
        "type": "choice",
        "label_en": "Site kind",
        "label_ru": "Тип сайта",
        "required": True,
        "choices": [
            {"value": "shop", "label_en": "Online shop", "label_ru": "Интернет-магазин"},
            {"value": "landing", "label_en": "Landing page", "label_ru": "Лендинг"},
        ],
    },
    {
        "key": "t_multi",
        "type": "multi_choice",
        "label_en": "Engines",
        "label_ru": "Поисковики",
        "choices": [
            {"value": "yandex", "label_en": "Yandex search", "label_ru": "Яндекс-поиск"},
            {"value": "google", "label_en": "Google search", "label_ru": "Гугл-поиск"},
        ],
    },
    {"key": "t_date", "type": "date", "label_en": "Launch date", "label_ru": "Дата запуска"},
    {"key": "t_yes_no", "type": "yes_no", "label_en": "Has a CRM", "label_ru": "Есть CRM"},
    {"key": "t_region", "type": "region", "label_en": "Where", "label_ru": "Где продвигать"},
]


def form(definition: list[dict[str, Any]], base: int, action: str = "publish") -> dict[str, str]:
    """The editor's POST body for ``definition``, as the page's form sends it."""
    data = {"fields": str(len(definition)), "base": str(base), "action": action}
    for i, f in enumerate(definition):
        p = f"f-{i}-"
        for name in ("key", "type", "label_en", "label_ru", "help_en", "help_ru"):
            data[p + name] = str(f.get(name, ""))
        if f.get("required"):
            data[p + "required"] = "on"
        options = f.get("choices") or []
        data[p + "options"] = str(len(options))
        for j, o in enumerate(options):
            for name in ("value", "label_en", "label_ru"):
                data[f"{p}o-{j}-{name}"] = o[name]
    return data


def field_block(html: str, index: int) -> str:
    """The editor's card of field ``index`` (0-based)."""
    start = html.index(f'id="field-{index}"')
    end = html.find('<li class="qfield', start + 1)
    return html[start : end if end != -1 else len(html)]


def numbers(q: Questionnaire) -> list[int]:
    return list(
        QuestionnaireVersion.objects.filter(questionnaire=q)
        .order_by("number")
        .values_list("number", flat=True)
    )


@pytest.fixture
def service(db: None) -> Service:
    return Service.objects.create(code="editor-test", name_en="Editor test", name_ru="Тест")


@pytest.fixture
def questionnaire(service: Service, cast: dict[str, User]) -> Questionnaire:
    q = Questionnaire.objects.create(service=service)
    answers.publish(q, ALL_TYPES[:1] + ALL_TYPES[4:5], cast["admin"])
    return q


@pytest.fixture
def admin_client(cast: dict[str, User], client_for: Callable[..., Client]) -> Client:
    return client_for(cast["admin"])


def url(q: Questionnaire, rest: str = "") -> str:
    return f"/settings/questionnaires/{q.pk}/{rest}"


# Who may edit ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("admin", 200),
        ("head_marketing", 200),
        ("sdr", 403),
        ("sales", 403),
        ("head_sales", 403),
        ("partner", 403),
    ],
)
def test_only_admins_and_the_head_of_marketing_open_the_editor(
    cast: dict[str, User],
    client_for: Callable[..., Client],
    questionnaire: Questionnaire,
    role: str,
    status: int,
) -> None:
    client = client_for(cast[role])
    for path in ("/settings/questionnaires/", url(questionnaire), url(questionnaire, "preview/")):
        assert client.get(path).status_code == status, path
    assert client.get(url(questionnaire, "versions/1/")).status_code == status
    assert client.get(f"/settings/questionnaires/new/{questionnaire.service_id}/").status_code in (
        302 if status == 200 else 403,
    )
    if status == 403:
        page = client.get(url(questionnaire)).text
        assert "Not allowed" in page


def test_a_denied_post_publishes_nothing(
    cast: dict[str, User], client_for: Callable[..., Client], questionnaire: Questionnaire
) -> None:
    current = questionnaire.current()
    assert current is not None
    changed = [dict(current.fields[0], label_en="Renamed"), *current.fields[1:]]
    for role in ("sdr", "sales"):
        response = client_for(cast[role]).post(url(questionnaire), form(changed, base=1))
        assert response.status_code == 403
    other = Service.objects.create(code="bare", name_en="Bare", name_ru="Пусто")
    response = client_for(cast["sdr"]).post(
        f"/settings/questionnaires/new/{other.pk}/", form(ALL_TYPES[:1], base=0)
    )
    assert response.status_code == 403
    assert numbers(questionnaire) == [1]
    assert not Questionnaire.objects.filter(service=other).exists()


def test_a_superuser_without_a_role_may_edit(
    db: None, client_for: Callable[..., Client], questionnaire: Questionnaire
) -> None:
    root = User.objects.create_superuser("root", "root@agency.test", "pw-root-123!")
    assert client_for(root).get(url(questionnaire)).status_code == 200


def test_not_logged_in_goes_to_the_login_page(questionnaire: Questionnaire) -> None:
    for path in ("/settings/questionnaires/", url(questionnaire)):
        response = Client().get(path)
        assert response.status_code == 302
        assert response["Location"].startswith("/?next=")


# The list ----------------------------------------------------------------------------


def test_list_shows_the_common_block_and_every_service(
    admin_client: Client,
    questionnaire: Questionnaire,
    cast: dict[str, User],
    django_assert_max_num_queries: Any,
) -> None:
    bare = Service.objects.create(code="bare", name_en="Bare service", name_ru="Голая услуга")
    with django_assert_max_num_queries(LIST_QUERIES):
        page = admin_client.get("/settings/questionnaires/").text
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)[1:]
    assert len(rows) == 1 + Service.objects.count()
    assert "Common block" in rows[0]
    assert "system (installation)" in rows[0]  # the common block came with the install
    mine = next(r for r in rows if "Editor test" in r)
    assert f'href="/settings/questionnaires/{questionnaire.pk}/"' in mine
    cells = re.findall(r'<td class="num">(\d+)</td>', mine)
    assert cells == ["1", "2"]  # version 1, two fields
    assert str(cast["admin"]) in mine
    empty = next(r for r in rows if "Bare service" in r)
    assert "No questionnaire yet" in empty
    assert f'href="/settings/questionnaires/new/{bare.pk}/"' in empty
    # The common block exists from the install: its create address leads to its editor.
    common = Questionnaire.objects.get(common=True)
    response = admin_client.get("/settings/questionnaires/new/common/")
    assert (response.status_code, response["Location"]) == (302, url(common))


def test_list_in_russian_names_services_in_russian(
    questionnaire: Questionnaire, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["head_marketing"], "ru").get("/settings/questionnaires/").text
    assert '<html lang="ru">' in page
    assert "Тест" in page and "Editor test" not in page


# Editing and publishing ------------------------------------------------------------------


def test_editor_shows_every_field_with_both_labels_history_and_a_preview(
    admin_client: Client, questionnaire: Questionnaire, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(EDITOR_QUERIES):
        page = admin_client.get(url(questionnaire)).text
    assert '<input type="hidden" name="fields" value="2">' in page
    assert '<input type="hidden" name="base" value="1">' in page
    assert 'name="f-0-key" value="t_text"' in page
    assert 'name="f-0-label_ru" value="Имя сайта"' in page
    assert 'name="f-1-o-1-value" value="landing"' in page
    assert '<option value="choice" class="qchoice" selected>' in page
    assert "Publish version 2" in page
    assert "Answers already given are not changed." in page
    assert f'href="/settings/questionnaires/{questionnaire.pk}/versions/1/">v1</a>' in page
    assert 'id="preview"' in page and "Site kind" in page


def test_publishing_makes_version_n_plus_1_and_past_answers_keep_version_n(
    admin_client: Client,
    questionnaire: Questionnaire,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
) -> None:
    v1 = questionnaire.current()
    assert v1 is not None
    lead = claim(cast["sdr"], make_lead(service=questionnaire.service).pk)
    answers.save_answers(cast["sdr"], lead.pk, v1.pk, {"t_text": "a.ru", "t_choice": "shop"})

    edited = [
        dict(v1.fields[0], label_en="Website", label_ru="Сайт"),
        dict(v1.fields[1], choices=[*v1.fields[1]["choices"][:1]]),  # "landing" dropped
        ALL_TYPES[7],
    ]
    response = admin_client.post(url(questionnaire), form(edited, base=1))
    assert response.status_code == 302
    assert response["Location"] == url(questionnaire)
    assert numbers(questionnaire) == [1, 2]
    v2 = questionnaire.current()
    assert v2 is not None and v2.created_by == cast["admin"]
    assert [f["key"] for f in v2.fields] == ["t_text", "t_choice", "t_yes_no"]
    assert v2.fields[0]["label_en"] == "Website"
    page = admin_client.get(response["Location"]).text
    assert "Version 2 is published." in page
    assert "Publish version 3" in page

    # The lead answered against v1 keeps v1; an SDR with v1 open still saves against it.
    kept = Answers.objects.get(lead=lead, questionnaire=questionnaire)
    assert (kept.version_id, kept.values) == (v1.pk, {"t_text": "a.ru", "t_choice": "shop"})
    assert answers.version_for(lead, questionnaire) == v1
    again = answers.save_answers(
        cast["sdr"], lead.pk, v1.pk, {"t_text": "a.ru", "t_choice": "landing"}
    )
    assert again.version_id == v1.pk and again.values["t_choice"] == "landing"
    # A new request gets v2.
    fresh = claim(cast["sdr"], make_lead(service=questionnaire.service).pk)
    assert answers.version_for(fresh, questionnaire) == v2


def test_saving_without_changes_publishes_nothing(
    admin_client: Client, questionnaire: Questionnaire
) -> None:
    current = questionnaire.current()
    assert current is not None
    response = admin_client.post(url(questionnaire), form(current.fields, base=1), follow=True)
    assert response.status_code == 200
    assert "Nothing changed: version 1 stays the current one." in response.text
    assert numbers(questionnaire) == [1]


def test_the_head_of_marketing_publishes_in_russian(
    questionnaire: Questionnaire, cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    client = client_for(cast["head_marketing"], "ru")
    current = questionnaire.current()
    assert current is not None
    response = client.post(url(questionnaire), form(current.fields[:1], base=1))
    assert response.status_code == 302
    v2 = questionnaire.current()
    assert v2 is not None and (v2.number, v2.created_by) == (2, cast["head_marketing"])
    page = client.get(url(questionnaire)).text
    assert '<html lang="ru">' in page
    assert "Имя сайта" in page  # the preview speaks Russian
    assert '<label class="qp-label" for="qp-t_text">Имя сайта' in page


@pytest.mark.parametrize(
    ("change", "bad_row", "message"),
    [
        (lambda d: [*d, dict(d[0])], 2, "The key “t_text” is used twice."),
        (lambda d: [dict(d[0], key="Site URL"), d[1]], 0, "lower-case Latin letters"),
        (lambda d: [d[0], dict(d[1], choices=[])], 1, "A choice field needs at least one option."),
        (lambda d: [dict(d[0], type="colour"), d[1]], 0, "Unknown field type “colour”."),
        (lambda d: [dict(d[0], label_ru=""), d[1]], 0, "Give the label in English and in Russian."),
        (
            lambda d: [d[0], dict(d[1], choices=[{"value": "", "label_en": "A", "label_ru": "А"}])],
            1,
            "Every option needs a value.",
        ),
        (
            lambda d: [d[0], dict(d[1], choices=[d[1]["choices"][0]] * 2)],
            1,
            "Two options have the same value.",
        ),
    ],
)
def test_an_invalid_definition_shows_errors_by_the_field_and_publishes_nothing(
    admin_client: Client,
    questionnaire: Questionnaire,
    change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]],
    bad_row: int,
    message: str,
) -> None:
    current = questionnaire.current()
    assert current is not None
    draft = change([dict(f) for f in current.fields])
    response = admin_client.post(url(questionnaire), form(draft, base=1))
    assert response.status_code == 422
    page = response.text
    assert "The questionnaire has errors; nothing was published." in page
    assert message in field_block(page, bad_row)
    assert f'<a href="#field-{bad_row}">' in page  # the summary links to the field
    # What was typed is still there to fix.
    assert f'name="fields" value="{len(draft)}"' in page
    assert numbers(questionnaire) == [1]


def test_a_blank_new_field_is_left_out_not_an_error(
    admin_client: Client, questionnaire: Questionnaire
) -> None:
    current = questionnaire.current()
    assert current is not None
    blank = {"key": "", "type": "text", "label_en": "", "label_ru": ""}
    response = admin_client.post(url(questionnaire), form([*current.fields, blank], base=1))
    assert response.status_code == 302
    assert numbers(questionnaire) == [1]  # nothing else changed


def test_a_stale_editor_is_told_of_the_version_published_meanwhile(
    admin_client: Client, questionnaire: Questionnaire, cast: dict[str, User]
) -> None:
    current = questionnaire.current()
    assert current is not None
    mine = [dict(current.fields[0], label_en="Mine"), current.fields[1]]
    theirs = [dict(current.fields[0], label_en="Theirs"), current.fields[1]]
    answers.publish(questionnaire, theirs, cast["head_marketing"])
    response = admin_client.post(url(questionnaire), form(mine, base=1))
    assert response.status_code == 409
    assert "published version 2" in response.text
    assert 'name="f-0-label_en" value="Mine"' in response.text  # the draft is kept
    assert '<input type="hidden" name="base" value="2">' in response.text
    assert numbers(questionnaire) == [1, 2]
    # Publishing again, knowingly, replaces it.
    assert admin_client.post(url(questionnaire), form(mine, base=2)).status_code == 302
    v3 = questionnaire.current()
    assert v3 is not None and (v3.number, v3.fields[0]["label_en"]) == (3, "Mine")


# Draft round trips: nothing is published ---------------------------------------------------


def test_add_remove_and_move_fields_and_options_change_only_the_draft(
    admin_client: Client, questionnaire: Questionnaire
) -> None:
    current = questionnaire.current()
    assert current is not None
    fields = current.fields

    page = admin_client.post(url(questionnaire), form(fields, 1, "add_field")).text
    assert 'name="fields" value="3"' in page
    assert 'name="f-2-key" value="" maxlength="40"' in page
    assert "autofocus" in field_block(page, 2)

    page = admin_client.post(url(questionnaire), form(fields, 1, "down:0")).text
    assert 'name="f-0-key" value="t_choice"' in page and 'name="f-1-key" value="t_text"' in page

    page = admin_client.post(url(questionnaire), form(fields, 1, "up:1")).text
    assert 'name="f-0-key" value="t_choice"' in page

    page = admin_client.post(url(questionnaire), form(fields, 1, "remove:0")).text
    assert 'name="fields" value="1"' in page and 'value="t_choice"' in page
    assert 'value="t_text"' not in page

    page = admin_client.post(url(questionnaire), form(fields, 1, "add_option:1")).text
    assert 'name="f-1-options" value="3"' in page

    page = admin_client.post(url(questionnaire), form(fields, 1, "remove_option:1:0")).text
    assert 'name="f-1-options" value="1"' in page
    assert 'name="f-1-o-0-value" value="landing"' in page

    # "Update preview" shows the draft, labels as typed.
    renamed = [dict(fields[0], label_en="Renamed field"), fields[1]]
    page = admin_client.post(url(questionnaire), form(renamed, 1, "preview")).text
    assert 'for="qp-t_text">Renamed field' in page

    assert numbers(questionnaire) == [1]


def test_with_htmx_a_round_trip_swaps_only_the_editor(
    admin_client: Client, questionnaire: Questionnaire
) -> None:
    current = questionnaire.current()
    assert current is not None
    response = admin_client.post(
        url(questionnaire), form(current.fields, 1, "add_field"), headers=HTMX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="qeditor"')
    assert "<html" not in response.text
    assert 'name="fields" value="3"' in response.text
    assert response["Vary"] and "HX-Request" in response["Vary"]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"fields": "many"}, 400, "The form was not one this page sent"),
        ({"fields": "1000"}, 400, "The form was not one this page sent"),
        ({"f-0-options": "-1"}, 400, "The form was not one this page sent"),
        ({"base": "x"}, 400, "The form was not one this page sent"),
        ({"action": "explode"}, 400, "Unknown action"),
        ({"action": "remove:9"}, 400, "Unknown action"),
        ({"action": "up:x"}, 400, "Unknown action"),
    ],
)
def test_a_tampered_form_is_refused_and_nothing_is_published(
    admin_client: Client,
    questionnaire: Questionnaire,
    data: dict[str, str],
    status: int,
    message: str,
) -> None:
    current = questionnaire.current()
    assert current is not None
    body = form(current.fields, 1)
    body.update(data)
    response = admin_client.post(url(questionnaire), body)
    assert response.status_code == status
    assert message in response.text
    assert numbers(questionnaire) == [1]


def test_an_unknown_questionnaire_or_version_is_404(
    admin_client: Client, questionnaire: Questionnaire
) -> None:
    assert admin_client.get("/settings/questionnaires/999999/").status_code == 404
    assert admin_client.get(url(questionnaire, "versions/7/")).status_code == 404
    assert admin_client.get(url(questionnaire) + "?from=7").status_code == 404
    assert admin_client.get("/settings/questionnaires/new/999999/").status_code == 404


# A service without a questionnaire ------------------------------------------------------------


def test_creating_a_questionnaire_for_a_service_publishes_version_1(
    admin_client: Client, cast: dict[str, User]
) -> None:
    bare = Service.objects.create(code="bare", name_en="Bare service", name_ru="Голая услуга")
    path = f"/settings/questionnaires/new/{bare.pk}/"
    page = admin_client.get(path).text
    assert "Bare service" in page and "Publish version 1" in page
    assert 'name="fields" value="1"' in page  # one empty field to start with

    response = admin_client.post(path, form([dict(ALL_TYPES[4], choices=[])], base=0))
    assert response.status_code == 422
    assert not Questionnaire.objects.filter(service=bare).exists()

    response = admin_client.post(path, form(ALL_TYPES, base=0))
    created = Questionnaire.objects.get(service=bare)
    assert response.status_code == 302
    assert response["Location"] == url(created)
    v1 = created.current()
    assert v1 is not None and (v1.number, v1.created_by) == (1, cast["admin"])
    assert [f["type"] for f in v1.fields] == [f["type"] for f in ALL_TYPES]
    # From now on the create address leads to the editor.
    response = admin_client.get(path)
    assert response.status_code == 302 and response["Location"] == url(created)


# History, old versions and the preview ---------------------------------------------------------


def test_history_lists_versions_and_an_old_one_is_shown_read_only(
    admin_client: Client, questionnaire: Questionnaire, cast: dict[str, User]
) -> None:
    v1 = questionnaire.current()
    assert v1 is not None
    answers.publish(
        questionnaire, [dict(v1.fields[0], label_en="Newer label")], cast["head_marketing"]
    )
    page = admin_client.get(url(questionnaire)).text
    history = page[page.index('id="history"') : page.index('id="preview"')]
    assert re.findall(r">v(\d+)</a>", history) == ["2", "1"]
    assert str(cast["head_marketing"]) in history and str(cast["admin"]) in history
    assert re.findall(r'<td class="num">(\d+)</td>', history) == ["1", "2"]

    old = admin_client.get(url(questionnaire, "versions/1/")).text
    assert "Site name" in old and "Newer label" not in old
    assert "An older version, read-only." in old
    assert "<form" not in old.split("<main", 1)[1].split('id="preview"')[0]
    assert f'href="{url(questionnaire)}?from=1"' in old

    draft = admin_client.get(url(questionnaire) + "?from=1").text
    assert 'name="f-0-label_en" value="Site name"' in draft
    assert "This draft starts from version 1." in draft
    assert '<input type="hidden" name="base" value="2">' in draft
    assert numbers(questionnaire) == [1, 2]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_preview_renders_every_field_type_in_the_current_language(
    admin_client: Client,
    questionnaire: Questionnaire,
    cast: dict[str, User],
    client_for: Callable[..., Client],
    language: str,
) -> None:
    answers.publish(questionnaire, ALL_TYPES, cast["admin"])
    page = client_for(cast["admin"], language).get(url(questionnaire, "preview/")).text
    preview = page[page.index('class="qpreview"') :]
    label = "label_ru" if language == "ru" else "label_en"
    other = "label_en" if language == "ru" else "label_ru"
    for f in ALL_TYPES:
        assert f[label] in preview, f["key"]
        assert f[other] not in preview, f["key"]
    assert ("Пара предложений" if language == "ru" else "A few sentences") in preview
    assert '<input type="text" name="preview-t_text"' in preview.replace('id="qp-t_text" ', "")
    assert '<textarea id="qp-t_long"' in preview
    assert 'id="qp-t_number" type="text" inputmode="decimal"' in preview
    assert 'name="preview-t_money__amount"' in preview
    assert '<option value="RUB">RUB</option>' in preview
    assert re.search(r'<select id="qp-t_choice"[^>]*>\s*<option value="">', preview)
    assert preview.count('type="checkbox" name="preview-t_multi"') == 2
    assert 'id="qp-t_date" type="date"' in preview
    assert preview.count('type="radio" name="preview-t_yes_no"') == 2
    assert 'list="qp-regions"' in preview
    assert ("Москва" if language == "ru" else "Moscow") in preview
    assert preview.count('class="qp-req"') == 2  # the required choice, and the footnote


# The admin -----------------------------------------------------------------------------------


@pytest.fixture
def root_client(db: None) -> Client:
    root = User.objects.create_superuser("root", "root@agency.test", "pw-root-123!")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(root)
    return client


def test_admin_changelists_load_for_a_superuser(
    root_client: Client, questionnaire: Questionnaire
) -> None:
    for model in (
        "reasoncode",
        "needcategory",
        "departmentcontact",
        "referral",
        "routing",
        "return",
        "sdrqueuesettings",
        "questionnaire",
        "questionnaireversion",
        "bant",
        "answers",
    ):
        assert root_client.get(f"/admin/qualify/{model}/").status_code == 200, model
    assert root_client.get("/admin/qualify/reasoncode/?kind__exact=disqualify").status_code == 200
    assert (
        root_client.get(f"/admin/qualify/questionnaire/{questionnaire.pk}/change/").status_code
        == 200
    )


def test_admin_never_changes_a_questionnaire_version(
    root_client: Client, questionnaire: Questionnaire
) -> None:
    version = questionnaire.current()
    assert version is not None
    change = f"/admin/qualify/questionnaireversion/{version.pk}/change/"
    page = root_client.get(change).text
    assert 'name="fields"' not in page and "t_choice" in page  # shown, not editable
    assert root_client.get("/admin/qualify/questionnaireversion/add/").status_code == 403
    assert root_client.post(change, {"number": "9"}).status_code == 403
    delete = f"/admin/qualify/questionnaireversion/{version.pk}/delete/"
    assert root_client.post(delete, {"post": "yes"}).status_code == 403
    assert QuestionnaireVersion.objects.get(pk=version.pk).number == 1
    # The questionnaire's page lists its versions and links to the web editor.
    page = root_client.get(f"/admin/qualify/questionnaire/{questionnaire.pk}/change/").text
    assert f'href="/settings/questionnaires/{questionnaire.pk}/"' in page


def test_admin_edits_reason_names_order_and_active_but_not_the_code(root_client: Client) -> None:
    from leadrelay.qualify.models import ReasonCode

    spam = ReasonCode.objects.get(kind="disqualify", code="spam")
    page = root_client.get(f"/admin/qualify/reasoncode/{spam.pk}/change/").text
    assert 'name="code"' not in page and 'name="name_ru"' in page
    response = root_client.post(
        f"/admin/qualify/reasoncode/{spam.pk}/change/",
        {"name_en": "Junk", "name_ru": "Мусор", "active": "", "order": "9"},
    )
    assert response.status_code == 302
    spam.refresh_from_db()
    assert (spam.code, spam.name_en, spam.active, spam.order) == ("spam", "Junk", False, 9)
    assert (
        root_client.post(
            f"/admin/qualify/reasoncode/{spam.pk}/delete/", {"post": "yes"}
        ).status_code
        == 403
    )
