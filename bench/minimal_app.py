"""The baseline for intake throughput: the least a Django endpoint can do per lead.

Validates a JSON body and inserts one row with the ORM, on the same database engine and
the same gunicorn settings as ``leadrelay serve``. Run by bench/intake_throughput.py.
"""

from __future__ import annotations

import json
import os
import sys

import dj_database_url
from django.conf import settings

DATA_DIR = os.environ["BENCH_DATA_DIR"]
if os.environ.get("DATABASE_URL"):
    db = dict(dj_database_url.parse(os.environ["DATABASE_URL"]))
    db["CONN_MAX_AGE"] = 0
    db["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 8}}
else:
    db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(DATA_DIR, "minimal.sqlite3"),
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    DATABASES={"default": db},
    INSTALLED_APPS=["django.contrib.contenttypes", "bench_minimal"],
    MIDDLEWARE=[],
    USE_TZ=True,
)

import django  # noqa: E402
from django.apps import AppConfig  # noqa: E402


class BenchMinimal(AppConfig):
    name = "bench_minimal"
    label = "bench_minimal"


sys.modules["bench_minimal"] = sys.modules[__name__]
sys.modules["bench_minimal.apps"] = sys.modules[__name__]
default_app_config = "bench_minimal.BenchMinimal"
BenchMinimal.path = DATA_DIR  # type: ignore[attr-defined]
django.setup()

from django.db import connection, models  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402


class Row(models.Model):
    name = models.CharField(max_length=300)
    email = models.CharField(max_length=254)
    phone = models.CharField(max_length=32)
    body = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "bench_minimal"

    def __str__(self) -> str:
        return self.name


def create_table() -> None:
    with connection.schema_editor() as editor:
        editor.create_model(Row)


@csrf_exempt
def insert(request: HttpRequest) -> JsonResponse:
    try:
        data = json.loads(request.body)
    except ValueError:
        return JsonResponse({"code": "malformed"}, status=400)
    row = Row.objects.create(
        name=str(data.get("name", "")),
        email=str(data.get("email", "")).strip().lower(),
        phone=str(data.get("phone", "")),
        body=request.body.decode(),
    )
    return JsonResponse({"ok": True, "id": row.pk})


urlpatterns = [path("in/", insert)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
