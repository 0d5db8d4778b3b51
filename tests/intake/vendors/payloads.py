"""Shared pieces for vendor tests: awkward values real people type, and request builders.

The payloads in each test file are written from the vendor's documentation; these are
the values that break careless code: Cyrillic with a hyphen and an apostrophe, a phone
with brackets, an email with spaces and capitals, ``&`` and ``+`` that a form encoding
must not eat, a message with newlines and quotes, a click id with ``+ / = _ -``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from leadrelay.intake.mapping import Mapped, map_fields
from leadrelay.intake.vendors import get_vendor
from leadrelay.intake.vendors.base import Parsed, RawDelivery, SourceConfig

NAME = "Анна-Мария О'Нил"
FIRST = "Анна-Мария"
LAST = "О'Нил"
PHONE = "+7 (999) 123-45-67"
EMAIL = " Ivan.Petrov@Example.RU "
COMPANY = "Рога & Копыта+"
MESSAGE = 'Здравствуйте!\nНужен сайт "под ключ" & SEO.\r\nБюджет: 100 000+ ₽ — это «реально»?'
GCLID = "EAIaIQobChMI-_x+Y/z=="
FBCLID = "IwAR2x_F+Y/z-0=="
YCLID = "7391823471234+/=="
NOW = 1_772_442_000.0  # 2026-03-02 09:00 UTC
SECRET = "s3cr3t-Ключ+&/="


def raw(
    body: bytes | str,
    *,
    content_type: str = "application/json",
    method: str = "POST",
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, str | Sequence[str]] | None = None,
    received_at: float = NOW,
    charset: str = "utf-8",
) -> RawDelivery:
    data = body.encode("utf-8") if isinstance(body, str) else body
    all_headers = {"content-type": content_type}
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    return RawDelivery(
        method=method,
        path="/in/key/",
        query={k: [v] if isinstance(v, str) else list(v) for k, v in (query or {}).items()},
        headers=all_headers,
        body=data,
        content_type=content_type.split(";")[0].strip().lower(),
        charset=charset,
        received_at=received_at,
    )


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def form_bytes(pairs: Sequence[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode("ascii")


BOUNDARY = "------------------------J1JNT4vbVO4FCC1qLG4HSv"


def multipart_bytes(pairs: Sequence[tuple[str, str]], boundary: str = BOUNDARY) -> bytes:
    out = b""
    for name, value in pairs:
        out += f"--{boundary}\r\n".encode()
        out += f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode("utf-8") + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def multipart_type(boundary: str = BOUNDARY) -> str:
    return f"multipart/form-data; boundary={boundary}"


def hmac_hex(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()


def hmac_b64(secret: str, data: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), data, hashlib.sha256).digest()).decode()


def source(kind: str, **kwargs: Any) -> SourceConfig:
    kwargs.setdefault("secret", SECRET)
    return SourceConfig(kind=kind, **kwargs)


def accept(delivery: RawDelivery, cfg: SourceConfig) -> list[Parsed]:
    """Authenticate, then parse, as the receiver does."""
    vendor = get_vendor(cfg.kind)
    vendor.authenticate(delivery, cfg)
    return vendor.parse(delivery, cfg)


def lead(parsed: Parsed, cfg: SourceConfig) -> Mapped:
    return map_fields(parsed, get_vendor(cfg.kind).default_mapping, cfg.mapping)
