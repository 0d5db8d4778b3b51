"""A worker killed with SIGKILL mid-batch loses no message: another one sends the rest.

Real `leadrelay worker` processes against the suite's database (its own SQLite file or
its own PostgreSQL database) and a local receiver that holds each request a moment, so
the kill lands while a batch is in flight. Receivers may see a `webhook-id` twice (sent,
then killed before it was recorded), never lose one, and each cause is queued once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import psycopg
import pytest

from tests.notify.receiver import Receiver

MESSAGES = 300
LEADRELAY = Path(sys.executable).with_name("leadrelay")

SETUP = """
from leadrelay.notify.models import WebhookEndpoint
from leadrelay.leads.transitions import NewLead, create_lead
WebhookEndpoint.objects.create(url={url!r}, secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
for i in range({n}):
    create_lead(NewLead(name=f"Клиент {{i}}", email=f"k{{i}}@example.ru"))
"""
COUNT = (
    "from leadrelay.notify.models import Outbox;"
    "print(Outbox.objects.filter(channel='webhook').count(),"
    " Outbox.objects.filter(channel='webhook', status='delivered').count())"
)


def run(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(LEADRELAY), *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADRELAY_")}
    env["LEADRELAY_DATA_DIR"] = str(tmp_path)
    env["LEADRELAY_WEBHOOK_ALLOW_PRIVATE"] = "1"
    env["LEADRELAY_OUTBOX_LEASE_SECONDS"] = "3"
    url = os.environ.get("DATABASE_URL", "")
    if url:
        dbname = f"lr_killw_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["DATABASE_URL"] = f"{url.rsplit('/', 1)[0]}/{dbname}"
    else:
        env.pop("DATABASE_URL", None)
    run(env, "manage", "migrate", "-v0")
    return env


def test_a_killed_worker_loses_no_message(env: dict[str, str], receiver: Receiver) -> None:
    run(
        env,
        "manage",
        "shell",
        "-v",
        "0",
        "-c",
        SETUP.format(url=receiver.url + "/hook", n=MESSAGES),
    )
    seen: Counter[str] = Counter()
    enough = threading.Event()
    all_seen = threading.Event()
    lock = threading.Lock()
    original = receiver.requests

    class Recorder(list):  # type: ignore[type-arg]
        def append(self, item: object) -> None:
            super().append(item)
            with lock:
                seen[item.headers["webhook-id"]] += 1  # type: ignore[attr-defined]
                if len(seen) >= MESSAGES // 5:
                    enough.set()
                if len(seen) == MESSAGES:
                    all_seen.set()

    receiver.requests = Recorder(original)
    first = subprocess.Popen([str(LEADRELAY), "worker"], env=env, start_new_session=True)
    try:
        assert enough.wait(120), "the first worker sent nothing"
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        with lock:
            at_kill = len(seen)
        assert at_kill < MESSAGES, "the kill came after the first worker had sent everything"
        second = subprocess.Popen([str(LEADRELAY), "worker"], env=env, start_new_session=True)
        try:
            assert all_seen.wait(180), f"only {len(seen)} of {MESSAGES} messages arrived"
            queued, delivered = map(
                int, run(env, "manage", "shell", "-v", "0", "-c", COUNT).split()
            )
            # The lease of a row sent but not recorded runs out; wait for that record too.
            for _ in range(120):
                if delivered == MESSAGES:
                    break
                threading.Event().wait(0.5)
                queued, delivered = map(
                    int, run(env, "manage", "shell", "-v", "0", "-c", COUNT).split()
                )
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(30) == 0  # SIGTERM: a clean stop
    finally:
        if first.poll() is None:
            first.kill()
    assert queued == MESSAGES  # each lead.created queued once
    assert delivered == MESSAGES
    assert set(seen) and len(seen) == MESSAGES
    assert max(seen.values()) <= 2
