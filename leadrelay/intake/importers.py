"""Importing leads from another CRM's CSV or XLSX export.

Three steps, each usable on its own (the CLI and the web page share them):

1. ``read_table`` turns the file into headers and rows of text: the encoding (UTF-8,
   UTF-8 with a BOM, cp1251) and the delimiter (``,`` ``;`` or tab) are detected, an
   XLSX's first sheet is read with numbers and dates turned into text the way a person
   would type them (a phone stored as a number keeps no ``.0``).
2. ``plan_mapping`` maps each column onto a lead field from the vendor's preset (the
   column names HubSpot, Salesforce, Pipedrive, amoCRM/Kommo and Bitrix24 write in their
   exports, English and Russian) and generic synonyms; ``auto`` picks the preset whose
   columns match best. Columns that map to nothing are kept in the lead's ``extra``.
3. ``import_rows`` builds a ``Contact`` per row, normalises it like every other intake
   path, rejects structurally broken rows (with their line number in the file), links
   duplicates (of existing leads and of earlier rows of the same file) through
   ``duplicate_of`` and creates the leads in chunks with ``create_leads_bulk``.

A problem with the file as a whole raises ``ImportFileError`` before anything is
written; a problem with one row rejects that row only (or everything, with ``atomic``).
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import csv
import gc
import io
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.intake import normalize as _normalize
from leadrelay.intake.build import DUPLICATE_WINDOW, Contact, normalize_contact
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import NewLead, create_leads_bulk

# Lead fields a column can map to ---------------------------------------------------------

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "utm_id")
CLICK_IDS = ("gclid", "fbclid", "yclid")
ATTRIBUTION_KEYS = (*UTM_KEYS, *CLICK_IDS)
FIELDS: tuple[str, ...] = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "website",
    "message",
    "received_at",
    "service",
    *ATTRIBUTION_KEYS,
)
FIELD_LABELS: dict[str, Any] = {
    "name": gettext_lazy("Name"),
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "company": gettext_lazy("Company"),
    "website": gettext_lazy("Website"),
    "message": gettext_lazy("Message"),
    "received_at": gettext_lazy("Received"),
    "service": gettext_lazy("Service"),
    **{key: key for key in ATTRIBUTION_KEYS},
}
# A file needs at least one of these, or there is nobody to follow up.
IDENTITY_FIELDS = frozenset({"name", "first_name", "last_name", "email", "phone"})

# Model limits (PostgreSQL enforces them; SQLite would not).
_MAX_LENGTH = {"name": 300, "email": 254, "company": 300, "website": 300}

CHUNK_SIZE = 2000
MAX_FILE_BYTES = int(os.environ.get("LEADRELAY_IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was written."""


# Presets: the column names each CRM writes in its exports -------------------------------
#
# Keys are compared after ``header_key`` (case-folded, spaces collapsed, ё → е). A value
# of None marks a column the vendor is known to export that is not a lead field (owner,
# stage, amount…): it still counts when ``auto`` guesses the vendor, and lands in
# ``extra``.

_HUBSPOT: dict[str, str | None] = {
    # Contacts export (column labels as HubSpot writes them).
    "record id": None,
    "first name": "first_name",
    "last name": "last_name",
    "email": "email",
    "email address": "email",
    "phone number": "phone",
    "mobile phone number": "phone",
    "company name": "company",
    "website url": "website",
    "message": "message",
    "create date": "received_at",
    "contact owner": None,
    "lifecycle stage": None,
    "lead status": None,
    "original source": None,
    "original source drill-down 1": None,
    "original source drill-down 2": None,
    "latest source": None,
    "job title": None,
    "last activity date": None,
    "associated company": None,
    "marketing contact status": None,
    "hubspot score": None,
    # Property names, as in API-made exports.
    "firstname": "first_name",
    "lastname": "last_name",
    "phone": "phone",
    "mobilephone": "phone",
    "company": "company",
    "website": "website",
    "createdate": "received_at",
    "hs_object_id": None,
    "hubspot_owner_id": None,
    "lifecyclestage": None,
    "hs_lead_status": None,
    "hs_analytics_source": None,
}

_SALESFORCE: dict[str, str | None] = {
    # Lead report export (field labels).
    "lead id": None,
    "first name": "first_name",
    "last name": "last_name",
    "full name": "name",
    "email": "email",
    "phone": "phone",
    "mobile": "phone",
    "mobile phone": "phone",
    "company": "company",
    "company / account": "company",
    "account name": "company",
    "website": "website",
    "description": "message",
    "create date": "received_at",
    "created date": "received_at",
    "lead source": None,
    "lead status": None,
    "lead owner": None,
    "title": None,
    "rating": None,
    "industry": None,
    "salutation": None,
    # Data Export / Data Loader (API names).
    "id": None,
    "firstname": "first_name",
    "lastname": "last_name",
    "mobilephone": "phone",
    "createddate": "received_at",
    "leadsource": None,
    "status": None,
    "ownerid": None,
    "isconverted": None,
}

_PIPEDRIVE: dict[str, str | None] = {
    # People export.
    "name": "name",
    "first name": "first_name",
    "last name": "last_name",
    "organization": "company",
    "email - work": "email",
    "email - home": "email",
    "email - other": "email",
    "phone - work": "phone",
    "phone - mobile": "phone",
    "phone - home": "phone",
    "phone - other": "phone",
    "person created": "received_at",
    "label": None,
    "owner": None,
    "open deals": None,
    "closed deals": None,
    # Deals and leads exports: columns prefixed with the object.
    "person - name": "name",
    "person - first name": "first_name",
    "person - last name": "last_name",
    "person - email": "email",
    "person - email - work": "email",
    "person - email - home": "email",
    "person - phone": "phone",
    "person - phone - work": "phone",
    "person - phone - mobile": "phone",
    "person - organization": "company",
    "person - person created": "received_at",
    "organization - name": "company",
    "organization - website": "website",
    "deal - title": None,
    "deal - value": None,
    "deal - organization": "company",
    "deal - contact person": "name",
    "deal - deal created": "received_at",
    "deal - stage": None,
    "deal - status": None,
    "deal - owner": None,
    "lead - title": None,
    "lead - source": None,
    "lead - lead created": "received_at",
    "lead - owner": None,
}

_AMOCRM: dict[str, str | None] = {
    # Сделки → Экспорт (and Контакты → Экспорт), Russian interface.
    "id": None,
    "название сделки": None,
    "бюджет": None,
    "ответственный": None,
    "статус сделки": None,
    "этап сделки": None,
    "воронка": None,
    "теги": None,
    "теги сделки": None,
    "кем создана": None,
    "кем создано": None,
    "дата изменения": None,
    "кем изменено": None,
    "ближайшая задача": None,
    "дата закрытия": None,
    "должность": None,
    "примечание": None,
    "основной контакт": "name",
    "полное имя контакта": "name",
    "имя контакта": "name",
    "контакт": "name",
    "имя": "first_name",
    "фамилия": "last_name",
    "компания": "company",
    "компания контакта": "company",
    "рабочий телефон": "phone",
    "мобильный телефон": "phone",
    "рабочий прямой телефон": "phone",
    "домашний телефон": "phone",
    "другой телефон": "phone",
    "телефон": "phone",
    "рабочий email": "email",
    "рабочий e-mail": "email",
    "личный email": "email",
    "личный e-mail": "email",
    "другой email": "email",
    "email": "email",
    "e-mail": "email",
    "web": "website",
    "сайт": "website",
    "дата создания": "received_at",
    "дата создания сделки": "received_at",
    "дата создания контакта": "received_at",
    # Kommo (the international amoCRM), English interface.
    "lead title": None,
    "lead name": None,
    "budget": None,
    "responsible user": None,
    "lead status": None,
    "pipeline": None,
    "tags": None,
    "main contact": "name",
    "contact": "name",
    "full name": "name",
    "contact company": "company",
    "company": "company",
    "work phone": "phone",
    "mobile phone": "phone",
    "work email": "email",
    "private email": "email",
    "personal email": "email",
    "date created": "received_at",
    "created at": "received_at",
}

_BITRIX24: dict[str, str | None] = {
    # CRM → Лиды → Экспорт в Excel / CSV, Russian interface.
    "id": None,
    "название лида": None,
    "обращение": None,
    "имя": "first_name",
    "отчество": None,
    "фамилия": "last_name",
    "дата рождения": None,
    "должность": None,
    "адрес": None,
    "рабочий телефон": "phone",
    "мобильный телефон": "phone",
    "номер факса": None,
    "домашний телефон": "phone",
    "номер пейджера": None,
    "телефон для рассылок": "phone",
    "другой телефон": "phone",
    "телефон": "phone",
    "корпоративный сайт": "website",
    "личная страница": None,
    "рабочий e-mail": "email",
    "частный e-mail": "email",
    "e-mail для рассылок": "email",
    "другой e-mail": "email",
    "e-mail": "email",
    "название компании": "company",
    "компания": "company",
    "стадия": None,
    "статус": None,
    "дополнительно о статусе": None,
    "источник": None,
    "дополнительно об источнике": None,
    "ответственный": None,
    "кем создан": None,
    "дата создания": "received_at",
    "дата изменения": None,
    "комментарий": "message",
    "сумма": None,
    "валюта": None,
    # Sales intelligence (UTM) fields.
    "рекламная система": "utm_source",
    "тип трафика": "utm_medium",
    "обозначение рекламной кампании": "utm_campaign",
    "содержание кампании": "utm_content",
    "условие поиска кампании": "utm_term",
    # English interface.
    "lead name": None,
    "work phone": "phone",
    "mobile phone": "phone",
    "work e-mail": "email",
    "private e-mail": "email",
    "company name": "company",
    "corporate website": "website",
    "comment": "message",
    "created": "received_at",
    "stage": None,
    "source": None,
    "responsible person": None,
    # Field codes (REST-made exports): NAME is the first name there.
    "title": None,
    "name": "first_name",
    "second_name": None,
    "last_name": "last_name",
    "company_title": "company",
    "comments": "message",
    "date_create": "received_at",
    "source_id": None,
    "status_id": None,
    "assigned_by_id": None,
}

PRESETS: dict[str, dict[str, str | None]] = {
    "hubspot": _HUBSPOT,
    "salesforce": _SALESFORCE,
    "pipedrive": _PIPEDRIVE,
    "amocrm": _AMOCRM,
    "bitrix24": _BITRIX24,
}
PRESET_NAMES: tuple[str, ...] = ("auto", *PRESETS)
PRESET_LABELS: dict[str, str] = {
    "auto": "auto",
    "hubspot": "HubSpot",
    "salesforce": "Salesforce",
    "pipedrive": "Pipedrive",
    "amocrm": "amoCRM / Kommo",
    "bitrix24": "Bitrix24",
}

# Synonyms any file may use, whatever the preset (after the preset's own columns).
_GENERIC_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "full name",
        "fullname",
        "contact name",
        "client",
        "client name",
        "customer",
        "фио",
        "имя и фамилия",
        "полное имя",
        "клиент",
        "имя клиента",
        "контактное лицо",
    ),
    "first_name": ("first name", "firstname", "first_name", "given name", "имя"),
    "last_name": ("last name", "lastname", "last_name", "surname", "family name", "фамилия"),
    "email": (
        "email",
        "e-mail",
        "e mail",
        "mail",
        "email address",
        "e-mail address",
        "почта",
        "электронная почта",
        "эл. почта",
        "адрес электронной почты",
    ),
    "phone": (
        "phone",
        "phone number",
        "telephone",
        "tel",
        "mobile",
        "mobile phone",
        "cell",
        "телефон",
        "тел",
        "тел.",
        "номер телефона",
        "мобильный",
        "мобильный телефон",
    ),
    "company": (
        "company",
        "company name",
        "organization",
        "organisation",
        "account",
        "компания",
        "организация",
        "название компании",
    ),
    "website": ("website", "web site", "site", "url", "сайт", "веб-сайт"),
    "message": (
        "message",
        "comment",
        "comments",
        "question",
        "request",
        "сообщение",
        "комментарий",
        "вопрос",
        "текст заявки",
        "заявка",
    ),
    "received_at": (
        "created",
        "created at",
        "created_at",
        "create date",
        "created date",
        "date created",
        "date",
        "submitted at",
        "submitted",
        "timestamp",
        "дата",
        "дата создания",
        "дата заявки",
        "дата и время",
        "создано",
        "создан",
    ),
    "service": ("service", "product", "услуга", "продукт"),
    **{key: (key, key.replace("_", " "), key.replace("_", "-")) for key in ATTRIBUTION_KEYS},
}
GENERIC: dict[str, str] = {
    syn: target for target, names in _GENERIC_SYNONYMS.items() for syn in names
}


_COMMON_HEADERS = frozenset({*GENERIC, "id"})


def _any_preset() -> dict[str, str]:
    """Columns every preset that knows them maps to the same lead field."""
    targets: dict[str, set[str]] = {}
    unknown: set[str] = set()
    for columns in PRESETS.values():
        for key, target in columns.items():
            if target is None:
                unknown.add(key)
            else:
                targets.setdefault(key, set()).add(target)
    return {k: next(iter(t)) for k, t in targets.items() if len(t) == 1 and k not in unknown}


# Last resort for a column neither the preset nor the synonyms know.
ANY_PRESET = _any_preset()


def header_key(header: str) -> str:
    """``" E-Mail "`` → ``"e-mail"``: how headers are compared with preset columns."""
    text = header.replace("\ufeff", "").strip().strip('"').strip()
    return " ".join(text.casefold().replace("ё", "е").split())


# Reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    """A file's header and data rows, all text.

    ``lines[i]`` is the line (CSV) or row (XLSX) number of ``rows[i]`` in the file, the
    header being line 1 in a file that starts with it. ``broken`` maps the line numbers of
    rows the reader could not trust (an unclosed quote) to a reason code.
    """

    headers: list[str]
    rows: list[list[str]]
    lines: list[int]
    format: str  # "csv" or "xlsx"
    encoding: str | None = None
    delimiter: str | None = None
    broken: dict[int, str] = field(default_factory=dict)
    filename: str = ""


_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls (Excel 97-2003) and friends
_DELIMITERS = (",", ";", "\t")


def read_table(source: bytes | str | os.PathLike[str], filename: str | None = None) -> Table:
    """Read a CSV or XLSX file (a path, or its bytes with its name) into a ``Table``.

    Raises ``ImportFileError`` for a file that cannot be read as a table at all.
    """
    if isinstance(source, bytes):
        data = source
        name = filename or ""
    else:
        path = Path(source)
        name = filename or path.name
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise ImportFileError(_("The file is too large to import."))
            data = path.read_bytes()
        except OSError as exc:
            raise ImportFileError(
                _("Cannot read %(name)s: %(error)s") % {"name": name, "error": exc.strerror}
            ) from None
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(_("The file is too large to import."))
    suffix = Path(name).suffix.lower()
    if data.startswith(_OLE_MAGIC) or suffix == ".xls":
        raise ImportFileError(
            _("Old Excel files (.xls) cannot be read: save the file as XLSX or CSV.")
        )
    with _no_cyclic_gc():
        if data.startswith(_XLSX_MAGIC) or suffix in (".xlsx", ".xlsm"):
            table = _read_xlsx(data)
        else:
            table = _read_csv(data)
    table = replace(table, filename=name)
    if not table.headers:
        raise ImportFileError(_("The file is empty."))
    if not table.rows:
        raise ImportFileError(_("The file has a header but no rows to import."))
    return table


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise ImportFileError(
                _("The file says it is UTF-8 but is not: save it again as CSV (UTF-8).")
            ) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise ImportFileError(_("The file's UTF-16 text is damaged.")) from None
    if b"\x00" in data[:65536]:
        raise ImportFileError(_("This is not a CSV or XLSX file."))
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251"), "cp1251"
    except UnicodeDecodeError:
        raise ImportFileError(
            _("Cannot tell the file's encoding: save it as CSV in UTF-8 or Windows-1251.")
        ) from None


class _Lines:
    """An iterator over a list of lines whose position can be read and moved back."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.pos = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


def _sniff_delimiter(lines: list[str]) -> str:
    """``,`` ``;`` or tab: the one that splits the first rows most consistently."""
    sample_lines = lines[:50]
    sample = "".join(sample_lines)
    candidates: list[str] = []
    with contextlib.suppress(csv.Error):
        candidates.append(csv.Sniffer().sniff(sample, delimiters="".join(_DELIMITERS)).delimiter)
    candidates.extend(d for d in _DELIMITERS if d not in candidates)

    def score(delimiter: str) -> tuple[int, int]:
        try:
            records = [r for r in csv.reader(sample_lines, delimiter=delimiter) if r]
        except csv.Error:
            return (0, 0)
        if not records or len(records[0]) < 2:
            return (0, 0)
        width = len(records[0])
        return (sum(1 for r in records if len(r) == width), width)

    best = max(candidates, key=lambda d: (score(d), -candidates.index(d)))
    if score(best) == (0, 0):
        # One column (or nothing to judge by): count the candidates in the header line.
        first = lines[0] if lines else ""
        best = max(_DELIMITERS, key=first.count)
    return best


def _clean(cell: str) -> str:
    return cell.replace("\x00", "") if "\x00" in cell else cell


def _read_csv(data: bytes) -> Table:
    text, encoding = _decode(data)
    lines = io.StringIO(text, newline="").readlines()
    delimiter = _sniff_delimiter(lines)
    if csv.field_size_limit() < 16 * 1024 * 1024:
        csv.field_size_limit(16 * 1024 * 1024)
    src = _Lines(lines)
    reader = csv.reader(src, delimiter=delimiter, strict=False)
    headers: list[str] = []
    rows: list[list[str]] = []
    numbers: list[int] = []
    broken: dict[int, str] = {}
    while True:
        start = src.pos
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error:
            broken[start + 1] = "unreadable"
            rows.append([])
            numbers.append(start + 1)
            src.pos = start + 1
            reader = csv.reader(src, delimiter=delimiter, strict=False)
            continue
        if not any(cell.strip() for cell in record):
            continue  # blank line
        if not headers:
            headers = _headers(record)
            continue
        if src.pos - start > 1 and _trimmed_len(record) != len(headers):
            # A quote left open swallowed the lines after it: report this line and read
            # the following ones again as rows of their own.
            broken[start + 1] = "quotes"
            rows.append(lines[start].rstrip("\r\n").split(delimiter))
            numbers.append(start + 1)
            src.pos = start + 1
            reader = csv.reader(src, delimiter=delimiter, strict=False)
            continue
        rows.append([_clean(c) for c in record])
        numbers.append(start + 1)
    return Table(
        headers=headers,
        rows=rows,
        lines=numbers,
        format="csv",
        encoding=encoding,
        delimiter=delimiter,
        broken=broken,
    )


def _headers(record: Sequence[str]) -> list[str]:
    cells = [_clean(c).replace("\ufeff", "").strip() for c in record]
    while cells and not cells[-1]:
        cells.pop()
    return [c or _("Column %(n)s") % {"n": i + 1} for i, c in enumerate(cells)]


def _trimmed_len(cells: Sequence[str]) -> int:
    n = len(cells)
    while n and not cells[n - 1].strip():
        n -= 1
    return n


def _cell_text(value: Any) -> str:
    """An XLSX cell as a person would have typed it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer():
            return str(int(value))  # 79991234567.0 → "79991234567"
        return format(Decimal(repr(value)), "f")  # never "1e-07"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError:  # pragma: no cover - a dependency
        raise ImportFileError(_("XLSX support is not installed.")) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise ImportFileError(_("This XLSX file is damaged or not an Excel workbook.")) from None
    try:
        if not book.worksheets:
            raise ImportFileError(_("The workbook has no sheets."))
        sheet = book.worksheets[0]
        headers: list[str] = []
        rows: list[list[str]] = []
        numbers: list[int] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_clean(_cell_text(v)) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if not headers:
                headers = _headers(cells)
                continue
            width = len(headers)
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))  # Excel drops trailing blanks
            rows.append(cells)
            numbers.append(number)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError):
        raise ImportFileError(_("This XLSX file is damaged or not an Excel workbook.")) from None
    finally:
        book.close()
    return Table(headers=headers, rows=rows, lines=numbers, format="xlsx")


# Mapping ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    index: int
    header: str
    field: str | None  # None: kept in the lead's ``extra``


@dataclass(frozen=True)
class Mapping:
    """Which lead field each column feeds; ``preset`` is the one used (``auto`` resolved,
    ``generic`` when no vendor's columns were recognised)."""

    preset: str
    columns: tuple[Column, ...]

    @property
    def unmapped(self) -> list[str]:
        return [c.header for c in self.columns if c.field is None]

    @property
    def fields(self) -> set[str]:
        return {c.field for c in self.columns if c.field}

    def with_fields(self, fields: dict[int, str | None]) -> Mapping:
        """The same mapping with some columns (by index) sent elsewhere."""
        for target in fields.values():
            if target is not None and target not in FIELDS:
                raise ValueError(f"unknown lead field {target!r}")
        return replace(
            self,
            columns=tuple(
                replace(c, field=fields[c.index]) if c.index in fields else c for c in self.columns
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "preset": self.preset,
            "columns": [{"column": c.header, "field": c.field} for c in self.columns],
            "unmapped": self.unmapped,
        }


def detect_preset(headers: Sequence[str]) -> str:
    """The vendor whose export these headers look like most, or ``generic``.

    Only columns peculiar to a vendor count ("Record ID", "Компания контакта"), not the
    ones any table may have ("Email", "Телефон"): two of them are needed.
    """
    keys = {header_key(h) for h in headers} - _COMMON_HEADERS
    best, best_score = "generic", 1
    for name, columns in PRESETS.items():
        score = len(keys & columns.keys())
        if score > best_score:
            best, best_score = name, score
    return best


def plan_mapping(headers: Sequence[str], preset: str = "auto") -> Mapping:
    """Map each header onto a lead field (or ``None``: kept in ``extra``)."""
    if preset != "auto" and preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}")
    resolved = detect_preset(headers) if preset == "auto" else preset
    columns_of = PRESETS.get(resolved, {})
    columns: list[Column] = []
    for index, header in enumerate(headers):
        key = header_key(header)
        fallback = GENERIC.get(key) or ANY_PRESET.get(key)
        target = columns_of.get(key, fallback)  # a preset may say None: "not a lead field"
        columns.append(Column(index=index, header=header, field=target))
    return Mapping(preset=resolved, columns=tuple(columns))


def check_mapping(mapping: Mapping) -> None:
    """Raise ``ImportFileError`` when no column says who the lead is."""
    if not mapping.fields & IDENTITY_FIELDS:
        found = ", ".join(c.header for c in mapping.columns[:12])
        raise ImportFileError(
            _("No column looks like a name, e-mail or phone (columns: %(found)s).")
            % {"found": found}
        )


# Dates -----------------------------------------------------------------------------------

_DATE_FORMATS = (
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d.%m.%y %H:%M",
    "%d.%m.%y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y, %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def parse_received_at(raw: str, tz: tzinfo | None = None) -> datetime | None:
    """A date or date-time as CRMs export them; naive ones are in the site's time zone.

    ISO 8601, ``02.03.2026 09:00``, US ``3/2/2026 9:00 AM`` (day first when the month
    cannot be), Unix seconds or milliseconds, and Excel serial dates. None if unreadable.
    """
    text = raw.strip()
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00") if text[-1:] == "Z" else text)
    except ValueError:
        if _NUMBER.fullmatch(text):
            try:
                parsed = _from_number(float(text))
            except (OverflowError, OSError, ValueError):
                parsed = None
        else:
            for fmt in _DATE_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
    if parsed is None or not (1900 <= parsed.year <= 2200):
        return None
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, tz or timezone.get_current_timezone())
    return parsed


def _from_number(value: float) -> datetime | None:
    if value >= 1e11:  # Unix milliseconds (HubSpot's API-made exports)
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if value >= 1e9:  # Unix seconds
        return datetime.fromtimestamp(value, tz=UTC)
    if 20000 <= value < 80000:  # an Excel serial date the sheet did not format as a date
        from openpyxl.utils.datetime import from_excel

        result = from_excel(value)
        return result if isinstance(result, datetime) else None
    return None


# Fast paths for the common case --------------------------------------------------------
#
# normalize_contact validates the e-mail twice and parses the phone with phonenumbers:
# ~200 µs a row, 20 s for 100,000 rows. For the overwhelmingly common shapes below the
# answer is known without asking (tests check it agrees with normalize_contact); every
# other value goes through normalize_contact itself.

_SIMPLE_EMAIL = re.compile(
    r"[a-z0-9_%+-]{1,64}(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,24}",
    re.ASCII,
)
_PHONE_SEPARATORS = re.compile(r"[ ()\-]")
_PLUS7 = re.compile(r"\+7[1-9]\d{9}", re.ASCII)
_RU_MOBILE = re.compile(r"[78](9\d{9})", re.ASCII)
_SPECIAL_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")


def _fast_email(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return ""
    if not value.isascii() or len(value) > 254:
        return None
    lowered = value.lower()
    if not _SIMPLE_EMAIL.fullmatch(lowered):
        return None
    local, _at, domain = lowered.partition("@")
    if len(local) > 64 or "--" in domain or len(domain) > 253:
        return None
    tld = domain.rsplit(".", 1)[-1]
    if tld in _SPECIAL_DOMAINS or domain in _SPECIAL_DOMAINS:
        return None
    return lowered


def _fast_phone(raw: str) -> str | None:
    value = raw.strip()
    if not value:
        return ""
    if not value.isascii():
        return None
    digits = _PHONE_SEPARATORS.sub("", value)
    if _PLUS7.fullmatch(digits):
        return digits
    if _normalize.DEFAULT_REGION == "RU":
        match = _RU_MOBILE.fullmatch(digits)
        if match:
            return "+7" + match.group(1)
    return None


def clean_contact(c: Contact) -> tuple[dict[str, str], list[str]]:
    """``normalize_contact``'s answer, quickly for plain e-mails and Russian phones."""
    email = _fast_email(c.email)
    phone = _fast_phone(c.phone) if email is not None else None
    if email is None or phone is None:
        return normalize_contact(c)
    return {"email": email, "phone": phone}, ([] if email or phone else ["no_contact"])


# Importing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    row: int
    code: str  # "cells", "quotes", "unreadable", "received_at"
    reason: str


@dataclass(frozen=True)
class Duplicate:
    row: int
    lead: int | None  # the lead it duplicates (None in a dry run when that is in the file)
    on: str  # "email" or "phone"
    original_row: int | None = None  # when the original is an earlier row of this file


@dataclass
class Summary:
    mapping: Mapping
    rows: int = 0
    created: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    review: int = 0
    dry_run: bool = False
    atomic: bool = False
    aborted: bool = False  # atomic and a row was rejected: nothing imported
    source_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "duplicates": [
                {"row": d.row, "lead": d.lead, "on": d.on, "original_row": d.original_row}
                for d in self.duplicates
            ],
            "rejected": [{"row": r.row, "code": r.code, "reason": r.reason} for r in self.rejected],
            "review": self.review,
            "dry_run": self.dry_run,
            "atomic": self.atomic,
            "aborted": self.aborted,
            "source": self.source_id,
            "mapping": self.mapping.as_dict(),
        }


Progress = Callable[[str, int, int], None]
"""``progress(stage, n, total)``: ``n`` more rows done in ``stage`` ("read", "import")."""


@dataclass
class _Row:
    row: int
    received_at: datetime
    name: str
    email: str
    phone: str
    company: str
    website: str
    message: str
    attribution: dict[str, str]
    extra: dict[str, str]
    review: list[str]
    service: Service | None


def _first_of_list(raw: str) -> tuple[str, bool]:
    """A cell may hold several phones or e-mails (``a@x.ru, b@y.ru``): the first one,
    and whether there were more."""
    if "," not in raw and ";" not in raw:
        return raw, False
    parts = [p.strip() for p in re.split(r"[,;]", raw) if p.strip()]
    return (parts[0] if parts else ""), len(parts) > 1


def _services() -> dict[str, Service]:
    found: dict[str, Service] = {}
    for service in Service.objects.all():
        for key in (service.name_en, service.name_ru, service.code):
            if key:
                found.setdefault(key.strip().casefold(), service)
    return found


class _Rows:
    """Turns table rows into ``_Row``s (or rejections) for one mapping."""

    def __init__(self, table: Table, mapping: Mapping, now: datetime) -> None:
        self.table = table
        self.now = now
        self.tz = timezone.get_current_timezone()
        self.width = len(table.headers)
        self.by_field: dict[str, list[Column]] = {}
        self.extra_keys: dict[int, str] = {}
        seen: dict[str, int] = {}
        for column in mapping.columns:
            if column.field:
                self.by_field.setdefault(column.field, []).append(column)
            base = column.header
            seen[base] = seen.get(base, 0) + 1
            self.extra_keys[column.index] = base if seen[base] == 1 else f"{base} ({seen[base]})"
        # (field, column indexes) in a fixed order; the columns not listed go to ``extra``.
        self.plan = [(f, [c.index for c in cols]) for f, cols in self.by_field.items()]
        self.unmapped = [c.index for c in mapping.columns if not c.field]
        self.attribution_keys = [k for k in ATTRIBUTION_KEYS if k in self.by_field]
        self.services = _services() if "service" in self.by_field else {}

    def build(self, line: int, cells: list[str]) -> _Row | Rejected:
        broken = self.table.broken.get(line)
        if broken == "quotes":
            return Rejected(
                line,
                "quotes",
                _("An opening quote is never closed; the lines after it were read as rows."),
            )
        if broken:
            return Rejected(line, "unreadable", _("The row cannot be read."))
        width = self.width
        if len(cells) != width:
            count = _trimmed_len(cells) if len(cells) > width else len(cells)
            if count != width:
                return Rejected(
                    line,
                    "cells",
                    _("Expected %(expected)s cells, found %(found)s.")
                    % {"expected": width, "found": count},
                )
        values = [c.strip() for c in cells[:width]]
        extra: dict[str, str] = {}
        extra_keys = self.extra_keys
        # Each field takes its first non-empty column; other values go to ``extra``.
        got: dict[str, str] = {}
        first_column: dict[str, int] = {}
        for name, indexes in self.plan:
            for index in indexes:
                value = values[index]
                if not value:
                    continue
                chosen = got.get(name)
                if chosen is None:
                    got[name] = value
                    first_column[name] = index
                elif value != chosen:
                    extra[extra_keys[index]] = value
        for index in self.unmapped:
            if values[index]:
                extra[extra_keys[index]] = values[index]

        received_at = self.now
        received_raw = got.get("received_at")
        if received_raw:
            parsed = parse_received_at(received_raw, self.tz)
            if parsed is None:
                return Rejected(
                    line,
                    "received_at",
                    _("Cannot read the date “%(value)s”.") % {"value": received_raw[:40]},
                )
            received_at = parsed
        first_name, last_name = got.get("first_name", ""), got.get("last_name", "")
        name = got.get("name", "")
        if not name:
            name = (
                f"{first_name} {last_name}" if first_name and last_name else first_name or last_name
            )
        else:  # a full name is there: keep the parts it does not already contain
            for part in ("first_name", "last_name"):
                value = got.get(part, "")
                if value and value not in name:
                    extra[extra_keys[first_column[part]]] = value
        email_raw, phone_raw = got.get("email", ""), got.get("phone", "")
        if email_raw:
            email_raw, more = _first_of_list(email_raw)
            if more:
                extra[extra_keys[first_column["email"]]] = got["email"]
        if phone_raw:
            phone_raw, more = _first_of_list(phone_raw)
            if more:
                extra[extra_keys[first_column["phone"]]] = got["phone"]
        attribution = {k: got[k] for k in self.attribution_keys if k in got}
        service: Service | None = None
        service_raw = got.get("service")
        if service_raw:
            service = self.services.get(service_raw.casefold())
            if service is None:
                extra[extra_keys[first_column["service"]]] = service_raw
        contact = Contact(
            name=name,
            email=email_raw,
            phone=phone_raw,
            company=got.get("company", ""),
            website=got.get("website", ""),
            message=got.get("message", ""),
            attribution=attribution,
        )
        cleaned, review = clean_contact(contact)
        email = cleaned["email"]
        if len(email) > _MAX_LENGTH["email"]:
            extra.setdefault("email", email_raw)
            email = ""
            if "email_invalid" not in review:
                review.append("email_invalid")
            if not cleaned["phone"] and "no_contact" not in review:
                review.append("no_contact")
        return _Row(
            row=line,
            received_at=received_at,
            name=self._fit("name", contact.name, extra),
            email=email,
            phone=cleaned["phone"],
            company=self._fit("company", contact.company, extra),
            website=self._fit("website", contact.website, extra),
            message=contact.message,
            attribution=attribution,
            extra=extra,
            review=review,
            service=service,
        )

    @staticmethod
    def _fit(name: str, value: str, extra: dict[str, str]) -> str:
        limit = _MAX_LENGTH[name]
        if len(value) <= limit:
            return value
        extra.setdefault(name, value)
        return value[:limit]


class _Rollback(Exception):
    """Raised inside the transaction of a dry run to undo it, caught right outside."""


def import_source(preset: str) -> Source:
    """The catalogue source imported leads are attributed to: ``Import: <preset>``."""
    name = f"Import: {preset}"
    source = Source.objects.filter(kind=Source.Kind.IMPORT, name=name).order_by("id").first()
    if source is None:
        source = Source.objects.create(kind=Source.Kind.IMPORT, name=name, secret="")
    return source


def import_rows(
    table: Table,
    mapping: Mapping,
    *,
    dry_run: bool = False,
    atomic: bool = False,
    source: Source | None = None,
    actor: User | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> Summary:
    """Import the table's rows as new leads; see the module docstring.

    ``atomic``: any rejected row means nothing is imported. ``dry_run``: everything is
    done, then rolled back, so the summary says what would happen. Otherwise each chunk
    of rows is its own transaction and rejected rows are reported and skipped.
    """
    check_mapping(mapping)
    with _no_cyclic_gc():
        return _import_rows(
            table,
            mapping,
            dry_run=dry_run,
            atomic=atomic,
            source=source,
            actor=actor,
            progress=progress,
            now=now or timezone.now(),
            chunk_size=chunk_size,
        )


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cycle collector: an import allocates a few objects per cell, and the
    collector would rescan every one of them again and again (a fifth of the time of a
    100,000-row import). Reference counting still frees everything as it goes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import_rows(
    table: Table,
    mapping: Mapping,
    *,
    dry_run: bool,
    atomic: bool,
    source: Source | None,
    actor: User | None,
    progress: Progress | None,
    now: datetime,
    chunk_size: int,
) -> Summary:
    summary = Summary(mapping=mapping, rows=len(table.rows), dry_run=dry_run, atomic=atomic)

    def tick(stage: str, n: int, total: int) -> None:
        if progress is not None and n:
            progress(stage, n, total)

    builder = _Rows(table, mapping, now)
    prepared: list[_Row] = []
    pending = 0
    for line, cells in zip(table.lines, table.rows, strict=True):
        built = builder.build(line, cells)
        if isinstance(built, Rejected):
            summary.rejected.append(built)
        else:
            prepared.append(built)
        pending += 1
        if pending == 1000:
            tick("read", pending, len(table.rows))
            pending = 0
    tick("read", pending, len(table.rows))
    if atomic and summary.rejected:
        summary.aborted = True
        return summary
    # Oldest first, so the earliest request of a person is the original the later ones
    # point to (exports often list the newest first).
    prepared.sort(key=lambda r: (r.received_at, r.row))
    writer = _Writer(summary, source, mapping.preset, actor, now, dry_run)
    chunks = [prepared[i : i + chunk_size] for i in range(0, len(prepared), chunk_size)]
    if atomic or dry_run:
        try:
            with transaction.atomic():
                for chunk in chunks:
                    writer.write(chunk)
                    tick("import", len(chunk), len(prepared))
                if dry_run:
                    raise _Rollback
        except _Rollback:
            summary.source_id = None if source is None else source.pk
    else:
        for chunk in chunks:
            with transaction.atomic():
                writer.write(chunk)
            tick("import", len(chunk), len(prepared))
    summary.duplicates.sort(key=lambda d: d.row)
    summary.rejected.sort(key=lambda r: r.row)
    return summary


class _Writer:
    """Writes chunks of prepared rows, linking duplicates with one lookup per chunk."""

    def __init__(
        self,
        summary: Summary,
        source: Source | None,
        preset: str,
        actor: User | None,
        now: datetime,
        dry_run: bool,
    ) -> None:
        self.summary = summary
        self.source = source
        self.preset = preset
        self.actor = actor
        self.now = now
        self.dry_run = dry_run
        self.rows_of_leads: dict[int, int] = {}  # lead id → file row, for this import

    def _source(self) -> Source:
        if self.source is None:
            self.source = import_source(self.preset if self.preset != "generic" else "auto")
        if not self.dry_run:
            self.summary.source_id = self.source.pk
        return self.source

    def write(self, chunk: list[_Row]) -> None:
        source = self._source()
        window = DUPLICATE_WINDOW
        emails = {r.email for r in chunk if r.email}
        phones = {r.phone for r in chunk if r.phone}
        # Existing originals (and this import's earlier chunks), one query per chunk.
        by_email: dict[str, list[tuple[datetime, int, Lead]]] = {}
        by_phone: dict[str, list[tuple[datetime, int, Lead]]] = {}
        if emails or phones:
            match = Q()
            if emails:
                match |= Q(email__in=emails)
            if phones:
                match |= Q(phone__in=phones)
            earliest = min(r.received_at for r in chunk) - window
            # duplicate_of is checked here, not in SQL: SQLite would pick its index (nearly
            # every lead has none) over the e-mail and phone ones and scan the whole table.
            # Sorted here too: ORDER BY received_at makes SQLite walk that index instead.
            found = (
                Lead.objects.filter(match, received_at__gte=earliest)
                .only("id", "email", "phone", "received_at", "duplicate_of_id")
                .order_by()
            )
            for lead in sorted(found, key=lambda lead: (lead.received_at, lead.pk)):
                if lead.duplicate_of_id is not None:
                    continue
                entry = (lead.received_at, lead.pk, lead)
                if lead.email in emails:
                    by_email.setdefault(lead.email, []).append(entry)
                if lead.phone in phones:
                    by_phone.setdefault(lead.phone, []).append(entry)
        # Originals among this chunk's own earlier rows: (received_at, position in chunk).
        chunk_email: dict[str, list[tuple[datetime, int]]] = {}
        chunk_phone: dict[str, list[tuple[datetime, int]]] = {}
        # For each row: None, an existing Lead, or the position of an original in the chunk.
        links: list[tuple[Lead | int | None, str]] = []
        for position, row in enumerate(chunk):
            threshold = row.received_at - window
            best: tuple[datetime, int, Lead | int, str] | None = None
            for key, table, on in ((row.email, by_email, "email"), (row.phone, by_phone, "phone")):
                if not key:
                    continue
                for received, lead_id, lead in table.get(key, ()):
                    if received >= threshold:
                        candidate = (received, lead_id, lead, on)
                        if best is None or candidate[:2] < best[:2]:
                            best = candidate
                        break
            for key, local, on in (
                (row.email, chunk_email, "email"),
                (row.phone, chunk_phone, "phone"),
            ):
                if not key or key not in local:
                    continue
                entries = local[key]
                at = bisect.bisect_left(entries, (threshold, -1))
                if at < len(entries):
                    received, index = entries[at]
                    # Rows of this chunk sort after any lead already stored.
                    if best is None or (received, 1 << 62) < best[:2]:
                        best = (received, 1 << 62, index, on)
            if best is None:
                links.append((None, ""))
                if row.email:
                    chunk_email.setdefault(row.email, []).append((row.received_at, position))
                if row.phone:
                    chunk_phone.setdefault(row.phone, []).append((row.received_at, position))
            else:
                links.append((best[2], best[3]))

        def new_lead(row: _Row, duplicate_of: Lead | None) -> NewLead:
            return NewLead(
                name=row.name,
                email=row.email,
                phone=row.phone,
                company=row.company,
                website=row.website,
                message=row.message,
                attribution=row.attribution,
                service=row.service,
                source=source,
                received_at=row.received_at,
                extra=row.extra,
                review=row.review,
                duplicate_of=duplicate_of,
            )

        # Rows that are originals or duplicates of stored leads first; then the rows that
        # duplicate one of those (bulk_create needs the original saved before).
        created: dict[int, Lead] = {}
        first: list[int] = []
        items: list[NewLead] = []
        for i, (link, _on) in enumerate(links):
            if not isinstance(link, int):
                first.append(i)
                items.append(new_lead(chunk[i], link))
        for i, lead in zip(
            first, create_leads_bulk(items, actor=self.actor, now=self.now), strict=True
        ):
            created[i] = lead
        second: list[int] = []
        items = []
        for i, (link, _on) in enumerate(links):
            if isinstance(link, int):
                second.append(i)
                items.append(new_lead(chunk[i], created[link]))
        if items:
            more = create_leads_bulk(items, actor=self.actor, now=self.now)
            for i, lead in zip(second, more, strict=True):
                created[i] = lead
        for i, row in enumerate(chunk):
            lead = created[i]
            self.rows_of_leads[lead.pk] = row.row
            link, on = links[i]
            if link is not None:
                original = created[link] if isinstance(link, int) else link
                original_row = self.rows_of_leads.get(original.pk)
                in_file = original_row is not None
                self.summary.duplicates.append(
                    Duplicate(
                        row=row.row,
                        lead=None if (self.dry_run and in_file) else original.pk,
                        on=on,
                        original_row=original_row,
                    )
                )
            if row.review:
                self.summary.review += 1
        self.summary.created += len(chunk)


def iter_preview(table: Table, mapping: Mapping, limit: int = 10) -> Iterator[dict[str, Any]]:
    """The first rows as they would be imported (for the web page's preview)."""
    builder = _Rows(table, mapping, timezone.now())
    shown = 0
    for line, cells in zip(table.lines, table.rows, strict=True):
        if shown >= limit:
            return
        built = builder.build(line, cells)
        shown += 1
        if isinstance(built, Rejected):
            yield {"row": line, "rejected": built.reason}
            continue
        yield {
            "row": line,
            "name": built.name,
            "email": built.email,
            "phone": built.phone,
            "company": built.company,
            "received_at": built.received_at,
            "service": built.service,
            "attribution": built.attribution,
            "extra": built.extra,
            "review": built.review,
        }
