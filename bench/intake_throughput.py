"""Intake throughput: `leadrelay serve` against a minimal one-insert Django endpoint.

Both are served by gunicorn with the same process/thread settings on the same database
engine, loaded by wrk (16 connections, unique leads, 20 s) in the same run, so the ratio
is what matters on a noisy machine. Needs Debian's `wrk` (apt-get install wrk).

    python bench/intake_throughput.py [--seconds 20] [--connections 16] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PG = "postgres://postgres@127.0.0.1:5432/"

LUA = r"""
local counter = 0
request = function()
  counter = counter + 1
  local key = tid .. "-" .. counter
  local body = string.format(
    '{"name":"Бенч Тестов %s","email":"Bench.%s@Example.RU","phone":"+7 (999) %03d-%02d-%02d",' ..
    '"company":"ООО \\"Рога & Копыта\\"","message":"Нужен SEO\\nбюджет 100к",' ..
    '"utm_source":"yandex","utm_campaign":"bench","gclid":"EAIaIQ-_x+Y/z=="}',
    key, key, counter % 1000, counter % 100, counter % 97)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. secret, ["Idempotency-Key"] = key}, body)
end
"""
LUA_SETUP = r"""
local n = 0
setup = function(thread)
  n = n + 1
  thread:set("tid", "%s-" .. n)
  thread:set("secret", "%s")
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is up
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer in {timeout} s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def run_wrk(url: str, secret: str, seconds: int, connections: int, tag: str) -> dict[str, float]:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(LUA_SETUP % (tag, secret) + LUA)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    script.unlink()

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": float(rps.group(1)) if rps else float("nan"),
        "p50": ms("50"),
        "p99": ms("99"),
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": 1.0 if errors else 0.0,
    }


def pg_db(name: str) -> str:
    subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name], check=True)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    return PG + name


def minimal(backend: str, seconds: int, connections: int) -> dict[str, float]:
    data = tempfile.mkdtemp(prefix="bench-min-")
    env = {**os.environ, "BENCH_DATA_DIR": data, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    if backend == "postgres":
        env["DATABASE_URL"] = pg_db("lr_bench_minimal")
    subprocess.run(
        [sys.executable, "-c", "import bench.minimal_app as m; m.create_table()"],
        env=env,
        check=True,
        cwd=ROOT,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "bench.minimal_app:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            os.environ.get("LEADRELAY_WEB_WORKERS", "2"),
            "--threads",
            os.environ.get("LEADRELAY_WEB_THREADS", "2"),
            "-k",
            "gthread",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/in/", proc)
        return run_wrk(f"http://127.0.0.1:{port}/in/", "-", seconds, connections, "min")
    finally:
        stop(proc)


def leadrelay(backend: str, seconds: int, connections: int) -> dict[str, float]:
    data = tempfile.mkdtemp(prefix="bench-lr-")
    env = {
        **os.environ,
        "LEADRELAY_DATA_DIR": data,
        # The limiter stays on (its cost is part of intake) but never refuses the load.
        "LEADRELAY_INTAKE_RATE_PER_MINUTE": "1000000000",
    }
    env.pop("DATABASE_URL", None)
    if backend == "postgres":
        env["DATABASE_URL"] = pg_db("lr_bench_intake")
    lr = str(VENV_BIN / "leadrelay")
    subprocess.run([lr, "manage", "migrate", "-v0"], env=env, check=True)
    created = subprocess.run(
        [lr, "source", "create", "--kind", "api", "--name", "bench", "--json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    source = json.loads(created.stdout)
    port = free_port()
    proc = subprocess.Popen(
        [lr, "serve", "--no-worker", "--port", str(port)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        path = source["url"].split("://", 1)[1].split("/", 1)[1]
        url = f"http://127.0.0.1:{port}/{path}"
        wait_http(f"http://127.0.0.1:{port}/", proc)
        result = run_wrk(url, source["secret"], seconds, connections, "lr")
    finally:
        stop(proc)
    count = subprocess.run(
        [
            lr,
            "manage",
            "shell",
            "-c",
            "from leadrelay.leads.models import Lead;print(Lead.objects.count())",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    result["stored"] = float(count.split()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    rows = []
    print(f"intake benchmark, {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    for backend in args.backends.split(","):
        base = minimal(backend, args.seconds, args.connections)
        ours = leadrelay(backend, args.seconds, args.connections)
        rows.append((backend, base, ours))
    print(f"\nIntake, {args.connections} connections, {args.seconds} s each, wrk on 127.0.0.1")
    print(f"{'backend':<10}{'endpoint':<22}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'non-2xx':>9}")
    for backend, base, ours in rows:
        for name, r in (("minimal insert", base), ("leadrelay intake", ours)):
            print(
                f"{backend:<10}{name:<22}{r['rps']:>9.0f}{r['p50']:>9.1f}{r['p99']:>9.1f}"
                f"{r['non2xx']:>9.0f}"
            )
        print(
            f"{backend:<10}{'ratio':<22}{ours['rps'] / base['rps']:>9.2f}"
            f"   (leads stored: {ours.get('stored', 0):.0f})"
        )


if __name__ == "__main__":
    main()
