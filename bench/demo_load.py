"""How long ``leadrelay demo --leads N`` takes, next to a raw bulk insert in the same run.

    .venv/bin/python bench/demo_load.py [--leads 1000000] [--engines sqlite,postgresql]
        [--pg-admin-url postgres://postgres@127.0.0.1:5432/postgres]

For each engine: a baseline (raw ``executemany`` on SQLite, ``COPY`` on PostgreSQL) of
N rows as wide as a lead row into a plain table with no indexes, a second baseline with
the demo's whole row volume (leads, events, contacts, companies, SLA clocks, breaches and
notifications: the counts the demo reported) as plain rows, then the command itself on a
fresh database (a new temporary data directory; a new PostgreSQL database, dropped
afterwards). The machine is noisy: read the ratios, which compare figures measured
minutes apart in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
LEADRELAY = ROOT / ".venv" / "bin" / "leadrelay"

# One row each about as wide as the demo's rows (a lead ~500 bytes, an event ~120).
LEAD_ROW: tuple[Any, ...] = (
    "lost",
    5,
    "Наталья Кузнецова",
    "n.kuznetsova@tekhnoservis.ru",
    "+79161234567",
    "ООО «Техносервис»",
    "https://tekhnoservis.ru",
    "Нужна настройка и ведение Яндекс Директ, рекламный бюджет 200 тыс. ₽ в месяц.",
    '{"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "ppc_msk_search", '
    '"yclid": "41234567890123456"}',
    123456,
    2,
    3,
    "2026-03-02 09:12:44",
    4,
    7,
    None,
    None,
    None,
    "Выбрали конкурента",
    "2026-03-20 14:02:11",
    "2026-03-02 12:40:01",
    "2026-03-05 10:11:12",
    None,
    None,
    None,
)
EVENT_ROW: tuple[Any, ...] = (
    123456,
    "2026-03-05 10:11:12",
    4,
    "status",
    "assigned",
    "discussion",
    "",
    '{"version": 5}',
)
CONTACT_ROW: tuple[Any, ...] = (
    "Наталья Кузнецова",
    "n.kuznetsova@tekhnoservis.ru",
    "+79161234567",
    "Маркетолог",
    123,
    "2026-03-02 09:12:44",
)
COMPANY_ROW: tuple[Any, ...] = ("ООО «Техносервис»", "https://tekhnoservis.ru", "2026-03-02")
CLOCK_ROW: tuple[Any, ...] = (
    123456,
    1,
    "first_contact",
    1,
    "2026-03-02 09:12:44",
    "2026-03-02 09:42:44",
    "met",
    "2026-03-02 09:31:02",
    4,
    4,
    1098,
    1098,
    1,
    None,
    None,
)
BREACH_ROW: tuple[Any, ...] = (
    654321,
    123456,
    "first_contact",
    "2026-03-02 09:42:44",
    "2026-03-02 09:42:51",
    "not_contacted",
    4,
    0,
)
NOTIFICATION_ROW: tuple[Any, ...] = (
    4,
    123456,
    "sla_breach",
    '{"clock": "first_contact", "due": "2026-03-02T06:42:44Z", '
    '"due_local": "2026-03-02 09:42", "step": 1.0}',
    "2026-03-02 09:42:51",
    None,
    "sla:654321:1:4",
)
SHAPES = {
    "lead": LEAD_ROW,
    "event": EVENT_ROW,
    "contact": CONTACT_ROW,
    "company": COMPANY_ROW,
    "clock": CLOCK_ROW,
    "breach": BREACH_ROW,
    "notification": NOTIFICATION_ROW,
}
# The summary's count of each table's rows.
COUNTS = {
    "lead": "leads",
    "event": "events",
    "contact": "contacts",
    "company": "companies",
    "clock": "clocks",
    "breach": "breaches",
    "notification": "notifications",
}


def rows(template: tuple[Any, ...], n: int) -> Iterator[tuple[Any, ...]]:
    for i in range(1, n + 1):
        yield (i, *template)


def sqlite_baseline(counts: dict[str, int]) -> float:
    """Raw executemany into plain tables, one transaction, the app's PRAGMAs."""
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "baseline.sqlite3", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        for name, shape in SHAPES.items():
            cols = ", ".join(f"c{i}" for i in range(len(shape)))
            db.execute(f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, {cols})")
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        for name, n in counts.items():
            marks = ", ".join("?" * (len(SHAPES[name]) + 1))
            db.executemany(f"INSERT INTO {name} VALUES ({marks})", rows(SHAPES[name], n))
        db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        db.close()
    return elapsed


def pg_baseline(admin_url: str, counts: dict[str, int]) -> float:
    """COPY into plain tables of a fresh database, one transaction."""
    name = f"lr_bench_baseline_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(_with_db(admin_url, name)) as db:
            types = {str: "text", int: "bigint", type(None): "text"}
            for table, shape in SHAPES.items():
                cols = ", ".join(f"c{i} {types[type(v)]}" for i, v in enumerate(shape))
                db.execute(f"CREATE TABLE {table} (id bigint PRIMARY KEY, {cols})")
            db.commit()
            started = time.perf_counter()
            with db.cursor() as cur:
                for table, n in counts.items():
                    with cur.copy(f"COPY {table} FROM STDIN") as copy:
                        for row in rows(SHAPES[table], n):
                            copy.write_row(row)
            db.commit()
            elapsed = time.perf_counter() - started
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    return elapsed


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def run_demo(leads: int, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(LEADRELAY), "demo", "--leads", str(leads), "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    return elapsed, json.loads(done.stdout)


def bench_engine(engine: str, leads: int, admin_url: str) -> list[dict[str, Any]]:
    env = {**os.environ, "LEADRELAY_LOG_LEVEL": "WARNING"}
    env.pop("DATABASE_URL", None)
    pg_name = f"lr_bench_demo_{os.getpid()}"
    results: list[dict[str, Any]] = []
    base = {"lead": leads}
    print(f"[{engine}] baseline: {leads:,} lead-wide rows…", file=sys.stderr, flush=True)
    baseline = sqlite_baseline(base) if engine == "sqlite" else pg_baseline(admin_url, base)
    with tempfile.TemporaryDirectory() as data_dir:
        env["LEADRELAY_DATA_DIR"] = data_dir
        if engine == "postgresql":
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}"')
                admin.execute(f'CREATE DATABASE "{pg_name}"')
            env["DATABASE_URL"] = _with_db(admin_url, pg_name)
        try:
            # Migrations are not part of the load: apply them first.
            subprocess.run([str(LEADRELAY), "manage", "migrate", "-v0"], env=env, check=True)
            print(f"[{engine}] leadrelay demo --leads {leads:,}…", file=sys.stderr, flush=True)
            wall, summary = run_demo(leads, env)
        finally:
            if engine == "postgresql":
                with psycopg.connect(admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    volume = {table: summary.get(key, 0) for table, key in COUNTS.items()}
    total = sum(volume.values())
    print(f"[{engine}] baseline: the demo's {total:,} rows…", file=sys.stderr, flush=True)
    baseline_all = sqlite_baseline(volume) if engine == "sqlite" else pg_baseline(admin_url, volume)
    results.append(
        {"engine": engine, "what": f"baseline: {leads:,} lead rows", "rows": leads, "s": baseline}
    )
    results.append(
        {
            "engine": engine,
            "what": "baseline: the demo's row volume",
            "rows": total,
            "s": baseline_all,
        }
    )
    results.append(
        {
            "engine": engine,
            "what": f"leadrelay demo ({summary['events']:,} events, "
            f"{summary.get('clocks', 0):,} clocks)",
            "rows": total,
            "s": wall,
            "leads": summary["leads"],
            "inside": summary["seconds"],
            "phases": summary.get("phases", {}),
            "ratio": wall / baseline,
            "ratio_all": wall / baseline_all,
        }
    )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--pg-admin-url",
        default=os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
        help="a database to connect to for CREATE/DROP DATABASE",
    )
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    for engine in args.engines.split(","):
        results.extend(bench_engine(engine.strip(), args.leads, args.pg_admin_url))

    print(f"\nDemo load, {args.leads:,} leads ({time.strftime('%Y-%m-%d %H:%M')})")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    header = f"{'engine':<11} {'what':<52} {'rows':>11} {'wall s':>8} {'rows/s':>10}"
    header += f" {'leads/s':>9} {'× N rows':>9} {'× volume':>9}"
    print(header)
    print("-" * len(header))
    for r in results:
        line = f"{r['engine']:<11} {r['what']:<52} {r['rows']:>11,} {r['s']:>8.1f}"
        line += f" {r['rows'] / r['s']:>10,.0f}"
        if "leads" in r:
            line += f" {r['leads'] / r['s']:>9,.0f} {r['ratio']:>9.2f} {r['ratio_all']:>9.2f}"
        print(line)
    print(
        "\nwall s of the demo is the whole command (Django start, 10 password hashes, load, "
        "index rebuild, commit); migrations were applied before. '× N rows' divides it by "
        "the N-row baseline, '× volume' by the baseline of all the rows the demo wrote."
    )
    for r in results:
        if "inside" in r:
            phases = ", ".join(f"{k} {v:.1f} s" for k, v in r["phases"].items())
            print(f"{r['engine']}: load_demo() took {r['inside']:.1f} s of it: {phases}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
