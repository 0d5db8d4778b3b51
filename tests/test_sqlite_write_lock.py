"""The SQLite backend queues write transactions on a file lock (leadrelay.db.sqlite).

These run on both test databases: each makes its own SQLite file, whatever the suite's
database is.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.utils import ConnectionHandler


@pytest.fixture(autouse=True)
def own_databases(django_db_blocker: Any) -> Iterator[None]:
    """These connections are to files of the test's own, not the suite's database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def handler(tmp_path: Path) -> Iterator[ConnectionHandler]:
    handler = ConnectionHandler(
        {
            "default": {
                "ENGINE": "leadrelay.db.sqlite",
                "NAME": str(tmp_path / "db.sqlite3"),
                "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
            }
        }
    )
    conn = handler["default"]
    with conn.cursor() as cursor:
        cursor.execute("CREATE TABLE t (n INTEGER)")
    yield handler
    handler.close_all()


def lock_is_free(path: str) -> bool:
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@contextmanager
def write_transaction(conn: BaseDatabaseWrapper) -> Iterator[None]:
    """What ``transaction.atomic`` does to a connection at its outermost level."""
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        yield
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()
    finally:
        conn.set_autocommit(True)


def test_a_write_transaction_holds_the_lock_until_it_commits(handler: ConnectionHandler) -> None:
    conn = handler["default"]
    path = conn.settings_dict["NAME"] + ".writelock"
    assert lock_is_free(path)
    with write_transaction(conn):
        conn.cursor().execute("INSERT INTO t VALUES (1)")
        assert not lock_is_free(path)
    assert lock_is_free(path)
    assert conn.cursor().execute("SELECT count(*) FROM t").fetchone() == (1,)


def test_a_rolled_back_transaction_lets_the_lock_go(handler: ConnectionHandler) -> None:
    conn = handler["default"]
    path = conn.settings_dict["NAME"] + ".writelock"
    with pytest.raises(ZeroDivisionError), write_transaction(conn):
        conn.cursor().execute("INSERT INTO t VALUES (1)")
        assert not lock_is_free(path)
        _ = 1 / 0
    assert lock_is_free(path)
    assert conn.cursor().execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_closing_a_connection_mid_transaction_lets_the_lock_go(
    handler: ConnectionHandler,
) -> None:
    conn = handler["default"]
    path = conn.settings_dict["NAME"] + ".writelock"
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    conn.cursor().execute("INSERT INTO t VALUES (1)")
    assert not lock_is_free(path)
    conn.close()
    assert lock_is_free(path)


def test_a_second_writer_waits_for_the_first_instead_of_failing(tmp_path: Path) -> None:
    """Two connections (as two threads or processes have): the second writer's BEGIN
    blocks on the file lock while the first holds it, then goes ahead after its commit."""
    settings = {
        "ENGINE": "leadrelay.db.sqlite",
        "NAME": str(tmp_path / "db.sqlite3"),
        # No busy timeout: without the queue, the second BEGIN IMMEDIATE would fail at
        # once with "database is locked".
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0},
    }
    first = ConnectionHandler({"default": settings})["default"]
    first.cursor().execute("CREATE TABLE t (n INTEGER)")
    outcome: list[object] = []
    entered = threading.Event()

    def second_writer() -> None:
        conn = ConnectionHandler({"default": settings})["default"]
        try:
            entered.set()
            with write_transaction(conn):
                conn.cursor().execute("INSERT INTO t VALUES (2)")
            outcome.append("committed")
        except Exception as exc:  # the assertion below shows what went wrong
            outcome.append(exc)
        finally:
            conn.close()

    with write_transaction(first):
        first.cursor().execute("INSERT INTO t VALUES (1)")
        thread = threading.Thread(target=second_writer)
        thread.start()
        entered.wait()
    thread.join()
    first.close()
    assert outcome == ["committed"]
    check = ConnectionHandler({"default": settings})["default"]
    assert check.cursor().execute("SELECT n FROM t ORDER BY n").fetchall() == [(1,), (2,)]
    check.close()
