"""Server time of the SDR's incoming queue (``GET /incoming/``) on a database of N leads.

    LEADRELAY_DATA_DIR=… .venv/bin/python bench/sdr_queue.py [--leads 1000000] [--requests 200]
    .venv/bin/python bench/sdr_queue.py --database-url postgres://… …

The issue's shape: 1,000,000 leads of which ~5,000 are open on the SDR side (``new`` or
``sdr_processing``); ``leadrelay demo --leads 1000000`` makes exactly that, and is loaded
first if the database has no leads. The queue is timed for an SDR, the lead SDR (who
also sees the team's claimed requests) and the head of marketing, unfiltered and with
each filter the page offers (source, service, channel, owner), as a whole page, as the
HTMX fragment a filter change swaps in, and as the "Show more" page that follows.

Requests go through ``django.test.Client``: the whole Django stack (middleware, session,
view, queries, template) without a network, so the figure is the server's own time.
Each case is warmed up, then requested ``--requests`` times; p50/p95 are over those, and
the SQL query count is taken from one more request. The baselines, measured in the same
run: a trivial view behind the same middleware and login (``/bench-ping/``) and one
``SELECT 1`` round trip. Cases with a p95 over ``--slow-ms`` (the goal: 50 ms) get the
plan of their slowest query printed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

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
from django.urls import include, path, reverse  # noqa: E402

from leadrelay.accounts.models import Team, User  # noqa: E402
from leadrelay.accounts.roles import Role  # noqa: E402
from leadrelay.catalog.models import Service, Source  # noqa: E402
from leadrelay.demo import has_leads, load_demo  # noqa: E402
from leadrelay.leads.models import Lead  # noqa: E402
from leadrelay.leads.queries import SDR_INCOMING  # noqa: E402
from leadrelay.qualify.queue import incoming  # noqa: E402


def ping(request: HttpRequest) -> HttpResponse:
    """The baseline: nothing but the middleware stack, the session and the login."""
    return HttpResponse("ok" if request.user.is_authenticated else "anonymous")


# The app's URLs plus the baseline view, so both run behind the same middleware.
urlpatterns = [path("bench-ping/", ping), path("", include("leadrelay.urls"))]

# The "Show more" link's query string in a queue page.
NEXT_PAGE = re.compile(r'rel="next" href="[^"?]*\?([^"]+)"')


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Result:
    def __init__(
        self,
        name: str,
        who: str,
        status: int,
        times: list[float],
        sql: list[dict[str, Any]],
        rows: int | None = None,
    ) -> None:
        self.name = name
        self.who = who
        self.status = status
        self.p50 = statistics.median(times) * 1000
        self.p95 = percentile(times, 0.95) * 1000
        self.sql = sql  # the queries of one request, with their times
        self.queries = len(sql)
        self.rows = rows  # the requests the user's queue holds with this filter


def measure(name: str, who: str, call: Callable[[], Any], n: int, warmup: int) -> Result:
    status = 0
    for _ in range(warmup):
        status = call().status_code
    times = []
    for _ in range(n):
        started = time.perf_counter()
        response = call()
        times.append(time.perf_counter() - started)
        status = response.status_code
    # The queries of one more request, with their parameters: a plan must be asked for
    # with the values bound as the view binds them (SQLite plans differently for a
    # literal, e.g. it can use a partial index then).
    captured: list[dict[str, Any]] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            captured.append({"sql": sql, "params": params, "time": f"{took:.4f}"})

    with connection.execute_wrapper(record):
        call()
    return Result(name, who, status, times, captured)


def getter(client: Client, url: str, htmx_target: str = "") -> Callable[[], Any]:
    """A request of ``url``; with ``htmx_target``, as HTMX swapping that element."""
    headers = {"HX-Request": "true", "HX-Target": htmx_target} if htmx_target else None
    return lambda: client.get(url, headers=headers)


def explain(sql: str, params: Any) -> str:
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            return "\n".join(row[0] for row in cur.fetchall())
        cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return "\n".join(str(row[-1]) for row in cur.fetchall())


def cast() -> dict[str, User] | None:
    """An SDR who leads nobody, the lead SDR (the SDR team's lead), the head of marketing."""
    team = Team.objects.filter(lead__role=Role.SDR).select_related("lead").first()
    lead_sdr = team.lead if team is not None else None
    sdrs = User.objects.filter(role=Role.SDR, is_active=True).order_by("id")
    sdr = sdrs.exclude(pk=lead_sdr.pk).first() if lead_sdr is not None else sdrs.first()
    head = User.objects.filter(role=Role.HEAD_MARKETING, is_active=True).order_by("id").first()
    if sdr is None or lead_sdr is None or head is None:
        return None
    return {"sdr": sdr, "lead_sdr": lead_sdr, "head_marketing": head}


def main() -> int:
    assert ARGS is not None
    call_command("migrate", interactive=False, verbosity=0)
    if not has_leads():
        print(f"Loading {ARGS.leads:,} demo leads…", file=sys.stderr, flush=True)
        load_demo(ARGS.leads, 1, True)
    total = Lead.objects.count()
    open_total = Lead.objects.filter(status__in=SDR_INCOMING).count()
    users = cast()
    if users is None:
        print("The database has no demo users (an SDR, a lead SDR, a head).", file=sys.stderr)
        return 2

    # The filters the page offers, with values that select something on demo data.
    queue = Lead.objects.filter(status__in=SDR_INCOMING)
    source = queue.exclude(source=None).values_list("source", flat=True).first()
    service = Service.objects.filter(code="seo").values_list("pk", flat=True).first()
    channel = Source.objects.filter(pk=source or 0).values_list("kind", flat=True).first()
    filters: dict[str, dict[str, Any]] = {
        "none": {},
        "owner=mine": {"owner": "mine"},
        "owner=unclaimed": {"owner": "unclaimed"},
        "owner=<an SDR>": {"owner": users["sdr"].pk},
        "source=<one>": {"source": source},
        "service=seo": {"service": service},
        f"channel={channel}": {"channel": channel},
        "service+channel+unclaimed": {"service": service, "channel": channel, "owner": "unclaimed"},
    }
    url = reverse("sdr:incoming")

    results: list[Result] = []
    slow: list[Result] = []

    def record(result: Result) -> None:
        results.append(result)
        rows = f"{result.rows:>6,} rows" if result.rows is not None else ""
        print(
            f"  {result.name:<44} {result.who:<15} {result.status} {result.p50:7.1f} ms "
            f"{result.p95:7.1f} ms {result.queries:>3} q {rows}",
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
        web.force_login(users["sdr"])
        ping_view = getter(web, "/bench-ping/")
        record(measure("baseline: trivial view /bench-ping/", "sdr", ping_view, n, warmup))

        for who, user in users.items():
            web = Client()
            web.force_login(user)
            mine = incoming(user)
            for label, params in filters.items():
                query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
                page = getter(web, f"{url}?{query}" if query else url)
                result = measure(f"page     {label}", who, page, n, warmup)
                result.rows = _rows(mine, params, user)
                record(result)
            # A filter change swaps the results in (HTMX), and "Show more" adds a page.
            fragment = getter(web, f"{url}?owner=unclaimed", "queue-results")
            record(measure("fragment owner=unclaimed (HTMX)", who, fragment, n, warmup))
            found = NEXT_PAGE.search(web.get(url).content.decode())
            if found is not None:
                query = found.group(1).replace("&amp;", "&")
                more = getter(web, f"{url}?{query}", "queue-more")
                record(measure("page 2   'Show more' (HTMX)", who, more, n, warmup))
            # The SDR's own page: this month's figures out of a whole career of leads.
            my_day = getter(web, reverse("sdr:me"))
            record(measure("my day   /my-day/", who, my_day, n, warmup))

    engine = connection.vendor
    print(
        f"\nThe SDR queue on {engine}: {total:,} leads, {open_total:,} open on the SDR side; "
        f"{n} requests each after {warmup} warm-up"
    )
    load = os.getloadavg()[0]
    print(f"({time.strftime('%Y-%m-%d %H:%M')}; load average {load:.1f}, {os.cpu_count()} cores)\n")
    header = (
        f"{'case':<44} {'user':<15} {'HTTP':>4} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'queries':>8} {'in queue':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        status = str(r.status) if r.status else "-"
        rows = f"{r.rows:,}" if r.rows is not None else ""
        print(
            f"{r.name:<44} {r.who:<15} {status:>4} {r.p50:>8.2f} {r.p95:>8.2f} "
            f"{r.queries:>8} {rows:>9}"
        )
    pages = [r for r in results if r.name.startswith(("page", "fragment"))]
    if pages:
        worst = max(pages, key=lambda r: r.p95)
        counts = sorted({r.queries for r in pages})
        print(
            f"\nWorst p95: {worst.p95:.1f} ms ({worst.name.strip()}, {worst.who}); "
            f"goal under 50 ms. Queries per request: {', '.join(map(str, counts))}, "
            "whatever the filter and the queue's size."
        )
    if any(r.status == 404 for r in results):
        print("\n404: /incoming/ does not exist yet; rerun when it does.")
    for result in slow:
        timed = [q for q in result.sql if q.get("time")]
        sql_ms = sum(float(q["time"]) for q in timed) * 1000
        shown = f"{sql_ms:.1f} ms"
        print(
            f"\nSlow: {result.name} as {result.who}: p95 {result.p95:.1f} ms, of which SQL "
            f"{shown} in {result.queries} queries (one request)"
        )
        if not timed or sql_ms < 0.3 * result.p50:
            print("  The time is outside SQL: template rendering.")
            continue
        worst_query = max(timed, key=lambda q: float(q["time"]))
        print(
            f"  Slowest query {float(worst_query['time']) * 1000:.1f} ms:\n  {worst_query['sql']}"
        )
        plan = explain(worst_query["sql"], worst_query["params"])
        print(f"  Parameters: {worst_query['params']}")
        print("  Plan:\n    " + plan.replace("\n", "\n    "))
    return 0


def _rows(mine: Any, params: dict[str, Any], user: User) -> int:
    """How many requests the user's queue holds with these filters (for the table)."""
    if params.get("source"):
        mine = mine.filter(source_id=params["source"])
    if params.get("service"):
        mine = mine.filter(service_id=params["service"])
    if params.get("channel"):
        mine = mine.filter(source__kind=params["channel"])
    owner = params.get("owner")
    if owner == "mine":
        mine = mine.filter(sdr=user)
    elif owner == "unclaimed":
        mine = mine.filter(sdr__isnull=True)
    elif owner:
        mine = mine.filter(sdr_id=owner)
    return int(mine.count())


if __name__ == "__main__":
    sys.exit(main())
