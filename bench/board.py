"""Server time of the sales board (``GET /board/``) for a manager with 300 open leads
among N leads.

    LEADRELAY_DATA_DIR=… .venv/bin/python bench/board.py [--leads 1000000] [--requests 200]
    .venv/bin/python bench/board.py --database-url postgres://… …

The issue's shape: a manager with 300 open sales leads (``assigned`` … ``contract``) in a
database of 1,000,000; ``leadrelay demo --leads 1000000`` is loaded first if the database
has no leads. The demo's managers carry however many open leads the generator gave them,
so two boards are timed: the demo manager whose count is closest to ``--open`` (300), as
the demo made it, and a bench manager (user ``bench-board``, created here) given exactly
``--open`` open leads taken from the other managers by an UPDATE of ``manager_id``. That
rewrites the bench database (the leads' histories still name their old manager): use a
database of its own, never one you keep.

Each board is timed as a whole page, with the filters the page offers, as the HTMX
fragment a filter change swaps in and as a column's "Show more"; the head of sales' board
for everyone and for the bench manager, with the load table. Requests go through
``django.test.Client`` (the whole Django stack without a network), after a warm-up; p50
and p95 are over ``--requests`` requests, the query count from one more. The baselines,
measured in the same run: a trivial view behind the same middleware and login and one
``SELECT 1`` round trip. Cases with a p95 over ``--slow-ms`` get their slowest query's plan.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
os.environ["LEADRELAY_ALLOWED_HOSTS"] = "testserver"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="demo leads if empty")
    parser.add_argument("--open", type=int, default=300, help="open leads of the manager")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--data-dir", help="LEADRELAY_DATA_DIR (SQLite)")
    parser.add_argument("--database-url", help="DATABASE_URL (PostgreSQL)")
    parser.add_argument("--slow-ms", type=float, default=50.0)
    parser.add_argument(
        "--grow-to",
        type=int,
        default=0,
        help="copy ended leads until the table holds this many (see grow())",
    )
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:
    if ARGS.data_dir:
        os.environ["LEADRELAY_DATA_DIR"] = ARGS.data_dir
    if ARGS.database_url:
        os.environ["DATABASE_URL"] = ARGS.database_url

# The SDR queue's bench sets Django up and brings the timing helpers and the baseline view.
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from sdr_queue import Result, explain, getter, measure, percentile  # noqa: E402

from leadrelay.accounts.models import User  # noqa: E402
from leadrelay.accounts.roles import Role  # noqa: E402
from leadrelay.catalog.models import Service  # noqa: E402
from leadrelay.demo import has_leads, load_demo  # noqa: E402
from leadrelay.leads.models import Lead  # noqa: E402
from leadrelay.leads.statuses import ENDS  # noqa: E402
from leadrelay.web.board_views import COLUMNS  # noqa: E402

BENCH_MANAGER = "bench-board"
# What a timed call that is not an HTTP request gives measure(), which reads a status.
NO_HTTP = SimpleNamespace(status_code=0)
# A column's "Show more" link in a board page.
MORE = re.compile(r'hx-get="/board/\?([^"]*column=[^"]+)"')


def open_counts() -> dict[int, int]:
    """Open sales leads per manager."""
    rows = (
        Lead.objects.filter(status__in=COLUMNS, manager__isnull=False)
        .order_by()
        .values_list("manager_id")
        .annotate(n=Count("id"))
    )
    return dict(rows.values_list("manager_id", "n"))


def grow(target: int) -> int:
    """Copy ended leads (closed, with no open work) until the table holds ``target``.

    For a machine where the demo loader would take hours: load a smaller demo, then grow
    it. The board reads open leads through the index ``lead_manager_status`` and the
    month's ends by status; the copies are what the million adds, the closed history.
    Returns the number of rows added.
    """
    have = Lead.objects.count()
    if have >= target:
        return 0
    table = connection.ops.quote_name(Lead._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(f.column) for f in Lead._meta.concrete_fields if f.column != "id"
    )
    ended = [s.value for s in ENDS]
    marks = ", ".join(["%s"] * len(ended))
    added = 0
    while have + added < target:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {table} "
                f"WHERE status IN ({marks}) ORDER BY id LIMIT %s",
                [*ended, min(target - have - added, 200_000)],
            )
            if cur.rowcount <= 0:
                break
            added += cur.rowcount
        print(f"  grown to {have + added:,} leads", file=sys.stderr, flush=True)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return added


def bench_manager(target: int, department_id: int | None) -> tuple[User, str]:
    """The bench's own manager with exactly ``target`` open leads: taken from the other
    managers (the most loaded first) or given back to them, by UPDATE."""
    user, _ = User.objects.get_or_create(
        username=BENCH_MANAGER,
        defaults={"role": Role.SALES, "first_name": "Bench", "last_name": "Board"},
    )
    # In the head's department, so the head's picker offers this manager too.
    User.objects.filter(pk=user.pk).update(department_id=department_id)
    mine = Lead.objects.filter(status__in=COLUMNS, manager=user)
    have = mine.count()
    with transaction.atomic():
        if have < target:
            counts = open_counts()
            donors = sorted((n, pk) for pk, n in counts.items() if pk != user.pk)
            donor = donors[-1][1] if donors else None
            others = Lead.objects.filter(status__in=COLUMNS, manager_id=donor).order_by("id")
            ids = list(others.values_list("id", flat=True)[: target - have])
            Lead.objects.filter(pk__in=ids).update(manager=user)
            how = f"took {len(ids)} open leads of manager #{donor}"
        elif have > target:
            donor_user = User.objects.filter(role=Role.SALES).exclude(pk=user.pk).first()
            ids = list(mine.order_by("-id").values_list("id", flat=True)[: have - target])
            Lead.objects.filter(pk__in=ids).update(manager=donor_user)
            how = f"gave {len(ids)} back"
        else:
            how = "already had them"
    return user, how


def report_slow(result: Result) -> None:
    """Where a slow case's time went: SQL (its slowest query, with the plan for the
    parameters the view bound) or the rest (rendering)."""
    queries = [q for q in result.sql if q.get("time")]
    sql_ms = 1000 * sum(float(q["time"]) for q in queries)
    print(f"\nSlow: {result.name} as {result.who}: p95 {result.p95:.1f} ms, SQL {sql_ms:.1f} ms")
    if sql_ms < 0.3 * result.p50:
        print("  Mostly outside SQL: building and rendering the cards.")
        return
    slowest = max(queries, key=lambda q: float(q["time"]))
    plan = explain(slowest["sql"], slowest["params"]).replace("\n", "\n    ")
    print(f"  {float(slowest['time']) * 1000:.1f} ms: {slowest['sql']}\n  {slowest['params']}")
    print(f"  Plan:\n    {plan}")


def main() -> int:
    assert ARGS is not None
    call_command("migrate", interactive=False, verbosity=0)
    if not has_leads():
        print(f"Loading {ARGS.leads:,} demo leads…", file=sys.stderr, flush=True)
        load_demo(ARGS.leads, 1, True)
    grown = grow(ARGS.grow_to) if ARGS.grow_to else 0
    total = Lead.objects.count()
    head = User.objects.filter(role=Role.HEAD_SALES, is_active=True).order_by("id").first()
    constructed, how = bench_manager(ARGS.open, head.department_id if head else None)
    counts = open_counts()
    demo = [(abs(n - ARGS.open), pk) for pk, n in counts.items() if pk != constructed.pk]
    if not demo or head is None:
        print("The database has no demo managers with open leads, or no head.", file=sys.stderr)
        return 2
    closest = User.objects.get(pk=min(demo)[1])
    seo = Service.objects.filter(code="seo").values_list("pk", flat=True).first()

    results: list[Result] = []
    slow: list[Result] = []

    cpu: dict[int, tuple[float, float]] = {}

    def timed(name: str, who: str, call: Callable[[], Any]) -> Result:
        """``measure`` the call, also taking the CPU time of each timed request: on a
        machine shared with other work, wall time counts the waits for a core too."""
        spent: list[float] = []

        def counted() -> Any:
            started = time.process_time()
            try:
                return call()
            finally:
                spent.append(time.process_time() - started)

        result = measure(name, who, counted, n, warmup)
        mine = spent[warmup : warmup + n]
        cpu[id(result)] = (statistics.median(mine) * 1000, percentile(mine, 0.95) * 1000)
        return result

    def record(result: Result) -> None:
        results.append(result)
        cpu50, cpu95 = cpu.get(id(result), (0.0, 0.0))
        print(
            f"  {result.name:<42} {result.who:<22} {result.status} {result.p50:7.1f} ms "
            f"{result.p95:7.1f} ms (CPU {cpu50:5.1f} / {cpu95:5.1f}) {result.queries:>3} q",
            file=sys.stderr,
            flush=True,
        )
        if result.p95 > ARGS.slow_ms:
            slow.append(result)

    n, warmup = ARGS.requests, ARGS.warmup
    boards = {
        f"{closest.username} ({counts.get(closest.pk, 0)} open)": closest,
        f"{constructed.username} ({counts.get(constructed.pk, 0)} open)": constructed,
    }
    filters = {
        "none": {},
        "service=seo": {"service": seo},
        "deadline=soon": {"deadline": "soon"},
        "deadline=overdue": {"deadline": "overdue"},
        "q=ООО": {"q": "ООО"},
    }
    with override_settings(ROOT_URLCONF="sdr_queue"):
        with connection.cursor() as cur:

            def select_one() -> Any:
                cur.execute("SELECT 1")
                cur.fetchone()
                return NO_HTTP

            record(timed("baseline: SELECT 1 round trip", "-", select_one))
        web = Client()
        web.force_login(closest)
        record(timed("baseline: trivial view /bench-ping/", "-", getter(web, "/bench-ping/")))

        for who, user in boards.items():
            web = Client()
            web.force_login(user)
            for label, params in filters.items():
                query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
                url = f"/board/?{query}" if query else "/board/"
                record(timed(f"page     {label}", who, getter(web, url)))
            fragment = getter(web, "/board/?deadline=soon", "board")
            record(timed("fragment deadline=soon (HTMX)", who, fragment))
            found = MORE.search(web.get("/board/").content.decode())
            if found is not None:
                query = found.group(1).replace("&amp;", "&")
                column = re.search(r"column=(\w+)", query)
                more = getter(web, f"/board/?{query}", f"more-{column.group(1) if column else ''}")
                record(timed("show more (HTMX)", who, more))

        web = Client()
        web.force_login(head)
        who = f"{head.username} (head)"
        record(timed("page     everyone", who, getter(web, "/board/")))
        one = getter(web, f"/board/?manager={constructed.pk}")
        record(timed(f"page     manager={constructed.username}", who, one))

    engine = connection.vendor
    open_total = sum(counts.values())
    print(
        f"\nThe sales board on {engine}: {total:,} leads, {open_total:,} open on the sales side "
        f"among {len(counts)} managers; {n} requests each after {warmup} warm-up"
    )
    if grown:
        print(f"({grown:,} of the leads are copies of the demo's ended leads: --grow-to.)")
    print(
        f"Closest demo manager: {closest.username}, {counts.get(closest.pk, 0)} open; "
        f"bench manager {constructed.username}: {counts.get(constructed.pk, 0)} open ({how})."
    )
    load = os.getloadavg()[0]
    print(f"({time.strftime('%Y-%m-%d %H:%M')}; load average {load:.1f}, {os.cpu_count()} cores)\n")
    header = (
        f"{'case':<42} {'user':<22} {'HTTP':>4} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'CPU p50':>8} {'CPU p95':>8} {'queries':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        status = str(r.status) if r.status else "-"
        cpu50, cpu95 = cpu.get(id(r), (0.0, 0.0))
        print(
            f"{r.name:<42} {r.who:<22} {status:>4} {r.p50:>8.2f} {r.p95:>8.2f} "
            f"{cpu50:>8.2f} {cpu95:>8.2f} {r.queries:>8}"
        )
    pages = [r for r in results if not r.name.startswith("baseline")]
    if pages:
        worst = max(pages, key=lambda r: r.p95)
        counts_seen = sorted({r.queries for r in pages})
        print(
            f"\nWorst p95: {worst.p95:.1f} ms ({worst.name.strip()}, {worst.who}); goal under "
            f"50 ms. Queries per request: {', '.join(map(str, counts_seen))}."
        )
    for result in slow:
        report_slow(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
