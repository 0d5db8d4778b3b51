"""Assignment decisions per second for a burst of MQLs, per strategy.

    .venv/bin/python bench/assignment.py [--mqls 10000] [--managers 20]
    .venv/bin/python bench/assignment.py --database-url postgres://postgres@127.0.0.1:5432/bench_assign

Works on a scratch database: by default a new SQLite file in a temporary folder; with
``--database-url`` a PostgreSQL database, created if missing and dropped afterwards if
this run created it. For each strategy (round-robin, weighted, least loaded) a burst of
``--mqls`` MQLs is written with the bulk writer and put straight into
``awaiting_assignment`` (the path there is not what is measured), then ``assign_next``
runs until the queue is empty, as the worker would. Every decision is a real
assignment: the move to ``assigned`` with its hooks (SLA clocks, webhooks), the
Assignment row, its event and the manager's notification. A rule by service and a
manager away and one with a language restriction keep the engine honest.

The baseline, in the same run: ``--baseline`` MQLs given one by one with a plain
``move_lead`` by the head of sales (each its own transaction, the same hooks and record),
which is what a head clicking through the queue, or a script over the API, costs.
Between runs the assigned leads are closed (written directly), so every run starts with
the same empty load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from urllib.parse import urlparse, urlunparse


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--mqls", type=int, default=10_000)
    parser.add_argument("--managers", type=int, default=20)
    parser.add_argument("--batch", type=int, default=200, help="assign_next's limit")
    parser.add_argument("--baseline", type=int, default=2_000, help="MQLs for move_lead")
    parser.add_argument("--database-url", help="a scratch PostgreSQL database")
    parser.add_argument(
        "--strategies",
        default="round_robin,weighted,least_loaded",
        help="comma-separated strategies to run",
    )
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
CREATED_PG = False
SCRATCH = ""
if ARGS is not None:
    if ARGS.database_url:
        import psycopg

        url = urlparse(ARGS.database_url)
        name = url.path.lstrip("/")
        admin = urlunparse(url._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as pg:
            if pg.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                print(f"{name} exists: give a database this run may create.", file=sys.stderr)
                sys.exit(2)
            pg.execute(f'CREATE DATABASE "{name}"')
        CREATED_PG = True
        os.environ["DATABASE_URL"] = ARGS.database_url
    else:
        SCRATCH = tempfile.mkdtemp(prefix="bench-assign-")
        os.environ["LEADRELAY_DATA_DIR"] = SCRATCH
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")

import django  # noqa: E402

django.setup()

from datetime import timedelta  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from leadrelay.accounts.models import User  # noqa: E402
from leadrelay.accounts.roles import Role  # noqa: E402
from leadrelay.catalog.models import Service  # noqa: E402
from leadrelay.leads.models import Lead  # noqa: E402
from leadrelay.leads.statuses import Status  # noqa: E402
from leadrelay.leads.transitions import (  # noqa: E402
    MoveOptions,
    NewLead,
    create_leads_bulk,
    move_lead,
)
from leadrelay.sales.engine import assign_next  # noqa: E402
from leadrelay.sales.models import (  # noqa: E402
    Absence,
    AssignmentRule,
    AssignmentSettings,
    ManagerProfile,
)


def team(n: int) -> tuple[list[User], User]:
    """``n`` managers with weights 1-3, one away, one English-only; and a head."""
    now = timezone.now()
    people = [
        User.objects.create_user(f"bench-m{i}", password=None, role=Role.SALES) for i in range(n)
    ]
    for i, person in enumerate(people):
        ManagerProfile.objects.create(
            user=person, weight=1 + i % 3, languages=["en"] if i == 1 else []
        )
    Absence.objects.create(
        user=people[0], starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=7)
    )
    rule = AssignmentRule.objects.create(
        name="bench: the last service", service=Service.objects.order_by("-pk").first()
    )
    rule.managers.set(people[-3:])
    head = User.objects.create_user("bench-head", password=None, role=Role.HEAD_SALES)
    return people, head


def burst(n: int) -> list[Lead]:
    """``n`` MQLs waiting, oldest first, over the services, Russian and English."""
    services = list(Service.objects.all())
    now = timezone.now()
    items = [
        NewLead(
            name=("Ирина Петрова" if i % 4 else "John Smith"),
            company=f"Company {i}",
            service=services[i % len(services)] if services else None,
            received_at=now - timedelta(seconds=n - i),
        )
        for i in range(n)
    ]
    leads = create_leads_bulk(items, now=now)
    for start in range(0, n, 5000):
        ids = [lead.pk for lead in leads[start : start + 5000]]
        Lead.objects.filter(pk__in=ids).update(status=Status.AWAITING_ASSIGNMENT, version=2)
    return leads


def close_all() -> None:
    """The assigned leads leave the open load (a bench shortcut, no events)."""
    Lead.objects.filter(status=Status.ASSIGNED).update(status=Status.CONVERTED)


@dataclass(frozen=True)
class Rate:
    """Leads given per second of wall time, and per second of this process's CPU (on a
    shared, busy machine the second moves less than the first)."""

    leads: int
    seconds: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.leads / self.seconds:>10,.0f} {self.leads / max(self.cpu, 1e-9):>10,.0f}"


def run_engine(strategy: str, n: int, batch: int) -> tuple[Rate, int, float]:
    AssignmentSettings.objects.update_or_create(
        pk=1,
        defaults={"mode": "auto", "strategy": strategy, "default_cap": 1_000_000, "credits": {}},
    )
    burst(n)
    connection.queries_log.clear()  # the log keeps 9,000 at most: count from empty
    start, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as one:
        first = assign_next(limit=batch)
    done = first
    while (count := assign_next(limit=batch)) > 0:
        done += count
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    left = Lead.objects.filter(status=Status.AWAITING_ASSIGNMENT).count()
    close_all()
    return Rate(done, seconds, cpu), left, len(one) / max(first, 1)


def run_baseline(head: User, managers: list[User], n: int) -> Rate:
    leads = burst(n)
    start, cpu = time.perf_counter(), time.process_time()
    for i, lead in enumerate(leads):
        move_lead(
            head,
            lead.pk,
            Status.ASSIGNED,
            version=2,
            options=MoveOptions(manager=managers[i % len(managers)]),
        )
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    close_all()
    return Rate(n, seconds, cpu)


def main() -> int:
    assert ARGS is not None
    call_command("migrate", interactive=False, verbosity=0)
    managers, head = team(ARGS.managers)
    vendor = connection.vendor
    print(
        f"{vendor}: {ARGS.mqls:,} MQLs per run, {ARGS.managers} managers, batches of {ARGS.batch}",
        flush=True,
    )
    print(f"{'run':<28} {'per s wall':>10} {'per s CPU':>10} {'queries/lead':>13} {'left':>6}")
    for strategy in ARGS.strategies.split(","):
        rate, left, queries = run_engine(strategy, ARGS.mqls, ARGS.batch)
        print(f"{'assign_next ' + strategy:<28} {rate} {queries:>13.1f} {left:>6}", flush=True)
    n = ARGS.baseline
    rate = run_baseline(head, managers, n)
    print(f"{'baseline: move_lead ×' + format(n, ','):<28} {rate} {'':>13} {0:>6}")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        if SCRATCH:
            connections.close_all()
            shutil.rmtree(SCRATCH, ignore_errors=True)
        if CREATED_PG and ARGS is not None:
            connections.close_all()
            import psycopg

            url = urlparse(ARGS.database_url)
            admin = urlunparse(url._replace(path="/postgres"))
            with psycopg.connect(admin, autocommit=True) as pg:
                pg.execute(f'DROP DATABASE IF EXISTS "{url.path.lstrip("/")}" WITH (FORCE)')
    sys.exit(code)
