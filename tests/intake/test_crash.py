"""No lead is lost or doubled when the serving process dies mid-request.

A real `leadrelay serve` (gunicorn) takes 2,000 unique leads from 8 client threads
while a killer sends SIGKILL to one of its worker processes every second or so. Each
client retries every failed or non-2xx call with the same `Idempotency-Key`, as a
vendor would. Afterwards every lead is there exactly once. Runs against the database of
the suite: its own SQLite file, or its own PostgreSQL database when DATABASE_URL is set.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

LEADS = 2000
CLIENTS = 8
MAX_TRIES = 50
LEADRELAY = Path(sys.executable).with_name("leadrelay")


@dataclass
class Server:
    base: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    count_sql: tuple[str, str]  # (backend, dsn or sqlite path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(LEADRELAY), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env["LEADRELAY_DATA_DIR"] = str(tmp_path)
    env["LEADRELAY_INTAKE_RATE_PER_MINUTE"] = "0"  # the load is one IP on purpose
    url = os.environ.get("DATABASE_URL", "")
    dbname = f"lr_crash_{os.getpid()}"
    admin_dsn = ""
    if url:
        base_url = url.rsplit("/", 1)[0]
        admin_dsn = url
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["DATABASE_URL"] = f"{base_url}/{dbname}"
        counter = ("postgres", env["DATABASE_URL"])
    else:
        env.pop("DATABASE_URL", None)
        counter = ("sqlite", str(tmp_path / "leadrelay.sqlite3"))
    _run(env, "manage", "migrate", "-v0")
    port = _free_port()
    proc = subprocess.Popen(
        [str(LEADRELAY), "serve", "--no-worker", "--port", str(port)],
        env={**env, "LEADRELAY_WEB_WORKERS": "2", "LEADRELAY_WEB_THREADS": "4"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield Server(f"http://127.0.0.1:{port}", proc, env, counter)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if admin_dsn:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _post(url: str, secret: str, key: str, body: bytes) -> int:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Authorization": f"Bearer {secret}",
            "Idempotency-Key": key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0  # connection reset or refused: the worker died under us


def _wait_until_serving(server: Server) -> None:
    for _ in range(600):
        if server.proc.poll() is not None:
            raise AssertionError("leadrelay serve exited")
        try:
            with socket.create_connection(("127.0.0.1", int(server.base.rsplit(":", 1)[1])), 1):
                return
        except OSError:
            threading.Event().wait(0.1)
    raise AssertionError("leadrelay serve did not start")


def _worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        return [int(p) for p in children.read_text().split()]
    except OSError:
        return []


def _count(server: Server) -> tuple[int, int]:
    backend, target = server.count_sql
    sql = "SELECT count(*), count(DISTINCT email) FROM leads_lead"
    if backend == "sqlite":
        with sqlite3.connect(target) as db:
            row = db.execute(sql).fetchone()
    else:
        with psycopg.connect(target) as conn:
            row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_killing_serving_workers_loses_and_doubles_no_lead(server: Server) -> None:
    source = json.loads(
        _run(server.env, "source", "create", "--kind", "api", "--name", "crash", "--json")
    )
    path = source["url"].split("://", 1)[1].split("/", 1)[1]
    url = f"{server.base}/{path}"
    _wait_until_serving(server)

    todo = list(range(LEADS))
    lock = threading.Lock()
    done = threading.Event()
    failures: list[str] = []
    retried = [0]
    kills = [0]

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            body = json.dumps(
                {"name": f"Клиент {n}", "email": f"Client.{n}@Example.RU", "phone": "+7 999 1"}
            ).encode()
            for attempt in range(MAX_TRIES):
                status = _post(url, source["secret"], f"crash-{n}", body)
                if 200 <= status < 300:
                    break
                with lock:
                    retried[0] += 1
                # Back off a little so a respawning worker has a moment.
                threading.Event().wait(0.05 * (attempt + 1))
            else:
                failures.append(f"lead {n} never accepted")

    def killer() -> None:
        rng = random.Random(7)
        while not done.wait(rng.uniform(0.6, 1.4)):
            pids = _worker_pids(server.proc.pid)
            if pids:
                try:
                    os.kill(rng.choice(pids), signal.SIGKILL)
                    kills[0] += 1
                except ProcessLookupError:
                    pass

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    murderer = threading.Thread(target=killer)
    murderer.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    murderer.join()

    assert not failures, failures[:5]
    assert kills[0] >= 2, "the workers were never killed: the test proved nothing"
    assert _count(server) == (LEADS, LEADS)
