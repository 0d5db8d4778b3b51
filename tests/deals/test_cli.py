"""``leadrelay payments import`` as the operator runs it: a real process on its own data
directory (see tests/cli)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import data_dir, migrated_data_dir  # noqa: F401  (fixtures)
from tests.cli.test_cli import runner


def test_help_and_a_missing_file(data_dir: Path) -> None:  # noqa: F811
    run = runner(data_dir)
    shown = run("payments", "import", "--help")
    assert shown.returncode == 0 and "--dry-run" in shown.stdout
    missing = run("payments", "import", "/nonexistent.csv")
    assert missing.returncode == 2
    assert missing.stderr.strip() == "leadrelay: error: no such file: /nonexistent.csv"


def test_refused_rows_are_listed_and_nothing_is_written(
    data_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    path = tmp_path / "payments.csv"
    path.write_text(
        "contract;paid_on;amount;currency;period_start;period_end\n"
        "NOPE-1;05.03.2026;1000;RUB;01.03.2026;31.03.2026\n",
        encoding="utf-8-sig",
    )
    result = runner(data_dir)("payments", "import", str(path), "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    summary = json.loads(result.stdout)
    assert (summary["written"], summary["rejected"]) == (False, 1)
    assert summary["rows"][0]["errors"] == {"contract": "No such contract."}
    assert result.stderr.strip().splitlines()[-1].startswith("leadrelay: error: nothing imported")
    bad = tmp_path / "bad.csv"
    bad.write_text("amount\n5\n", encoding="utf-8")
    text = runner(data_dir)("payments", "import", str(bad))
    assert text.returncode == 1 and "Missing columns" in text.stdout
