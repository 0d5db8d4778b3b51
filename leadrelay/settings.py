"""Leadrelay's one settings module, driven by the environment.

Embedded default: SQLite in WAL mode inside the data directory (``LEADRELAY_DATA_DIR``,
else the platform's user data directory), with a secret key generated once and kept
there. ``DATABASE_URL=postgres://…`` switches every command to PostgreSQL with the
psycopg connection pool.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
import django_stubs_ext
import platformdirs
from django.utils.translation import gettext_lazy as _

django_stubs_ext.monkeypatch()  # lets admin.ModelAdmin[Model] etc. be subscripted at run time

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("LEADRELAY_DATA_DIR") or platformdirs.user_data_dir("leadrelay"))


def _secret_key() -> str:
    if key := os.environ.get("LEADRELAY_SECRET_KEY"):
        return key
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        # O_EXCL: two processes starting at once agree on the first key written.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("LEADRELAY_DEBUG", False)
# Production hardening is on unless the instance is explicitly served over plain HTTP
# (the embedded default on 127.0.0.1 is; a deployment behind TLS sets LEADRELAY_HTTPS=1).
HTTPS = _env_bool("LEADRELAY_HTTPS", False)

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("LEADRELAY_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("LEADRELAY_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "ninja",
    "leadrelay.accounts",
    "leadrelay.catalog",
    "leadrelay.leads",
    "leadrelay.intake",
    "leadrelay.sla",
    "leadrelay.notify",
    "leadrelay.qualify",
    "leadrelay.sales",
    "leadrelay.presale",
    "leadrelay.deals",
    "leadrelay.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "leadrelay.urls"
WSGI_APPLICATION = "leadrelay.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _databases() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        db: dict[str, Any] = dict(dj_database_url.parse(url))
        if db["ENGINE"] == "django.db.backends.postgresql":
            # The psycopg pool: a new connection per request costs 4x (PERFORMANCE.md).
            db["CONN_MAX_AGE"] = 0
            db.setdefault("OPTIONS", {})["pool"] = {
                "min_size": 1,
                "max_size": int(os.environ.get("LEADRELAY_DB_POOL_SIZE", "8")),
                "timeout": 20,
            }
            db["TEST"] = {"NAME": os.environ.get("LEADRELAY_TEST_DB_NAME") or None}
        return {"default": db}
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "default": {
            # Django's SQLite backend, with write transactions queued on a file lock.
            "ENGINE": "leadrelay.db.sqlite",
            "NAME": str(DATA_DIR / "leadrelay.sqlite3"),
            # Persistent connections: reopening SQLite per request costs 2.6x.
            "CONN_MAX_AGE": None,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy
                # timeout instead of one failing with "database is locked" mid-transaction.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
            },
            # Tests run on a file, never in memory: concurrency tests need real connections.
            "TEST": {
                "NAME": os.environ.get("LEADRELAY_TEST_DB_NAME")
                or str(DATA_DIR / f"test-{os.getpid()}.sqlite3")
            },
        }
    }


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "leads:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.environ.get("LEADRELAY_LANGUAGE", "ru")
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("LEADRELAY_TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

# Uploaded files (proposal attachments) live in the data directory, or where
# LEADRELAY_MEDIA_DIR points (shared storage when several app servers run). They are
# served only through views that check who may see the lead, never as static files.
MEDIA_ROOT = Path(os.environ.get("LEADRELAY_MEDIA_DIR") or DATA_DIR / "media")
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# WhiteNoise serves straight from the installed packages' static folders: nothing to
# collect before the first start, and nothing fetched from a CDN.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # HTMX reads nothing from it: the token travels in hx-headers
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = _env_bool("LEADRELAY_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("LEADRELAY_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("LEADRELAY_LOG_LEVEL", "WARNING")},
}

# Page size of lists (web and API); keyset pagination keeps every page equally cheap.
LEADRELAY_PAGE_SIZE = 50

# Intake: body size limit, per-IP rate limit (shared by all processes), proxy trust.
LEADRELAY_INTAKE_MAX_BYTES = int(os.environ.get("LEADRELAY_INTAKE_MAX_BYTES", str(1024 * 1024)))
LEADRELAY_INTAKE_RATE_PER_MINUTE = int(os.environ.get("LEADRELAY_INTAKE_RATE_PER_MINUTE", "600"))
LEADRELAY_TRUST_X_FORWARDED_FOR = _env_bool("LEADRELAY_TRUST_X_FORWARDED_FOR", False)
# Where users and vendors reach this instance: intake URLs given to vendors start here.
LEADRELAY_BASE_URL = os.environ.get("LEADRELAY_BASE_URL", "http://127.0.0.1:8000")

# Notifications. E-mail goes through Django's SMTP backend when a host is set; without
# one, messages are written to the worker's log so nothing fails on a laptop.
EMAIL_HOST = os.environ.get("LEADRELAY_EMAIL_HOST", "")
EMAIL_PORT = int(os.environ.get("LEADRELAY_EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("LEADRELAY_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("LEADRELAY_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("LEADRELAY_EMAIL_TLS", True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = os.environ.get("LEADRELAY_EMAIL_FROM", "leadrelay@localhost")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
# Telegram Bot API: the bot's token and the API's address (a proxy or a test server).
LEADRELAY_TELEGRAM_BOT_TOKEN = os.environ.get("LEADRELAY_TELEGRAM_BOT_TOKEN", "")
LEADRELAY_TELEGRAM_API = os.environ.get("LEADRELAY_TELEGRAM_API", "https://api.telegram.org")
# Outgoing webhooks: https only in production, and never to private or loopback addresses
# unless explicitly allowed (tests, or a receiver on the same private network).
LEADRELAY_WEBHOOK_REQUIRE_HTTPS = _env_bool("LEADRELAY_WEBHOOK_REQUIRE_HTTPS", HTTPS)
LEADRELAY_WEBHOOK_ALLOW_PRIVATE = _env_bool("LEADRELAY_WEBHOOK_ALLOW_PRIVATE", False)
LEADRELAY_WEBHOOK_TIMEOUT = float(os.environ.get("LEADRELAY_WEBHOOK_TIMEOUT", "10"))
