"""Benchmark: ``leadrelay import`` of a 100,000-row HubSpot-like CSV.

Times the real command (a subprocess, as a user runs it) on SQLite in a fresh data
directory and on PostgreSQL in a fresh database, each next to a baseline measured in the
same run: plain ``csv`` parsing plus one ``executemany`` of the same rows into a plain
table on the same database. The goal is under 20 seconds for 100,000 rows.

    .venv/bin/python bench/import_csv.py [--rows 100000] [--no-postgres] [--breakdown] [--profile]

PostgreSQL: ``createdb``/``dropdb -h 127.0.0.1 -U postgres`` make and remove a database
named ``leadrelay_bench_<pid>`` (override the server with ``BENCH_PG_HOST``/``_USER``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HEADERS = [
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Company Name",
    "Website URL",
    "Create Date",
    "Lifecycle Stage",
    "Lead Status",
    "Original Source",
    "Contact owner",
    "Message",
]
FIRST = ["Ирина", "Иван", "Ольга", "Алексей", "Мария", "Дмитрий", "Anna", "John", "Sofia", "Пётр"]
LAST = ["Петрова", "Иванов", "Смирнова", "Кузнецов", "Попова", "Lee", "Smith", "Garcia", "Волков"]
COMPANIES = ["ООО «Ромашка»", "АО Вектор", "Acme Inc", "ИП Сидоров", "Globex", "ТехноСтрой", ""]
DOMAINS = ["example.ru", "mail.example.com", "Yandex.RU", "corp.example.org", "gmail.com"]
STAGES = ["lead", "subscriber", "marketingqualifiedlead", "opportunity"]
SOURCES = ["Organic Search", "Paid Search", "Direct Traffic", "Paid Social", "Offline Sources"]
MESSAGES = [
    "",
    "",
    "Нужна консультация по SEO",
    "Please call me back",
    "Сколько стоит сайт?\nСрочно",
]


def phone(rng: random.Random) -> str:
    n = f"9{rng.randrange(10**9):09d}"
    fmt = rng.random()
    if fmt < 0.4:
        return f"+7 ({n[:3]}) {n[3:6]}-{n[6:8]}-{n[8:]}"
    if fmt < 0.7:
        return f"8{n}"
    if fmt < 0.85:
        return f"+7{n}"
    if fmt < 0.95:
        return f"8 {n[:3]} {n[3:6]} {n[6:8]} {n[8:]}"
    return f"+1 650 {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}"  # the slow path


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, 9, 0)
    people: list[tuple[str, str, str, str]] = []
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        for i in range(rows):
            if people and rng.random() < 0.03:  # the same person asking again
                first, last, email, tel = rng.choice(people)
            else:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                email = f"{first[0]}.{last}.{i}@{rng.choice(DOMAINS)}" if rng.random() < 0.9 else ""
                if email and not email.isascii():
                    email = f"user{i}.{rng.randrange(10**6)}@{rng.choice(DOMAINS)}"
                tel = phone(rng) if rng.random() < 0.8 else ""
                if rng.random() < 0.05:
                    people.append((first, last, email, tel))
            created = start + timedelta(minutes=i * 7 + rng.randrange(5))
            writer.writerow(
                [
                    str(1000 + i),
                    first,
                    last,
                    email if rng.random() > 0.3 else email.upper(),
                    tel,
                    "",
                    rng.choice(COMPANIES),
                    "",
                    created.strftime("%Y-%m-%d %H:%M"),
                    rng.choice(STAGES),
                    "",
                    rng.choice(SOURCES),
                    "manager@agency.test",
                    rng.choice(MESSAGES),
                ]
            )
            if i % 20000 == 19999:
                fh.write(f"{2000000 + i},broken row,without,enough cells\n")


_LAST_CPU = [0.0]


def run(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Run a command; its wall time is returned, its CPU time kept for ``report``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    _LAST_CPU[0] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        return [r for r in reader if len(r) == len(HEADERS)]


_COLUMNS = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
_PLACEHOLDERS_SQLITE = ", ".join("?" for _ in HEADERS)
_PLACEHOLDERS_PG = ", ".join("%s" for _ in HEADERS)


def baseline_sqlite(path: Path, db: Path) -> float:
    cpu = time.process_time()
    began = time.perf_counter()
    rows = read_rows(path)
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    con.execute(f"CREATE TABLE plain (id integer primary key, {_COLUMNS})")
    with con:
        con.executemany(
            f"INSERT INTO plain ({', '.join(f'c{i}' for i in range(len(HEADERS)))}) "
            f"VALUES ({_PLACEHOLDERS_SQLITE})",
            rows,
        )
    con.close()
    _LAST_CPU[0] = time.process_time() - cpu
    return time.perf_counter() - began


def baseline_postgres(path: Path, url: str) -> float:
    import psycopg

    cpu = time.process_time()
    began = time.perf_counter()
    rows = read_rows(path)
    with psycopg.connect(url) as con, con.cursor() as cur:
        cur.execute(f"CREATE TABLE plain (id bigserial primary key, {_COLUMNS})")
        cur.executemany(
            f"INSERT INTO plain ({', '.join(f'c{i}' for i in range(len(HEADERS)))}) "
            f"VALUES ({_PLACEHOLDERS_PG})",
            rows,
        )
    _LAST_CPU[0] = time.process_time() - cpu  # this process only, not the server's
    return time.perf_counter() - began


def inprocess(path: str) -> None:
    """Import ``path`` in this process and print where the time went, as JSON."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadrelay.settings")
    django.setup()
    from django.db import connection

    from leadrelay.intake import importers

    spent = {"create_leads_bulk": 0.0, "duplicate_lookups": 0.0}
    inner = importers.create_leads_bulk

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent["create_leads_bulk"] += time.perf_counter() - began

    def lookups(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if sql.startswith("SELECT") and "leads_lead" in sql:
                spent["duplicate_lookups"] += time.perf_counter() - began

    importers.create_leads_bulk = timed  # a stopwatch around the real function
    began = time.perf_counter()
    table = importers.read_table(path)
    spent["read_file"] = time.perf_counter() - began
    mapping = importers.plan_mapping(table.headers)
    stages: dict[str, float] = {}

    def progress(stage: str, n: int, total: int) -> None:
        stages[stage] = time.perf_counter()

    with connection.execute_wrapper(lookups):
        importers.import_rows(table, mapping, progress=progress)
    spent["total"] = time.perf_counter() - began
    spent["prepare_rows"] = stages["read"] - began - spent["read_file"]
    print(json.dumps(spent))


def breakdown(label: str, path: Path, env: dict[str, str]) -> None:
    _, out = run([sys.executable, __file__, "--inprocess", str(path)], env)
    spent = json.loads(out)
    rest = spent["total"] - spent["create_leads_bulk"]
    print(
        f"  in-process {label}: {spent['total']:.1f} s = create_leads_bulk "
        f"{spent['create_leads_bulk']:.1f} s ({spent['create_leads_bulk'] / spent['total']:.0%})"
        f" + the importer {rest:.1f} s (reading the file {spent['read_file']:.1f} s, "
        f"rows {spent['prepare_rows']:.1f} s, duplicate lookups {spent['duplicate_lookups']:.1f} s)"
    )


def report(label: str, seconds: float, rows: int) -> None:
    """Wall time (what a user waits) and the client's CPU time (steadier on a busy box)."""
    print(
        f"{label:<44} {seconds:7.2f} s  {rows / seconds:9.0f} rows/s   (CPU {_LAST_CPU[0]:.1f} s)",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--profile", action="store_true", help="run the SQLite import under cProfile"
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the parts of an in-process import"
    )
    parser.add_argument("--inprocess", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inprocess:
        inprocess(args.inprocess)
        return 0

    leadrelay = str(Path(sys.executable).with_name("leadrelay"))
    work = Path(tempfile.mkdtemp(prefix="leadrelay-bench-"))
    try:
        csv_path = work / "hubspot-contacts.csv"
        began = time.perf_counter()
        generate(csv_path, args.rows)
        size = csv_path.stat().st_size / 1e6
        print(f"generated {args.rows} rows, {size:.1f} MB in {time.perf_counter() - began:.1f} s")

        # The machine may be shared: the load says how far to trust absolute figures.
        print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        # SQLite, fresh data directory
        env = {**base_env, "LEADRELAY_DATA_DIR": str(work / "data")}
        seconds, _ = run([leadrelay, "manage", "migrate", "-v", "0"], env)
        print(f"sqlite: migrate {seconds:.1f} s (not counted)")
        cmd = [leadrelay, "import", str(csv_path), "--json"]
        if args.profile:
            prof = work / "import.prof"
            cmd = [
                sys.executable,
                "-m",
                "cProfile",
                "-o",
                str(prof),
                "-m",
                "leadrelay.cli",
                *cmd[1:],
            ]
        seconds, out = run(cmd, env)
        if args.profile:
            import pstats

            pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(35)
            out = out.strip().splitlines()[-1]
        summary = json.loads(out)
        report("leadrelay import (SQLite)", seconds, args.rows)
        print(
            f"  created {summary['created']}, duplicates {len(summary['duplicates'])}, "
            f"rejected {len(summary['rejected'])}, review {summary['review']}"
        )
        report(
            "baseline: csv + executemany (SQLite)",
            baseline_sqlite(csv_path, work / "b.db"),
            args.rows,
        )
        if args.breakdown:
            env = {**base_env, "LEADRELAY_DATA_DIR": str(work / "data-breakdown")}
            run([leadrelay, "manage", "migrate", "-v", "0"], env)
            breakdown("SQLite", csv_path, env)

        if not args.no_postgres:
            host = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
            user = os.environ.get("BENCH_PG_USER", "postgres")
            name = f"leadrelay_bench_{os.getpid()}"
            subprocess.run(["createdb", "-h", host, "-U", user, name], check=True)
            try:
                url = f"postgres://{user}@{host}:5432/{name}"
                env = {**base_env, "DATABASE_URL": url, "LEADRELAY_DATA_DIR": str(work / "pg")}
                seconds, _ = run([leadrelay, "manage", "migrate", "-v", "0"], env)
                print(f"postgres: migrate {seconds:.1f} s (not counted)")
                seconds, out = run([leadrelay, "import", str(csv_path), "--json"], env)
                summary = json.loads(out)
                report("leadrelay import (PostgreSQL)", seconds, args.rows)
                print(
                    f"  created {summary['created']}, duplicates {len(summary['duplicates'])}, "
                    f"rejected {len(summary['rejected'])}, review {summary['review']}"
                )
                report(
                    "baseline: csv + executemany (PostgreSQL)",
                    baseline_postgres(csv_path, url),
                    args.rows,
                )
                if args.breakdown:
                    subprocess.run(["createdb", "-h", host, "-U", user, name + "_b"], check=True)
                    env = {**env, "DATABASE_URL": f"{url}_b"}
                    run([leadrelay, "manage", "migrate", "-v", "0"], env)
                    breakdown("PostgreSQL", csv_path, env)
            finally:
                for db in (name, name + "_b"):
                    subprocess.run(
                        ["dropdb", "-h", host, "-U", user, "--force", "--if-exists", db],
                        env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
                        check=False,
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
