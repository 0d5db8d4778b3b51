"""Reading export files: encodings, delimiters, broken rows, XLSX cells, dates."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from leadrelay.intake.importers import ImportFileError, parse_received_at, read_table

HEADER = "Имя;Телефон;Email;Комментарий\r\n"
ROWS = [
    "Ирина Петрова;+7 (999) 123-45-67;Irina@Example.RU;Нужен сайт, срочно\r\n",
    "Иван;8 916 000-00-01;ivan@example.ru;\r\n",
]


def test_utf8_with_semicolons() -> None:
    table = read_table((HEADER + "".join(ROWS)).encode("utf-8"), "leads.csv")
    assert (table.format, table.encoding, table.delimiter) == ("csv", "utf-8", ";")
    assert table.headers == ["Имя", "Телефон", "Email", "Комментарий"]
    assert table.rows[0] == [
        "Ирина Петрова",
        "+7 (999) 123-45-67",
        "Irina@Example.RU",
        "Нужен сайт, срочно",
    ]
    assert table.lines == [2, 3]


def test_utf8_bom_is_dropped_from_the_first_header() -> None:
    data = "\ufeff" + "Name,Email\nAnna,anna@example.com\n"
    table = read_table(data.encode("utf-8"), "export.csv")
    assert table.encoding == "utf-8-sig"
    assert table.headers == ["Name", "Email"]
    assert table.rows == [["Anna", "anna@example.com"]]


def test_cp1251_as_excel_saves_it_in_russia() -> None:
    data = (HEADER + "".join(ROWS)).encode("cp1251")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    table = read_table(data, "выгрузка.csv")
    assert table.encoding == "cp1251"
    assert table.delimiter == ";"
    assert table.rows[0][0] == "Ирина Петрова"
    assert table.rows[0][3] == "Нужен сайт, срочно"


def test_commas_with_quoted_commas_and_semicolons() -> None:
    data = (
        "Name,Email,Message\n"
        '"Petrov, Ivan",ivan@example.ru,"one; two; three"\n'
        'Anna,anna@example.com,"a, b"\n'
    )
    table = read_table(data.encode(), "x.csv")
    assert table.delimiter == ","
    assert table.rows == [
        ["Petrov, Ivan", "ivan@example.ru", "one; two; three"],
        ["Anna", "anna@example.com", "a, b"],
    ]


def test_semicolons_with_commas_in_every_row() -> None:
    data = "Name;Message\nIvan;a, b, c\nAnna;d, e\nOleg;f, g, h, i\n"
    assert read_table(data.encode(), "x.csv").delimiter == ";"


def test_tab_separated() -> None:
    table = read_table(b"Name\tPhone\nIvan\t89991234567\n", "x.txt")
    assert table.delimiter == "\t"
    assert table.rows == [["Ivan", "89991234567"]]


def test_line_numbers_count_multiline_cells_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_bytes(b'Name,Message\r\nIvan,"line one\r\nline two"\r\n\r\nAnna,hello\r\n')
    table = read_table(path)
    assert table.filename == "multi.csv"
    assert table.rows == [["Ivan", "line one\r\nline two"], ["Anna", "hello"]]
    assert table.lines == [2, 5]


def test_an_unclosed_quote_costs_one_row_not_the_rest_of_the_file() -> None:
    data = (
        "Name,Email,Phone\n"
        "Ivan,ivan@example.ru,+79991234567\n"
        'Broken,"broken@example.ru,+79990000000\n'
        "Anna,anna@example.com,+79991112233\n"
        "Oleg,oleg@example.com,+79994445566\n"
    )
    table = read_table(data.encode(), "x.csv")
    assert table.broken == {3: "quotes"}
    assert table.lines == [2, 3, 4, 5]
    assert table.rows[2] == ["Anna", "anna@example.com", "+79991112233"]
    assert table.rows[3] == ["Oleg", "oleg@example.com", "+79994445566"]


def test_rows_with_the_wrong_number_of_cells_are_kept_for_the_importer_to_reject() -> None:
    table = read_table(b"Name,Email\nIvan,ivan@example.ru,extra\nAnna\n", "x.csv")
    assert table.rows == [["Ivan", "ivan@example.ru", "extra"], ["Anna"]]
    assert table.broken == {}


def test_trailing_delimiters_do_not_make_columns() -> None:
    table = read_table(b"Name;Email;\nIvan;ivan@example.ru;\n", "x.csv")
    assert table.headers == ["Name", "Email"]
    assert table.rows == [["Ivan", "ivan@example.ru", ""]]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"", "empty.csv"),
        (b"\n\n  \n", "blank.csv"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls"),
        (b"\x00\x01\x02binary\x00", "image.csv"),
        (b"\xef\xbb\xbfName\n\xff\xfe\n", "bad-bom.csv"),
        (b"PK\x03\x04not really a zip", "fake.xlsx"),
        (b"Name,Email\n", "header-only.csv"),
    ],
)
def test_file_level_problems_are_one_clear_error(data: bytes, name: str) -> None:
    with pytest.raises(ImportFileError):
        read_table(data, name)


def test_a_missing_path_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError):
        read_table(tmp_path / "nope.csv")


def _xlsx(rows: list[list[object]], *, extra_sheet: bool = False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        book.create_sheet("Other").append(["Not", "this"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_numbers_and_dates_read_as_typed() -> None:
    data = _xlsx(
        [
            ["Name", "Phone", "Created", "Budget", "Born", "Share", "Active"],
            [
                "Ирина",
                79991234567,
                datetime(2026, 3, 2, 9, 30),
                150000.0,
                date(1990, 5, 1),
                0.15,
                True,
            ],
            ["Иван", 89161234567.0, datetime(2026, 3, 2), 1e-7, None, 7.9991234567e10, None],
        ],
        extra_sheet=True,
    )
    table = read_table(data, "contacts.xlsx")
    assert table.format == "xlsx"
    assert table.headers == ["Name", "Phone", "Created", "Budget", "Born", "Share", "Active"]
    assert table.rows[0] == [
        "Ирина",
        "79991234567",
        "2026-03-02 09:30:00",
        "150000",
        "1990-05-01",
        "0.15",
        "TRUE",
    ]
    assert table.rows[1] == [
        "Иван",
        "89161234567",
        "2026-03-02",
        "0.0000001",
        "",
        "79991234567",
        "",
    ]
    assert table.lines == [2, 3]


def test_xlsx_skips_blank_rows_but_keeps_their_numbers_and_pads_short_rows() -> None:
    data = _xlsx(
        [["Name", "Email", "Phone"], ["Ivan"], [], ["Anna", "anna@example.com", 79991234567]]
    )
    table = read_table(data, "x.xlsx")
    assert table.rows == [["Ivan", "", ""], ["Anna", "anna@example.com", "79991234567"]]
    assert table.lines == [2, 4]


def test_xlsx_is_recognised_by_content_whatever_the_name() -> None:
    table = read_table(_xlsx([["Email"], ["a@example.com"]]), "download")
    assert table.format == "xlsx"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-03-02 09:00", datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
        ("2026-03-02T09:00:00Z", datetime(2026, 3, 2, 9, 0, tzinfo=UTC)),
        ("2026-03-02T09:00:00+03:00", datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
        ("02.03.2026 09:00:00", datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
        ("02.03.2026", datetime(2026, 3, 1, 21, 0, tzinfo=UTC)),
        ("3/2/2026 9:00 AM", datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
        ("25/12/2025", datetime(2025, 12, 24, 21, 0, tzinfo=UTC)),
        ("1772431200000", datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
        ("1772431200", datetime(2026, 3, 2, 6, 0, tzinfo=UTC)),
    ],
)
def test_dates_as_crms_export_them(raw: str, expected: datetime, settings: Any) -> None:
    settings.TIME_ZONE = "Europe/Moscow"  # naive times are in the site's time zone
    assert parse_received_at(raw) == expected


@pytest.mark.parametrize(
    "raw", ["вчера", "32.13.2026", "2026-02-30", "12", "0001-01-01", "9" * 30, "1e400"]
)
def test_unreadable_dates(raw: str) -> None:
    assert parse_received_at(raw) is None
