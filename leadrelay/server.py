"""``leadrelay serve``: gunicorn in front of the WSGI app, with the worker beside it."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from gunicorn.app.base import BaseApplication


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from leadrelay.wsgi import application

        return application


def run(host: str, port: int, with_worker: bool) -> int:
    worker: subprocess.Popen[bytes] | None = None
    if with_worker:
        worker = subprocess.Popen([sys.executable, "-m", "leadrelay.cli", "worker"])
    options = {
        "bind": f"{host}:{port}",
        "workers": int(os.environ.get("LEADRELAY_WEB_WORKERS", "2")),
        "threads": int(os.environ.get("LEADRELAY_WEB_THREADS", "2")),
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": os.environ.get("LEADRELAY_ACCESS_LOG") or None,
        "errorlog": "-",
        "loglevel": "warning",
    }
    print(f"Leadrelay is serving at http://{host}:{port}/", flush=True)
    try:
        _Gunicorn(options).run()
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0
