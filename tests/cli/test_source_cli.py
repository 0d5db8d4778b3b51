"""``leadrelay source create``: the URL and secret to give a vendor, or one clear error."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import Run, db_rows, one_line_error


def test_source_create_json_prints_id_kind_url_and_secret(run: Run, data_dir: Path) -> None:
    result = run("source", "create", "--kind", "tilda", "--name", "Сайт: SEO", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"id", "kind", "url", "secret"} <= set(data)
    assert data["kind"] == "tilda"
    key = db_rows(data_dir, "SELECT key FROM catalog_source WHERE id = ?", data["id"])[0][0]
    # Tilda signs nothing: its token travels in the URL the admin pastes into Tilda.
    assert data["url"] == f"http://127.0.0.1:8000/in/{key}/?token={data['secret']}"


def test_source_create_takes_a_given_secret_and_mapping_file(
    run: Run, data_dir: Path, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"Ваше имя": "name", "Телефон": "phone"}), encoding="utf-8")
    result = run(
        "source", "create", "--kind", "typeform", "--name", "Brief", "--secret", "s3cret",
        "--mapping", str(mapping), "--json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["secret"] == "s3cret" and "?token" not in data["url"]
    stored = db_rows(data_dir, "SELECT mapping FROM catalog_source WHERE id = ?", data["id"])
    assert json.loads(str(stored[0][0])) == {"Ваше имя": "name", "Телефон": "phone"}


def test_an_unknown_kind_is_one_clear_line_and_creates_nothing(run: Run, data_dir: Path) -> None:
    line = one_line_error(run("source", "create", "--kind", "myspace", "--name", "x"))
    assert "unknown source kind" in line
    assert db_rows(data_dir, "SELECT count(*) FROM catalog_source") == [(0,)]


def test_a_mapping_to_an_unknown_field_is_refused(run: Run, tmp_path: Path) -> None:
    mapping = tmp_path / "m.json"
    mapping.write_text('{"Budget": "budgett"}', encoding="utf-8")
    line = one_line_error(
        run("source", "create", "--kind", "form", "--name", "x", "--mapping", str(mapping))
    )
    assert "budgett" in line


def test_a_mapping_file_that_is_not_json_is_refused(run: Run, tmp_path: Path) -> None:
    mapping = tmp_path / "m.json"
    mapping.write_text("{name: email", encoding="utf-8")
    assert "not valid JSON" in one_line_error(
        run("source", "create", "--kind", "form", "--name", "x", "--mapping", str(mapping))
    )
