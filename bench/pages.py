"""Server time of the lead list and lead pages, web and API, on a database of N leads.

    LEADRELAY_DATA_DIR=… .venv/bin/python bench/pages.py [--leads 1000000] [--requests 200]
    DATABASE_URL=postgres://… .venv/bin/python bench/pages.py …

Requests go through ``django.test.Client``: the whole Django stack (middleware, session,
view, queries, template or JSON) without a network or a server process, so the figure
is the server's own time per request. Each endpoint is warmed up, then requested
``--requests`` times; p50/p95 are over those, and the SQL query count is taken from one
more request. The baselines, measured in the same run: a trivial view behind the same
middleware and login (``/bench-ping/``) and one ``SELECT 1`` round trip.

If the database has no leads, ``--leads`` demo leads are loaded first. Endpoints with a
p95 over ``--slow-ms`` get the plan of their slowest query printed (EXPLAIN).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
os.environ["LEADRELAY_ALLOWED_HOSTS"] = "testserver"


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000, help="demo leads if empty")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--data-dir", help="LEADRELAY_DATA_DIR (SQLite)")
    parser.add_argument("--database-url", help="DATABASE_URL (PostgreSQL)")
    parser.add_argument("--slow-ms", type=float, default=50.0)
    parser.add_argument("--seed", type=int, default=1)
    return parser.parse_args()


ARGS = _parse() if __name__ == "__main__" else None
if ARGS is not None:
    if ARGS.data_dir:
        os.environ["LEADRELAY_DATA_DIR"] = ARGS.data_dir
    if ARGS.database_url:
        os.environ["DATABASE_URL"] = ARGS.database_url

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import include, path  # noqa: E402

from leadrelay.accounts.models import ApiToken, User  # noqa: E402
from leadrelay.accounts.roles import Role  # noqa: E402
from leadrelay.demo import has_leads, load_demo  # noqa: E402
from leadrelay.leads.models import Lead  # noqa: E402
from leadrelay.leads.queries import visible_leads  # noqa: E402


def ping(request: HttpRequest) -> HttpResponse:
    """The baseline: nothing but the middleware stack, the session and the login."""
    return HttpResponse("ok" if request.user.is_authenticated else "anonymous")


# The app's URLs plus the baseline view, so both run behind the same middleware.
urlpatterns = [path("bench-ping/", ping), path("", include("leadrelay.urls"))]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Result:
    def __init__(
        self, name: str, who: str, status: int, times: list[float], sql: list[dict[str, Any]]
    ) -> None:
        self.name = name
        self.who = who
        self.status = status
        self.p50 = statistics.median(times) * 1000
        self.p95 = percentile(times, 0.95) * 1000
        self.sql = sql  # the queries of one request, with their times
        self.queries = len(sql)


def measure(name: str, who: str, call: Callable[[int], Any], n: int, warmup: int) -> Result:
    status = 0
    for i in range(warmup):
        status = call(i).status_code
    times = []
    for i in range(n):
        started = time.perf_counter()
        response = call(i)
        times.append(time.perf_counter() - started)
        status = response.status_code
    with CaptureQueriesContext(connection) as captured:
        call(n)
    # Copied now: the context only points into the connection's shared query log.
    return Result(name, who, status, times, list(captured.captured_queries))


def fixed(client: Client, url: str) -> Callable[[int], Any]:
    return lambda i: client.get(url)


def each(client: Client, pattern: str, ids: list[int]) -> Callable[[int], Any]:
    return lambda i: client.get(pattern.format(ids[i % len(ids)]))


def explain(sql: str) -> str:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(row[0] for row in cur.fetchall())
        cur.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in cur.fetchall())


def main() -> int:
    assert ARGS is not None
    call_command("migrate", interactive=False, verbosity=0)
    if not has_leads():
        print(f"Loading {ARGS.leads:,} demo leads…", file=sys.stderr, flush=True)
        load_demo(ARGS.leads, 1, True)
    total = Lead.objects.count()
    rng = random.Random(ARGS.seed)

    head_sales = User.objects.filter(role=Role.HEAD_SALES, is_active=True).order_by("id").first()
    sdr = User.objects.filter(role=Role.SDR, is_active=True).order_by("id").first()
    manager = User.objects.filter(role=Role.SALES, is_active=True).order_by("id").first()
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    created_admin = admin is None
    if admin is None:
        admin = User.objects.create_user("bench_admin", "", None, role=Role.ADMIN)
    if head_sales is None or sdr is None or manager is None:
        print("The database has no demo users (head_sales, an SDR, a manager).", file=sys.stderr)
        return 2
    users = {"head_sales": head_sales, "sdr": sdr, "admin": admin}
    filters = {
        "none": "",
        "status=awaiting_assignment": "status=awaiting_assignment",
        f"sdr={sdr.pk}": f"sdr={sdr.pk}",
        f"manager={manager.pk}": f"manager={manager.pk}",
    }

    results: list[Result] = []
    slow: list[Result] = []
    tokens: list[ApiToken] = []

    def record(result: Result) -> None:
        results.append(result)
        print(
            f"  {result.name:<44} {result.who:<11} {result.status} {result.p50:7.1f} ms "
            f"{result.p95:7.1f} ms {result.queries} q",
            file=sys.stderr,
            flush=True,
        )
        if result.p95 > ARGS.slow_ms:
            slow.append(result)

    n, warmup = ARGS.requests, ARGS.warmup
    with override_settings(ROOT_URLCONF=__name__):
        # Baselines first.
        with connection.cursor() as cur:
            for _ in range(warmup):
                cur.execute("SELECT 1")
            times = []
            for _ in range(n):
                started = time.perf_counter()
                cur.execute("SELECT 1")
                cur.fetchone()
                times.append(time.perf_counter() - started)
        results.append(Result("baseline: SELECT 1 round trip", "-", 0, times, [{}]))
        web = Client()
        web.force_login(head_sales)
        ping_view = fixed(web, "/bench-ping/")
        record(measure("baseline: trivial view /bench-ping/", "head_sales", ping_view, n, warmup))

        for who, user in users.items():
            web = Client()
            web.force_login(user)
            token, raw = ApiToken.issue(user, name="bench/pages.py")
            tokens.append(token)
            api = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
            # Lead pages: a spread of recent leads this user may open.
            recent = list(visible_leads(user).order_by("-id").values_list("id", flat=True)[:20000])
            ids = rng.sample(recent, min(len(recent), n + warmup + 1)) or [0]
            for label, query in filters.items():
                url = "/leads/" + (f"?{query}" if query else "")
                record(measure(f"web  /leads/ {label}", who, fixed(web, url), n, warmup))
            record(measure("web  /leads/<id>/", who, each(web, "/leads/{}/", ids), n, warmup))
            for label, query in filters.items():
                url = "/api/v1/leads" + (f"?{query}" if query else "")
                record(measure(f"api  /api/v1/leads {label}", who, fixed(api, url), n, warmup))
            detail = each(api, "/api/v1/leads/{}", ids)
            record(measure("api  /api/v1/leads/<id>", who, detail, n, warmup))

    for token in tokens:
        token.delete()
    if created_admin:
        admin.delete()

    engine = connection.vendor
    print(f"\nLead pages on {engine}, {total:,} leads, {n} requests each after {warmup} warm-up")
    load = os.getloadavg()[0]
    print(f"({time.strftime('%Y-%m-%d %H:%M')}; load average {load:.1f}, {os.cpu_count()} cores)\n")
    header = f"{'endpoint':<46} {'user':<11} {'HTTP':>4} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        status = str(r.status) if r.status else "-"
        print(f"{r.name:<46} {r.who:<11} {status:>4} {r.p50:>8.2f} {r.p95:>8.2f} {r.queries:>8}")
    missing = sorted({r.name for r in results if r.status == 404})
    if missing:
        print("\n404: these pages do not exist yet; rerun when they do: " + ", ".join(missing))
    for result in slow:
        timed = [q for q in result.sql if q.get("time")]
        sql_ms = sum(float(q["time"]) for q in timed) * 1000
        # Django records query times to the millisecond: 0 means under 1 ms each.
        shown = f"{sql_ms:.0f} ms" if sql_ms else f"< {result.queries} ms"
        print(
            f"\nSlow: {result.name} as {result.who}: p95 {result.p95:.1f} ms, of which SQL "
            f"{shown} in {result.queries} queries (one request)"
        )
        if not timed or sql_ms < 0.3 * result.p50:
            print("  The time is outside SQL: template rendering / serialisation.")
            continue
        worst = max(timed, key=lambda q: float(q["time"]))
        print(f"  Slowest query {float(worst['time']) * 1000:.1f} ms:\n  {worst['sql']}")
        print("  Plan:\n    " + explain(worst["sql"]).replace("\n", "\n    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
