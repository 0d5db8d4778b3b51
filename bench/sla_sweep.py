"""The SLA worker at scale: sweep cost against closed leads, deadline-to-breach latency,
and notifications delivered per second by one worker.

    LEADRELAY_DATA_DIR=… .venv/bin/python bench/sla_sweep.py [--open 100000] [--closed 1000000]
    DATABASE_URL=postgres://… .venv/bin/python bench/sla_sweep.py …

1. Sweep cost: the median time of an idle ``sla.tasks.sweep`` (nothing due) with no clocks,
   then with ``--open`` running clocks (due later) and ``--closed`` stopped ones, next to
   a ``SELECT 1`` round trip measured in the same run. The sweep reads only the partial
   index of running clocks, so the closed ones must not move the figure.
2. Deadline to breach: ``--due`` running clocks fall due two seconds from now while a real
   ``leadrelay worker`` runs; the figure is ``breach.detected_at - clock.due_at``.
3. Delivery rate: ``--messages`` webhook rows to a local receiver on 127.0.0.1, sent by
   ``notify.outbox.deliver_due`` in a loop (one worker), next to the same number of bare
   signed POSTs from 8 threads (the baseline).

The clocks are written with raw INSERTs onto existing leads (the demo loads leads first
if there are fewer than needed); the bench's rows are removed again at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--open", type=int, default=100_000)
parser.add_argument("--closed", type=int, default=1_000_000)
parser.add_argument("--due", type=int, default=500)
parser.add_argument("--messages", type=int, default=3000)
parser.add_argument("--sweeps", type=int, default=200)
parser.add_argument("--data-dir")
parser.add_argument("--database-url")
ARGS = parser.parse_args()
if ARGS.data_dir:
    os.environ["LEADRELAY_DATA_DIR"] = ARGS.data_dir
if ARGS.database_url:
    os.environ["DATABASE_URL"] = ARGS.database_url
os.environ["LEADRELAY_WEBHOOK_ALLOW_PRIVATE"] = "1"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from leadrelay.demo import load_demo  # noqa: E402
from leadrelay.leads.models import Lead  # noqa: E402
from leadrelay.notify import channels, outbox  # noqa: E402
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint  # noqa: E402
from leadrelay.sla.models import WEEKDAYS, Breach, Calendar, Clock, ClockKind, Policy  # noqa: E402
from leadrelay.sla.tasks import sweep  # noqa: E402

TAG = "bench-sla"
FIRST_NOTE = FIRST_OUT = 2**62  # rows above these ids are the bench's, once it has begun
LEADRELAY = Path(sys.executable).with_name("leadrelay")


def median_ms(call: Any, n: int) -> float:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def select_one() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def bench_calendar() -> Calendar:
    """Round the clock, so the bench's deadlines fall due whatever time it runs."""
    day = [["00:00", "23:59"]]
    return Calendar.objects.get_or_create(
        name=TAG, defaults={"country": "", "hours": {d: day for d in WEEKDAYS}}
    )[0]


def insert_clocks(lead_ids: list[int], *, running: bool, due: datetime) -> None:
    policy = Policy.objects.filter(kind=ClockKind.FIRST_CONTACT).first()
    assert policy is not None
    calendar = bench_calendar()
    q = connection.ops.quote_name
    cols = [
        "lead_id", "policy_id", "kind", "started_at", "due_at", "outcome",
        "next_step", "next_check_at", "stopped_at", "working_seconds", "calendar_seconds",
        "calendar_id",
    ]  # fmt: skip
    sql = (
        f"INSERT INTO {q('sla_clock')} ({', '.join(q(c) for c in cols)}) "
        f"VALUES ({', '.join(['%s'] * len(cols))})"
    )
    started = due - timedelta(minutes=30)
    rows = [
        (
            lead_id, policy.pk, TAG, started, due,
            "running" if running else "met",
            0 if running else 3,
            due if running else None,
            None if running else started + timedelta(minutes=12),
            None if running else 720,
            None if running else 720,
            calendar.pk,
        )
        for lead_id in lead_ids
    ]  # fmt: skip
    for i in range(0, len(rows), 20_000):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows[i : i + 20_000])


def cleanup() -> None:
    with transaction.atomic():
        Breach.objects.filter(clock__kind=TAG).delete()
        Clock.objects.filter(kind=TAG).delete()
        Outbox.objects.filter(event=TAG).delete()
        WebhookEndpoint.objects.filter(description=TAG).delete()
        Calendar.objects.filter(name=TAG).delete()
        # What the bench's breaches told people (and the mail queued for it).
        Notification.objects.filter(pk__gt=FIRST_NOTE).delete()
        Outbox.objects.filter(pk__gt=FIRST_OUT).delete()


class Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SinkServer(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True


def main() -> int:
    call_command("migrate", verbosity=0)
    need = ARGS.open + ARGS.closed + ARGS.due
    have = Lead.objects.count()
    if have < need:
        print(f"loading {need - have:,} demo leads…", file=sys.stderr)
        load_demo(need - have, 1, have > 0)
    cleanup()
    global FIRST_NOTE, FIRST_OUT
    FIRST_NOTE = (Notification.objects.order_by("-pk").values_list("pk", flat=True).first()) or 0
    FIRST_OUT = (Outbox.objects.order_by("-pk").values_list("pk", flat=True).first()) or 0
    ids = list(Lead.objects.order_by("pk").values_list("pk", flat=True)[:need])
    far = datetime.now(UTC) + timedelta(days=365)
    engine = connection.vendor
    print(
        f"SLA worker on {engine}, {Lead.objects.count():,} leads, {datetime.now():%Y-%m-%d %H:%M}"
    )
    print(f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores\n")

    base = median_ms(select_one, ARGS.sweeps)
    empty = median_ms(lambda: sweep(now=datetime.now(UTC)), ARGS.sweeps)
    t = time.perf_counter()
    insert_clocks(ids[: ARGS.closed], running=False, due=far - timedelta(days=400))
    insert_clocks(ids[ARGS.closed : ARGS.closed + ARGS.open], running=True, due=far)
    loaded = time.perf_counter() - t
    full = median_ms(lambda: sweep(now=datetime.now(UTC)), ARGS.sweeps)
    print("1. idle sweep (nothing due), median of", ARGS.sweeps)
    print(f"   baseline SELECT 1 round trip              {base:8.3f} ms")
    print(f"   sweep, no clocks of the bench             {empty:8.3f} ms")
    print(
        f"   sweep, {ARGS.open:,} running + {ARGS.closed:,} closed   {full:8.3f} ms"
        f"   (clocks written in {loaded:.1f} s)"
    )

    # 2. Deadline to breach with a real worker process.
    due_at = datetime.now(UTC) + timedelta(seconds=2)
    insert_clocks(ids[ARGS.closed + ARGS.open : need], running=True, due=due_at)
    Clock.objects.filter(kind=TAG, due_at=due_at).update(next_step=1)  # the 100 % step next
    worker = subprocess.Popen(
        [str(LEADRELAY), "worker"], env=os.environ.copy(), stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if Breach.objects.filter(clock__kind=TAG).count() >= ARGS.due:
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(30)
    lags = [
        (b.detected_at - b.due_at).total_seconds()
        for b in Breach.objects.filter(clock__kind=TAG).only("detected_at", "due_at")
    ]
    print(f"\n2. deadline to breach recorded, {len(lags)} of {ARGS.due} clocks due at once")
    if lags:
        print(
            f"   median {statistics.median(lags):.2f} s, max {max(lags):.2f} s   (goal: under 5 s)"
        )

    # 3. Delivery rate to a local receiver. The e-mails the breaches above queued are
    # dropped first, so only the bench's webhook messages are timed.
    Outbox.objects.filter(pk__gt=FIRST_OUT).delete()
    server = SinkServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    secret = channels.new_webhook_secret()
    body = b'{"type":"bench","data":{}}'

    def bare(i: int) -> None:
        channels.post_webhook(
            url, secret, f"msg_b{i}", body, timestamp=int(time.time()),
            require_https=False, allow_private=True,
        )  # fmt: skip

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=outbox.SENDERS) as pool:
        list(pool.map(bare, range(ARGS.messages)))
    bare_rate = ARGS.messages / (time.perf_counter() - t)

    endpoint = WebhookEndpoint.objects.create(url=url, secret=secret, description=TAG)
    now = datetime.now(UTC)
    Outbox.objects.bulk_create(
        [
            Outbox(
                channel=Outbox.Channel.WEBHOOK, endpoint=endpoint, event=TAG,
                payload={"type": TAG, "data": {"n": i}}, dedup_key=f"{TAG}:{i}",
                created_at=now, next_attempt_at=now,
            )
            for i in range(ARGS.messages)
        ],
        batch_size=1000,
    )  # fmt: skip
    t = time.perf_counter()
    while outbox.deliver_due():
        pass
    rate = ARGS.messages / (time.perf_counter() - t)
    delivered = Outbox.objects.filter(event=TAG, status="delivered").count()
    server.shutdown()
    print(f"\n3. webhook messages to a local receiver, {ARGS.messages:,} messages")
    print(f"   baseline: bare signed POSTs, {outbox.SENDERS} threads   {bare_rate:8.0f} /s")
    print(
        f"   one worker, claim + send + record            {rate:8.0f} /s  ({delivered:,} delivered)"
    )
    cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
