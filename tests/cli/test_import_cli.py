"""``leadrelay import`` as a user runs it: a real process on its own data directory.

``DATABASE_URL`` is removed from the child's environment, so the command works on its own
embedded SQLite database in a fresh ``LEADRELAY_DATA_DIR`` whatever the test run uses.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

# The CLI suite's subprocess runner; data_dir (a migrated copy) comes from conftest.
from tests.cli.test_cli import runner

HUBSPOT_CSV = (
    "Record ID,First Name,Last Name,Email,Phone Number,Company Name,Create Date,Lifecycle Stage\n"
    "1,Ирина,Петрова,Irina@Example.RU,+7 (999) 123-45-67,ООО Ромашка,2026-03-01 10:00,lead\n"
    "2,Иван,Иванов,ivan@example.ru,8 916 000-00-01,,2026-03-02 11:00,lead\n"
    "3,Broken,row\n"
    "4,Ирина,П.,IRINA@example.ru,,,2026-03-03 09:00,lead\n"
    "5,Нет,Контакта,,,,2026-03-03 10:00,lead\n"
)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "hubspot-crm-exports-all-contacts.csv"
    path.write_text(HUBSPOT_CSV, encoding="utf-8")
    return path


def count_leads(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "leadrelay.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM leads_lead").fetchone()[0])


def test_json_summary(data_dir: Path, export: Path) -> None:
    result = runner(data_dir)("import", str(export), "--json")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert summary["created"] == 4
    assert summary["rejected"] == [
        {"row": 4, "code": "cells", "reason": "Expected 8 cells, found 3."}
    ]
    [duplicate] = summary["duplicates"]
    assert (duplicate["row"], duplicate["on"], duplicate["original_row"]) == (5, "email", 2)
    assert isinstance(duplicate["lead"], int)
    assert summary["review"] == 1
    assert summary["dry_run"] is False
    assert summary["mapping"]["preset"] == "hubspot"
    assert summary["mapping"]["encoding"] == "utf-8"
    assert {"column": "Email", "field": "email"} in summary["mapping"]["columns"]
    assert count_leads(data_dir) == 4


def test_human_summary_with_the_mapping_and_progress_on_stderr(
    data_dir: Path, export: Path
) -> None:
    result = runner(data_dir)("import", str(export), "--preset", "hubspot")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Created 4 leads")
    assert "row 4: Expected 8 cells, found 3." in result.stdout
    assert "row 5: duplicate of row 2 (same email)" in result.stdout
    assert "Email → email" in result.stderr
    assert "Importing" in result.stderr and "4/4" in result.stderr


def test_dry_run_writes_nothing(data_dir: Path, export: Path) -> None:
    result = runner(data_dir)("import", str(export), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["dry_run"]) == (4, True)
    assert summary["duplicates"][0]["lead"] is None  # its original was never stored
    assert count_leads(data_dir) == 0


def test_atomic_imports_nothing_when_a_row_is_broken(data_dir: Path, export: Path) -> None:
    result = runner(data_dir)("import", str(export), "--atomic", "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert (summary["created"], summary["aborted"]) == (0, True)
    assert [r["row"] for r in summary["rejected"]] == [4]
    assert result.stderr.strip().splitlines()[-1].startswith("leadrelay: error:")
    assert count_leads(data_dir) == 0


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--preset", "zoho"], HUBSPOT_CSV.encode(), "unknown preset 'zoho'"),
        (["--json"], b"\x00\x01\x02\x03binary", "not a CSV or XLSX file"),
        ([], b"Company,Budget\nRomashka,100\n", "No column looks like a name, e-mail or phone"),
        ([], b"", "empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, args: list[str], content: bytes, message: str
) -> None:
    path = tmp_path / "input.csv"
    path.write_bytes(content)
    result = runner(tmp_path / "data")("import", str(path), *args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leadrelay: error:")
    assert message in lines[0]
    assert result.stdout == ""


def test_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner(tmp_path / "data")("import", str(tmp_path / "nope.csv"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"leadrelay: error: no such file: {tmp_path / 'nope.csv'}"
