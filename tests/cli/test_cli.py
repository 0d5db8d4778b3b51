"""The ``leadrelay`` command as a user runs it: a real process on its own data directory.

Each test gets a fresh ``LEADRELAY_DATA_DIR`` and so its own embedded SQLite database;
``DATABASE_URL`` is removed from the child's environment, so PostgreSQL test runs check
the same thing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import global_settings
from django.contrib.auth.hashers import check_password
from django.test import Client
from pytest_django.fixtures import Settings

from leadrelay import cli

LEADRELAY = Path(sys.executable).with_name("leadrelay")
PASSWORD = "Correct-horse-battery-42"

Run = Callable[..., subprocess.CompletedProcess[str]]


def runner(data_dir: Path) -> Run:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "LEADRELAY_TEST_DB_NAME", "LEADRELAY_SECRET_KEY"}
    }
    env["LEADRELAY_DATA_DIR"] = str(data_dir)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LEADRELAY), *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )

    return run


@pytest.fixture(scope="session")
def migrated_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose database is migrated once; tests get copies of it."""
    path = tmp_path_factory.mktemp("template") / "data"
    result = runner(path)("manage", "migrate", "--no-input", "-v", "0")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def data_dir(tmp_path: Path, migrated_data_dir: Path) -> Path:
    """A fresh data directory of this test's own, its database already migrated."""
    path = tmp_path / "data"
    shutil.copytree(migrated_data_dir, path)
    return path


@pytest.fixture
def run(data_dir: Path) -> Run:
    return runner(data_dir)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The command failed the way CONTRACT.md promises: non-zero, one line, no traceback."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def db_rows(data_dir: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(data_dir / "leadrelay.sqlite3") as db:
        return db.execute(sql, params).fetchall()


def test_the_command_is_installed() -> None:
    assert LEADRELAY.exists(), f"{LEADRELAY} is missing: pip install -e ."


def test_help_lists_every_command(run: Run) -> None:
    result = run("--help")
    assert result.returncode == 0, result.stderr
    for command in ("serve", "worker", "demo", "user", "token", "manage"):
        assert command in result.stdout


@pytest.mark.parametrize(
    "command",
    [["serve"], ["worker"], ["demo"], ["user", "create"], ["token", "create"], ["manage"]],
    ids=" ".join,
)
def test_every_command_takes_help(run: Run, command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()
    assert "Traceback" not in result.stderr


def test_an_unknown_role_is_one_line_on_stderr(run: Run) -> None:
    line = one_line_error(run("user", "create", "bob", "--role", "wizard"))
    assert "wizard" in line
    assert "sdr" in line  # names the roles to choose from


def test_a_user_created_on_a_new_data_directory_can_log_in(
    tmp_path: Path, settings: Settings
) -> None:
    # The child hashed with the product's hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    data_dir = tmp_path / "new"
    run = runner(data_dir)
    result = run("user", "create", "bob", "--role", "sdr", "--password-stdin", stdin=PASSWORD)
    assert result.returncode == 0, result.stderr
    assert "bob" in result.stdout
    assert PASSWORD not in result.stdout
    [(role, stored)] = db_rows(
        data_dir, "SELECT role, password FROM accounts_user WHERE username = ?", "bob"
    )
    assert role == "sdr"
    assert isinstance(stored, str) and check_password(PASSWORD, stored)


def test_a_token_is_printed_on_the_last_line_and_stored_hashed(run: Run, data_dir: Path) -> None:
    run("user", "create", "bob", "--role", "sales", "--password-stdin", stdin=PASSWORD)
    result = run("token", "create", "bob")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("lr_") and " " not in token
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert db_rows(data_dir, "SELECT 1 FROM accounts_apitoken WHERE key_hash = ?", digest)


def test_user_create_json_is_one_document_without_the_given_password(run: Run) -> None:
    result = run(
        "user", "create", "bob", "--role", "head_sales", "--password-stdin", "--json",
        stdin=PASSWORD,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["username"] == "bob"
    assert data["role"] == "head_sales"
    assert isinstance(data["id"], int)
    assert "password" not in data


def test_user_create_json_carries_a_generated_password(run: Run) -> None:
    result = run("user", "create", "carl", "--role", "sales", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["password"]) >= 12


def test_token_create_json_is_one_document(run: Run) -> None:
    run("user", "create", "bob", "--role", "sdr", "--password-stdin", stdin=PASSWORD)
    result = run("token", "create", "bob", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["user"] == "bob"
    assert data["token"].startswith("lr_")


def test_two_tokens_for_one_user_differ(run: Run) -> None:
    run("user", "create", "bob", "--role", "sdr", "--password-stdin", stdin=PASSWORD)
    first = run("token", "create", "bob").stdout.strip()
    second = run("token", "create", "bob").stdout.strip()
    assert first != second


def test_a_duplicate_user_is_a_clear_error(run: Run, data_dir: Path) -> None:
    run("user", "create", "bob", "--role", "sdr", "--password-stdin", stdin=PASSWORD)
    result = run("user", "create", "bob", "--role", "sales", "--password-stdin", stdin=PASSWORD)
    assert "already exists" in one_line_error(result)
    assert db_rows(data_dir, "SELECT role FROM accounts_user WHERE username = 'bob'") == [("sdr",)]


def test_a_weak_password_is_refused_and_no_user_is_created(run: Run, data_dir: Path) -> None:
    result = run("user", "create", "bob", "--role", "sdr", "--password-stdin", stdin="123\n")
    one_line_error(result)
    assert db_rows(data_dir, "SELECT count(*) FROM accounts_user") == [(0,)]


def test_an_empty_password_on_stdin_is_refused(run: Run) -> None:
    result = run("user", "create", "bob", "--role", "sdr", "--password-stdin", stdin="")
    assert "password" in one_line_error(result)


def test_a_token_for_an_unknown_user_is_a_clear_error(run: Run) -> None:
    run("user", "create", "bob", "--role", "sdr", "--password-stdin", stdin=PASSWORD)
    assert "nobody" in one_line_error(run("token", "create", "nobody"))


def test_a_missing_required_option_exits_non_zero_without_a_traceback(run: Run) -> None:
    result = run("user", "create", "bob")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "--role" in result.stderr.strip().splitlines()[-1]


def test_no_command_exits_non_zero_without_a_traceback(run: Run) -> None:
    result = run()
    assert result.returncode != 0
    assert "Traceback" not in result.stderr


def test_manage_check_works(run: Run) -> None:
    result = run("manage", "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_a_data_directory_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "data"
    path.write_text("not a directory")
    one_line_error(runner(path)("user", "create", "bob", "--role", "sdr"))


@pytest.mark.django_db
def test_a_token_made_in_process_opens_the_api(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert cli.main(["user", "create", "dina", "--role", "admin", "--password-stdin"]) == 0
    capsys.readouterr()
    assert cli.main(["token", "create", "dina", "--json"]) == 0
    token = json.loads(capsys.readouterr().out)["token"]
    response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/leads")
    assert response.status_code == 200


@pytest.mark.django_db
def test_bad_input_in_process_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["user", "create", "eve", "--role", "wizard"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
