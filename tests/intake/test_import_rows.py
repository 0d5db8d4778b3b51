"""Importing rows: duplicates, broken rows, all-or-nothing, dry runs, review flags."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.intake.build import Contact, normalize_contact
from leadrelay.intake.importers import (
    Duplicate,
    ImportFileError,
    Table,
    clean_contact,
    import_rows,
    plan_mapping,
    read_table,
)
from leadrelay.leads.models import Lead, LeadEvent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HEADERS = ["Name", "Email", "Phone", "Created"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def table(*rows: list[str], headers: list[str] = HEADERS) -> Table:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return read_table(out.getvalue().encode(), "leads.csv")


def at(days: float = 0) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def run(t: Table, **options: Any) -> Any:
    return import_rows(t, plan_mapping(t.headers), **options)


def by_row(rows: dict[int, str]) -> dict[int, Lead]:
    """Leads by the row number they came from (rows identified by their unique name)."""
    leads = {lead.name: lead for lead in Lead.objects.all()}
    return {row: leads[name] for row, name in rows.items()}


@pytest.mark.django_db
def test_a_duplicate_of_an_existing_lead_is_imported_linked_and_reported(
    make_lead: Callable[..., Lead],
) -> None:
    old = make_lead(name="Ирина", email="irina@example.ru", received_at=T0)
    summary = run(
        table(
            ["Ирина П.", "IRINA@Example.RU", "", at(1)],
            ["Иван", "ivan@example.ru", "8 (999) 000-00-01", at(2)],
        )
    )
    assert summary.created == 2
    assert summary.duplicates == [Duplicate(row=2, lead=old.pk, on="email")]
    new = Lead.objects.get(name="Ирина П.")
    assert new.duplicate_of_id == old.pk
    assert Lead.objects.get(name="Иван").duplicate_of_id is None


@pytest.mark.django_db
def test_a_phone_match_in_another_format_is_a_duplicate(make_lead: Callable[..., Lead]) -> None:
    old = make_lead(name="Old", email="", phone="+79991234567", received_at=T0)
    summary = run(table(["New", "", "8 (999) 123-45-67", at(3)]))
    assert summary.duplicates == [Duplicate(row=2, lead=old.pk, on="phone")]
    assert Lead.objects.get(name="New").duplicate_of_id == old.pk


@pytest.mark.django_db
def test_duplicates_within_the_file_point_to_the_earliest_request() -> None:
    # Exports often list the newest first: row 4 is the first time this person asked.
    summary = run(
        table(
            ["third", "anna@example.com", "", at(5)],
            ["other", "oleg@example.com", "", at(4)],
            ["first", "Anna@Example.com", "+79990001122", at(1)],
            ["second", "", "8 999 000 11 22", at(2)],
        )
    )
    leads = by_row({2: "third", 3: "other", 4: "first", 5: "second"})
    assert leads[4].duplicate_of_id is None
    assert leads[2].duplicate_of_id == leads[4].pk
    assert leads[5].duplicate_of_id == leads[4].pk
    assert leads[3].duplicate_of_id is None
    assert summary.duplicates == [
        Duplicate(row=2, lead=leads[4].pk, on="email", original_row=4),
        Duplicate(row=5, lead=leads[4].pk, on="phone", original_row=4),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 1000])
def test_duplicates_are_linked_across_and_within_chunks(chunk_size: int) -> None:
    rows = [[f"r{i}", "same@example.com" if i % 2 else "", "+79990000000", at(i)] for i in range(7)]
    summary = run(table(*rows), chunk_size=chunk_size)
    first = Lead.objects.get(name="r0")
    assert first.duplicate_of_id is None
    assert set(Lead.objects.exclude(pk=first.pk).values_list("duplicate_of_id", flat=True)) == {
        first.pk
    }
    assert [d.row for d in summary.duplicates] == [3, 4, 5, 6, 7, 8]
    assert all(d.original_row == 2 and d.lead == first.pk for d in summary.duplicates)


@pytest.mark.django_db
def test_a_match_outside_the_duplicate_window_is_a_new_lead(
    make_lead: Callable[..., Lead],
) -> None:
    make_lead(name="Long ago", email="irina@example.ru", received_at=T0 - timedelta(days=400))
    summary = run(table(["Again", "irina@example.ru", "", at(0)]))
    assert summary.duplicates == []
    assert Lead.objects.get(name="Again").duplicate_of_id is None


@pytest.mark.django_db
def test_the_original_is_the_earliest_lead_that_is_not_itself_a_duplicate(
    make_lead: Callable[..., Lead],
) -> None:
    original = make_lead(name="A", email="x@example.ru", received_at=T0)
    make_lead(
        name="B", email="x@example.ru", received_at=T0 + timedelta(days=1), duplicate_of=original
    )
    summary = run(table(["C", "", "", at(2)], ["D", "x@example.ru", "", at(3)]))
    assert summary.duplicates == [Duplicate(row=3, lead=original.pk, on="email")]


@pytest.mark.django_db
def test_broken_rows_are_reported_by_line_and_the_rest_imported() -> None:
    data = (
        "Name,Email,Phone,Created\n"
        f"Good one,one@example.com,,{at(0)}\n"
        "Too few cells,two@example.com\n"
        f"Good two,three@example.com,,{at(1)}\n"
        "Bad date,four@example.com,,вчера\n"
        f'Open quote,"five@example.com,,{at(2)}\n'
        f"Good three,six@example.com,,{at(3)}\n"
        f"Too many,seven@example.com,,{at(4)},surprise\n"
    )
    summary = run(read_table(data.encode(), "x.csv"))
    assert [(r.row, r.code) for r in summary.rejected] == [
        (3, "cells"),
        (5, "received_at"),
        (6, "quotes"),
        (8, "cells"),
    ]
    assert summary.created == 3
    assert sorted(Lead.objects.values_list("name", flat=True)) == [
        "Good one",
        "Good three",
        "Good two",
    ]


@pytest.mark.django_db
def test_atomic_imports_nothing_when_a_row_is_broken() -> None:
    t = table(["Good", "good@example.com", "", at(0)], ["Bad", "bad@example.com", "", "someday"])
    summary = run(t, atomic=True)
    assert summary.aborted
    assert summary.created == 0
    assert [(r.row, r.code) for r in summary.rejected] == [(3, "received_at")]
    assert not Lead.objects.exists()
    assert not Source.objects.exists()
    # Without a broken row, atomic imports everything in one go.
    assert run(table(["Good", "good@example.com", "", at(0)]), atomic=True).created == 1


@pytest.mark.django_db
def test_a_dry_run_writes_nothing_but_reports_everything(make_lead: Callable[..., Lead]) -> None:
    old = make_lead(name="Old", email="old@example.ru", received_at=T0)
    events = LeadEvent.objects.count()
    summary = run(
        table(
            ["Again", "OLD@example.ru", "", at(1)],
            ["New", "new@example.ru", "", at(2)],
            ["New again", "", "", at(3)],
            ["Newer", "new@example.ru", "", at(4)],
            ["Broken"],
        ),
        dry_run=True,
    )
    assert summary.dry_run
    assert summary.created == 4
    assert summary.review == 1
    assert summary.duplicates == [
        Duplicate(row=2, lead=old.pk, on="email"),
        Duplicate(row=5, lead=None, on="email", original_row=3),
    ]
    assert [r.row for r in summary.rejected] == [6]
    assert list(Lead.objects.all()) == [old]
    assert LeadEvent.objects.count() == events
    assert not Source.objects.exists()


@pytest.mark.django_db
def test_rows_without_a_usable_contact_are_imported_for_review() -> None:
    summary = run(
        table(
            ["No contact", "", "", at(0)],
            ["Bad email", "not-an-email", "", at(0)],
            ["Bad phone", "", "12", at(0)],
            ["Bad both", "nope@", "abc", at(0)],
            ["Fine", "fine@example.com", "", at(0)],
        )
    )
    assert summary.created == 5
    assert summary.review == 4
    review = dict(Lead.objects.values_list("name", "review"))
    assert review["No contact"] == ["no_contact"]
    assert review["Bad email"] == ["email_invalid", "no_contact"]
    assert review["Bad phone"] == ["phone_invalid", "no_contact"]
    assert set(review["Bad both"]) == {"email_invalid", "phone_invalid", "no_contact"}
    assert review["Fine"] == []


@pytest.mark.django_db
def test_leads_get_their_created_event_the_import_source_and_the_actor(
    cast: dict[str, User],
) -> None:
    summary = run(table(["Ирина", "irina@example.ru", "", at(0)]), actor=cast["sdr"])
    lead = Lead.objects.get()
    assert lead.status == "new"
    assert lead.received_at == T0
    source = Source.objects.get(pk=summary.source_id)
    assert (source.kind, source.name) == ("import", "Import: auto")
    assert lead.source_id == source.pk
    event = LeadEvent.objects.get(lead=lead)
    assert (event.kind, event.to_status, event.actor_id, event.at) == (
        "created",
        "new",
        cast["sdr"].pk,
        T0,
    )
    # A second import reuses the same source.
    run(table(["Иван", "ivan@example.ru", "", at(1)]))
    assert Source.objects.count() == 1


@pytest.mark.django_db
def test_a_row_without_a_date_is_received_now() -> None:
    now = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    run(table(["Ирина", "irina@example.ru", "", ""]), now=now)
    assert Lead.objects.get().received_at == now


@pytest.mark.django_db
def test_services_long_values_and_unmapped_columns() -> None:
    t = table(
        ["Ирина", "irina@example.ru", "SEO-продвижение", "x" * 400, "от партнёра"],
        ["Иван", "ivan@example.ru", "Печать визиток", "ООО Ромашка", ""],
        headers=["Name", "Email", "Услуга", "Company", "Откуда"],
    )
    run(t)
    irina = Lead.objects.get(name="Ирина")
    assert irina.service == Service.objects.get(code="seo")
    assert irina.company == "x" * 300
    assert irina.extra == {"company": "x" * 400, "Откуда": "от партнёра"}
    ivan = Lead.objects.get(name="Иван")
    assert ivan.service is None
    assert ivan.extra == {"Услуга": "Печать визиток"}


@pytest.mark.django_db
def test_a_file_without_name_email_or_phone_is_refused_whole() -> None:
    t = table(["ООО Ромашка", "100"], headers=["Company", "Budget"])
    with pytest.raises(ImportFileError):
        run(t)
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_duplicates_are_looked_up_once_per_chunk_not_per_row(
    make_lead: Callable[..., Lead],
) -> None:
    make_lead(name="Old", email="p5@example.com", received_at=T0)
    rows = [[f"p{i}", f"p{i}@example.com", f"+7999000{i:04d}", at(i / 100)] for i in range(120)]
    with CaptureQueriesContext(connection) as queries:
        summary = run(table(*rows), chunk_size=50)
    lookups = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "leads_lead"' in q["sql"]
    ]
    assert len(lookups) == 3  # 120 rows in chunks of 50
    assert summary.created == 120
    assert [d.row for d in summary.duplicates] == [7]


@pytest.mark.django_db
def test_progress_is_reported_per_stage() -> None:
    seen: list[tuple[str, int, int]] = []
    run(
        table(["a", "a@example.com", "", at(0)], ["b"], ["c", "c@example.com", "", at(0)]),
        progress=lambda stage, n, total: seen.append((stage, n, total)),
    )
    assert seen == [("read", 3, 3), ("import", 2, 2)]


@pytest.mark.django_db
def test_a_column_sent_elsewhere_by_the_user() -> None:
    t = table(
        ["Ирина", "irina@example.ru", "+79991234567", "Приходила на вебинар"],
        headers=["Name", "Email", "Phone", "Notes"],
    )
    mapping = plan_mapping(t.headers).with_fields({2: None, 3: "message"})
    import_rows(t, mapping)
    lead = Lead.objects.get()
    assert lead.phone == ""
    assert lead.message == "Приходила на вебинар"
    assert lead.extra == {"Phone": "+79991234567"}


# The fast path must give normalize_contact's answer, or step aside.

_local = st.text(alphabet="abcXYZ019._%+-", min_size=1, max_size=12)
_domain = st.lists(st.text(alphabet="abz09-", min_size=1, max_size=8), min_size=1, max_size=3)
_emails = st.one_of(
    st.builds(
        lambda local, labels, tld, pad: f"{pad}{local}@{'.'.join(labels)}.{tld}{pad}",
        _local,
        _domain,
        st.sampled_from(["ru", "COM", "test", "local", "x", "рф", "museum", "co1"]),
        st.sampled_from(["", " ", "\t"]),
    ),
    st.text(max_size=20),
    st.just(""),
)
_digits = st.text(alphabet="0123456789", min_size=9, max_size=12)
_phones = st.one_of(
    st.builds(lambda d: f"+7{d}", _digits),
    st.builds(lambda d: f"8{d}", _digits),
    st.builds(lambda d: f"7{d}", _digits),
    st.builds(lambda d: f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", _digits),
    st.builds(lambda d: f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", _digits),
    st.text(alphabet="0123456789 +()-.", max_size=18),
    st.just(""),
)


@settings(max_examples=600, deadline=None)
@given(email=_emails, phone=_phones)
def test_the_fast_path_agrees_with_normalize_contact(email: str, phone: str) -> None:
    contact = Contact(name="x", email=email, phone=phone)
    assert clean_contact(contact) == normalize_contact(contact)


@pytest.mark.parametrize(
    ("email", "phone"),
    [
        ("Irina.Petrova@Example.RU", "+7 (999) 123-45-67"),
        ("a@b.test", "89991234567"),
        ("a..b@example.com", "79991234567"),
        ("-a@example.com", "+7 999 123-45-67"),
        ("a@-example.com", "+70123456789"),
        ("a@ex--ample.com", "8 (800) 555-35-35"),
        ("ivan@пример.рф", "+1 650 253 0000"),
        ("", "810 49 30 123456"),
    ],
)
def test_the_fast_path_on_edge_cases(email: str, phone: str) -> None:
    contact = Contact(email=email, phone=phone)
    assert clean_contact(contact) == normalize_contact(contact)


# Whatever the file holds, the outcome is an import report or ImportFileError, never a crash.

_cells = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(',;"\n\r\t\x00 @+-.()ёЁ\u2028\ufeff')),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=40,
)
_KNOWN_HEADERS = [
    "Email",
    "Телефон",
    "Имя",
    "Фамилия",
    "Дата создания",
    "Company",
    "Website",
    "Услуга",
    "utm_source",
    "gclid",
    "Record ID",
    "Сообщение",
    "Name",
]
_headers = st.lists(
    st.one_of(
        st.sampled_from(_KNOWN_HEADERS),
        _cells,
    ),
    min_size=1,
    max_size=6,
)


@pytest.mark.django_db
@settings(max_examples=80, deadline=None)
@given(
    headers=_headers,
    rows=st.lists(st.lists(_cells, max_size=7), max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]),
)
def test_any_file_gives_a_report_or_a_file_error(
    headers: list[str], rows: list[list[str]], delimiter: str, encoding: str
) -> None:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headers)
    writer.writerows(rows)
    data = out.getvalue().encode(encoding, errors="replace")
    try:
        t = read_table(data, "fuzz.csv")
        summary = import_rows(t, plan_mapping(t.headers))
    except ImportFileError:
        return
    assert summary.created + len(summary.rejected) == len(t.rows)
