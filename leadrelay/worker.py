"""``leadrelay worker``: the background process, driven by the database.

Any number may run at once. Each pass asks every registered job for due work; a job
claims its rows itself (conditional UPDATE / SKIP LOCKED), so passes are safe to
overlap. The loop sleeps when idle and stops cleanly on SIGTERM or SIGINT.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from types import FrameType

from django.db import close_old_connections
from django.utils import timezone

log = logging.getLogger("leadrelay.worker")

# A job does one bounded batch of due work and returns how many items it handled.
Job = Callable[[], int]
JOBS: list[Job] = []
# A waker tells when its work next falls due (None: nothing scheduled), so an idle worker
# wakes at a deadline instead of up to IDLE_SECONDS after it.
Waker = Callable[[], datetime | None]
WAKERS: list[Waker] = []

IDLE_SECONDS = 2.0


def register(job: Job) -> Job:
    JOBS.append(job)
    return job


def idle_seconds(now: datetime | None = None) -> float:
    """How long an idle worker may sleep: until the next known due time, at most
    IDLE_SECONDS (work can also appear unannounced, e.g. a new delivery)."""
    now = now or timezone.now()
    wait = IDLE_SECONDS
    for waker in WAKERS:
        try:
            due = waker()
        except Exception:  # a broken waker only costs promptness
            log.exception("worker waker %s failed", getattr(waker, "__name__", waker))
            continue
        if due is not None:
            wait = min(wait, max(0.0, (due - now).total_seconds()))
    return wait


def run_pass() -> int:
    handled = 0
    for job in JOBS:
        try:
            handled += job()
        except Exception:  # one failing job must not stop the others
            log.exception("worker job %s failed", getattr(job, "__name__", job))
        finally:
            close_old_connections()
    return handled


def register_jobs() -> None:
    from leadrelay.intake.tasks import process_due_deliveries
    from leadrelay.notify.outbox import deliver_due, next_due
    from leadrelay.qualify.queue import auto_assign
    from leadrelay.sales.engine import assign_next
    from leadrelay.sla.tasks import next_check, sweep_due

    # New requests reach an SDR, and MQLs a sales manager, before the sweep looks for
    # whom to escalate to.
    for job in (process_due_deliveries, auto_assign, assign_next, sweep_due, deliver_due):
        if job not in JOBS:
            register(job)
    for waker in (next_check, next_due):
        if waker not in WAKERS:
            WAKERS.append(waker)


def run_worker(once: bool = False) -> int:
    register_jobs()
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop.is_set():
        handled = run_pass()
        if once:
            break
        if handled == 0:
            stop.wait(idle_seconds())
            close_old_connections()
    return 0
