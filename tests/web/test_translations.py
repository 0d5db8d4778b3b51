"""The Russian catalogue is complete and compiled, and the pages follow the language."""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.functional import Promise

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status

PO = Path(settings.LOCALE_PATHS[0]) / "ru" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    parts: dict[str, str] = field(default_factory=dict)  # msgctxt, msgid, msgstr[0]…

    @property
    def key(self) -> str:
        ctx = self.parts.get("msgctxt")
        return f"{ctx}\x04{self.parts['msgid']}" if ctx is not None else self.parts["msgid"]

    @property
    def translations(self) -> list[str]:
        return [v for k, v in self.parts.items() if k.startswith("msgstr")]


def parse_po(text: str) -> Iterator[Entry]:
    """A small .po reader: entries with their flags and unescaped strings."""
    entry: Entry | None = None
    current = ""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            if entry is not None:
                yield entry
            entry = None
            continue
        if entry is None:
            entry = Entry(line=number)
        if line.startswith("#~"):
            entry.obsolete = True
        elif line.startswith("#,"):
            entry.flags |= {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry.parts[current] += ast.literal_eval(line)
        else:
            keyword, _, value = line.partition(" ")
            current = keyword
            entry.parts[current] = ast.literal_eval(value)
    if entry is not None:
        yield entry


def catalogue() -> list[Entry]:
    return [e for e in parse_po(PO.read_text(encoding="utf-8")) if "msgid" in e.parts]


def test_every_russian_entry_is_translated_and_none_is_fuzzy_or_obsolete() -> None:
    entries = catalogue()
    assert len(entries) > 150
    problems = [
        f"line {e.line}: {e.parts['msgid']!r}"
        + (" fuzzy" if "fuzzy" in e.flags else "")
        + (" obsolete" if e.obsolete else "")
        + (" untranslated" if not all(e.translations) else "")
        for e in entries
        if e.parts["msgid"]  # the header
        and ("fuzzy" in e.flags or e.obsolete or not all(e.translations))
    ]
    assert problems == []
    header = next(e for e in entries if e.parts["msgid"] == "")
    assert "fuzzy" not in header.flags
    assert "Language: ru" in header.parts["msgstr"]


def _marked_model_strings() -> Iterator[tuple[str, Promise]]:
    """Every string marked for translation in the project's models: names and choices."""
    for model in apps.get_models():
        if not model.__module__.startswith("leadrelay."):
            continue
        where = model._meta.label
        # Only names set in Meta: Django's default plural is a lazy "{name}s", not a msgid.
        for attr in ("verbose_name", "verbose_name_plural"):
            text = model._meta.original_attrs.get(attr)
            if isinstance(text, Promise):
                yield where, text
        for model_field in model._meta.get_fields():
            verbose = getattr(model_field, "verbose_name", None)
            if isinstance(verbose, Promise):
                yield f"{where}.{model_field.name}", verbose
            for _value, label in getattr(model_field, "flatchoices", None) or []:
                if isinstance(label, Promise):
                    yield f"{where}.{model_field.name}", label


def test_every_model_name_and_choice_label_has_a_russian_translation() -> None:
    """Catches strings added to models after the catalogue was last made (Django's own
    inherited fields, such as the user's, are translated by Django's catalogue)."""
    msgids = {e.parts["msgid"] for e in catalogue()}
    missing = []
    for where, text in _marked_model_strings():
        with translation.override("en"):
            english = str(text)
        with translation.override("ru"):
            russian = str(text)
        if english not in msgids and russian == english:
            missing.append(f"{where}: {english!r}")
    assert missing == [], "run: leadrelay manage makemessages -l ru (from leadrelay/)"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_every_string_marked_in_python_code_is_in_the_catalogue(tmp_path: Path) -> None:
    """Catches gettext() calls added after the catalogue was last made (templates are
    covered by makemessages only)."""
    package = PO.parents[3]
    sources = sorted(
        str(f) for f in package.rglob("*.py") if "migrations" not in f.relative_to(package).parts
    )
    pot = tmp_path / "django.pot"
    subprocess.run(
        [
            "xgettext",
            "--language=Python",
            "--from-code=UTF-8",
            # The keywords makemessages passes for the "django" domain.
            "--keyword=gettext_noop",
            "--keyword=gettext_lazy",
            "--keyword=ngettext_lazy:1,2",
            "--keyword=pgettext:1c,2",
            "--keyword=npgettext:1c,2,3",
            "--keyword=pgettext_lazy:1c,2",
            "--keyword=npgettext_lazy:1c,2,3",
            f"--output={pot}",
            *sources,
        ],
        check=True,
    )
    wanted = {e.key for e in parse_po(pot.read_text(encoding="utf-8")) if e.parts.get("msgid")}
    have = {e.key for e in catalogue()}
    missing = sorted(k.replace("\x04", " | ") for k in wanted - have)
    assert missing == [], "run: leadrelay manage makemessages -l ru (from leadrelay/)"


def test_placeholders_survive_translation() -> None:
    placeholder = re.compile(r"%\(\w+\)s")
    for entry in catalogue():
        msgid = entry.parts["msgid"]
        if not msgid:
            continue
        if "msgid_plural" in entry.parts:
            # A plural form may show the count the singular English leaves out.
            allowed = set(placeholder.findall(msgid + entry.parts["msgid_plural"]))
            for text in entry.translations:
                assert set(placeholder.findall(text)) <= allowed, msgid
        else:
            assert sorted(placeholder.findall(entry.translations[0])) == sorted(
                placeholder.findall(msgid)
            ), msgid


def test_compiled_catalogue_matches_the_po_file() -> None:
    with MO.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)._catalog  # type: ignore[attr-defined]
    source: dict[object, str] = {}
    for e in catalogue():
        if not e.parts["msgid"]:
            continue
        if "msgid_plural" in e.parts:  # gettext keys each plural form by (msgid, n)
            source.update({(e.key, n): text for n, text in enumerate(e.translations)})
        else:
            source[e.key] = e.translations[0]
    stale = {k: v for k, v in source.items() if compiled.get(k) != v}
    assert stale == {}, "run: leadrelay manage compilemessages (from leadrelay/)"


@pytest.mark.parametrize(
    ("status", "russian"),
    [
        (Status.NEW, "Новая"),
        (Status.SDR_PROCESSING, "Заявка получена SDR, анкета квалификации заполнена"),
        (Status.AWAITING_ASSIGNMENT, "Заявка ждет назначения менеджера"),
        (
            Status.ASSIGNED,
            "Заявка получена менеджером по продажам и ждет действий с его стороны",
        ),
        (Status.DISCUSSION, "Обсуждение задач клиента перед подготовкой КП"),
        (Status.BRIEF_FILLED, "Pre-sale бриф выслан и заполнен клиентом"),
        (Status.PROPOSAL, "Подготовка и согласование КП"),
        (Status.CONTRACT, "Согласование контракта и оплата"),
        (Status.CONVERTED, "Конверсия заявки"),
    ],
)
def test_status_labels_are_the_agencys_own_russian_names(status: Status, russian: str) -> None:
    with translation.override("ru"):
        assert str(status.label) == russian


def test_lead_list_speaks_russian_with_the_russian_cookie(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    make_lead()
    client = client_for(cast["admin"], language="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    page = client.get("/leads/").text
    assert '<html lang="ru">' in page
    assert "Заявки" in page and "Новая" in page and "Выйти" in page
    assert "Log out" not in page


def test_lead_list_speaks_english_with_the_english_cookie(
    cast: dict[str, User], make_lead: Callable[..., Lead], client_for: Callable[..., Client]
) -> None:
    make_lead()
    client = client_for(cast["admin"], language="ru")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/leads/").text
    assert '<html lang="en">' in page
    assert "Leads" in page and ">New<" in page and "Log out" in page
    assert "Выйти" not in page


@pytest.mark.parametrize(
    ("accept", "expected", "absent"),
    [("ru-RU,ru;q=0.9", "Новая", "Log out"), ("en-US,en;q=0.9", ">New<", "Выйти")],
)
def test_lead_list_follows_the_browsers_accept_language(
    accept: str,
    expected: str,
    absent: str,
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
) -> None:
    make_lead()
    page = client_for(cast["admin"], language=accept).get("/leads/").text
    assert expected in page
    assert absent not in page


def test_russian_is_the_default_language(
    cast: dict[str, User], make_lead: Callable[..., Lead]
) -> None:
    make_lead()
    client = Client()
    client.force_login(cast["admin"])
    assert "Новая" in client.get("/leads/").text


def test_language_switch_sets_the_cookie_and_returns_to_the_page(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    client = client_for(cast["admin"], language="ru")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/leads/?status=new"})
    assert response.status_code == 302
    assert response["Location"] == "/leads/?status=new"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    assert "Log out" in client.get("/leads/").text
