"""The sending side of the notification channels: signed webhooks and Telegram messages.

Nothing here touches the database. The outbox worker decides what to send and when,
calls ``post_webhook`` / ``send_telegram`` once per attempt, and stores the returned
``SendResult``; ``next_retry_delay`` tells it when to try again, or that it should stop.

Webhooks follow Standard Webhooks (https://www.standardwebhooks.com/): the secret is
``whsec_`` + base64 of random bytes, and each attempt carries ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">``. Receivers reject timestamps more than five minutes away
from their clock, so every attempt (retries included) must be signed afresh with the
time it is sent; the id stays the same across attempts, as the receiver's idempotency key.

Webhook URLs are entered by users, so sending is guarded against server-side request
forgery: ``check_url`` refuses odd schemes, credentials in the URL and hosts resolving
to private, loopback, link-local, multicast or reserved addresses, and the connection
itself re-checks the addresses it actually connects to (a hostname may resolve
differently the second time). Redirects are never followed and environment proxies are
never used.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import random
import re
import secrets
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64 random bytes
USER_AGENT = "Leadrelay-Webhooks/1"

# Seconds to wait after each failed attempt: the first attempt is immediate, then
# 5 s, 5 min, 30 min, 2 h, 5 h and 10 h (the Standard Webhooks / Svix schedule, cut
# after 10 h). Seven attempts in all over about 17.5 hours; then the message is dead.
WEBHOOK_RETRY_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000)
RETRY_JITTER = 0.2  # +/-20%
MAX_RETRY_AFTER = 24 * 3600.0  # a receiver's Retry-After is honoured up to a day

# How much of a response body is read: enough for a Telegram answer or an error snippet.
_MAX_RESPONSE_BYTES = 64 * 1024
_ERROR_SNIPPET_CHARS = 200


# --- Standard Webhooks signing -------------------------------------------------------


def new_webhook_secret() -> str:
    """A fresh endpoint secret: ``whsec_`` + standard (not URL-safe) base64 of 32 bytes.

    Standard base64 matters: receivers' libraries decode the secret leniently and would
    silently drop URL-safe ``-``/``_`` characters, producing a different key.
    """
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _secret_key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Strict decoding: a mangled secret must fail loudly, not sign with a wrong key.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("webhook secret is not valid base64") from None
    if not key:
        raise ValueError("webhook secret is empty")
    return key


_MSG_ID = re.compile(r"[!-~]+")  # visible ASCII; no spaces or control characters


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt: ``v1,<base64 HMAC>``."""
    if not _MSG_ID.fullmatch(msg_id) or "." in msg_id:
        # The signed content is "{id}.{timestamp}.{body}": a dot in the id would let
        # one (id, timestamp) pair impersonate another.
        raise ValueError(f"invalid webhook message id {msg_id!r}")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"webhook timestamp must be a non-negative int, not {timestamp!r}")
    signed = msg_id.encode("ascii") + b"." + str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Every header a webhook attempt is sent with."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign_webhook(secret, msg_id, timestamp, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


# --- Outgoing URL safety -------------------------------------------------------------


class UnsafeUrl(ValueError):
    """A URL that Leadrelay will not send requests to."""


_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


def _address_problem(address: str) -> str | None:
    """Why ``address`` must not be connected to (e.g. "a loopback address"), or None."""
    ip = ipaddress.ip_address(address.partition("%")[0])  # drop an IPv6 zone ("%eth0")
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = None
        if ip.ipv4_mapped is not None:
            embedded = ip.ipv4_mapped
        elif ip in _NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            # The IPv6 wrapper itself counts as private/reserved: judge what it carries.
            problem = _address_problem(str(embedded))
            return None if problem is None else f"{problem} ({embedded} inside IPv6)"
        if ip.sixtofour is not None:
            problem = _address_problem(str(ip.sixtofour))
            if problem is not None:
                return f"{problem} ({ip.sixtofour} inside 6to4)"
        if ip.is_site_local:
            return "a site-local address"
    if ip.is_unspecified:
        return "an unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:
        return "not a public address"
    return None


def _refuse_private(host: str, address: str) -> None:
    problem = _address_problem(address)
    if problem is not None:
        if address == host:
            raise UnsafeUrl(f"refusing to send to {address}: {problem}")
        raise UnsafeUrl(f"refusing to send to {host!r}: it resolves to {address}, {problem}")


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeUrl(f"cannot resolve host {host!r}: {exc}") from None


def check_url(url: str, *, require_https: bool, allow_private: bool) -> None:
    """Raise ``UnsafeUrl`` unless requests may be sent to ``url``.

    With ``allow_private`` the host is not resolved (a later DNS failure is a send error).
    """
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise UnsafeUrl("URL contains whitespace or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeUrl(f"malformed URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeUrl(f"URL scheme must be http or https, not {parts.scheme!r}")
    if require_https and scheme != "https":
        raise UnsafeUrl("URL must use https")
    if "@" in parts.netloc:
        raise UnsafeUrl("URL must not contain a user name or password")
    host = parts.hostname
    if not host:
        raise UnsafeUrl("URL has no host")
    if port == 0:
        raise UnsafeUrl("URL port must not be 0")
    if allow_private:
        return
    port = port or (443 if scheme == "https" else 80)
    for info in _resolve(host, port):
        _refuse_private(host, info[4][0])


def _guarded_connect(
    address: tuple[str, int],
    timeout: float | None = None,
    source_address: tuple[str, int] | None = None,
    *,
    allow_private: bool,
) -> socket.socket:
    """``socket.create_connection`` that re-checks the addresses it is about to use.

    Between ``check_url`` and the request the host could start resolving to another
    address (DNS rebinding), so the addresses are vetted here, at connect time.
    """
    host, port = address
    infos = _resolve(host, port)
    if not allow_private:
        for info in infos:
            _refuse_private(host, info[4][0])
    error: OSError | None = None
    for family, type_, proto, _canonname, sockaddr in infos:
        sock = socket.socket(family, type_, proto)
        try:
            if isinstance(timeout, int | float):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error if error is not None else OSError(f"no address for {host!r}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(
        self,
        host: str,
        port: int | None = None,
        timeout: float = 10.0,
        source_address: tuple[str, int] | None = None,
        blocksize: int = 8192,
        *,
        allow_private: bool = False,
    ) -> None:
        super().__init__(host, port, timeout, source_address, blocksize)
        self._create_connection = functools.partial(_guarded_connect, allow_private=allow_private)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(
        self,
        host: str,
        port: int | None = None,
        timeout: float = 10.0,
        source_address: tuple[str, int] | None = None,
        blocksize: int = 8192,
        *,
        context: ssl.SSLContext | None = None,
        allow_private: bool = False,
    ) -> None:
        super().__init__(
            host,
            port,
            timeout=timeout,
            source_address=source_address,
            context=context or ssl.create_default_context(),
            blocksize=blocksize,
        )
        # HTTPSConnection.connect() opens the TCP connection through this hook, then
        # wraps it in TLS, verifying the certificate against the host name.
        self._create_connection = functools.partial(_guarded_connect, allow_private=allow_private)


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self._allow_private = allow_private

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPConnection, req, allow_private=self._allow_private)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self._allow_private = allow_private

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPSConnection, req, allow_private=self._allow_private)


def _opener(allow_private: bool) -> urllib.request.OpenerDirector:
    """An opener that returns every response as it is: no redirects, no error
    exceptions for non-2xx statuses, no proxies from the environment."""
    opener = urllib.request.OpenerDirector()
    opener.addheaders = []
    opener.add_handler(_HTTPHandler(allow_private))
    opener.add_handler(_HTTPSHandler(allow_private))
    opener.add_handler(urllib.request.UnknownHandler())  # other schemes: URLError
    return opener


# --- Sending -------------------------------------------------------------------------


@dataclass
class SendResult:
    ok: bool
    status: int | None = None  # the HTTP status, None when no response came back
    retry_after: float | None = None  # seconds the receiver asked us to wait
    error: str = ""
    gone: bool = False  # HTTP 410: the receiver wants no more messages


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    if re.fullmatch(r"[0-9]{1,12}", value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _snippet(data: bytes) -> str:
    text = " ".join(data.decode("utf-8", "replace").split())
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) > _ERROR_SNIPPET_CHARS:
        text = text[:_ERROR_SNIPPET_CHARS] + "…"
    return text


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, urllib.error.URLError) and isinstance(exc.reason, BaseException):
        exc = exc.reason
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g}s"
    if isinstance(exc, UnsafeUrl):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _post(
    url: str, headers: dict[str, str], body: bytes, *, timeout: float, allow_private: bool
) -> tuple[int, str, http.client.HTTPMessage, bytes]:
    """POST once; the status, reason, headers and (the start of) the body of the answer.

    Raises ``OSError`` / ``http.client.HTTPException`` / ``UnsafeUrl`` when no full
    answer came back."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with _opener(allow_private).open(request, timeout=timeout) as response:
        data = response.read(_MAX_RESPONSE_BYTES)
        return response.status, response.reason, response.headers, data


_SEND_ERRORS = (OSError, http.client.HTTPException, ValueError)  # UnsafeUrl is a ValueError


def post_webhook(
    url: str,
    secret: str,
    msg_id: str,
    body: bytes,
    *,
    timestamp: int,
    timeout: float = 10,
    require_https: bool,
    allow_private: bool,
) -> SendResult:
    """Deliver one webhook attempt. Never raises for anything the remote end does.

    A malformed ``secret`` or ``msg_id`` is our own bug and raises ``ValueError``.
    """
    try:
        check_url(url, require_https=require_https, allow_private=allow_private)
    except UnsafeUrl as exc:
        return SendResult(ok=False, error=str(exc))
    headers = webhook_headers(secret, msg_id, timestamp, body)
    try:
        status, reason, response_headers, data = _post(
            url, headers, body, timeout=timeout, allow_private=allow_private
        )
    except _SEND_ERRORS as exc:
        return SendResult(ok=False, error=_describe(exc, timeout))
    if 200 <= status < 300:
        return SendResult(ok=True, status=status)
    error = f"HTTP {status} {reason}".rstrip()
    if 300 <= status < 400:
        location = response_headers.get("Location", "")
        error += f": redirect to {_snippet(location.encode())!r} not followed"
    elif data:
        error += f": {_snippet(data)}"
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(response_headers.get("Retry-After"))
    return SendResult(
        ok=False, status=status, retry_after=retry_after, error=error, gone=status == 410
    )


_BOT_TOKEN = re.compile(r"[0-9]+:[A-Za-z0-9_-]+")


def send_telegram(
    base_url: str, bot_token: str, chat_id: str, text: str, *, timeout: float = 10
) -> SendResult:
    """Send ``text`` to ``chat_id`` through the Telegram Bot API at ``base_url``.

    The bot token never appears in the result: it is masked in every error text.
    """

    def masked(message: str) -> str:
        return message.replace(bot_token, "***") if bot_token else message

    if not _BOT_TOKEN.fullmatch(bot_token):
        return SendResult(ok=False, error="the Telegram bot token is malformed")
    try:
        # The base URL is the operator's setting, not a user's: no private-address guard.
        check_url(base_url, require_https=False, allow_private=True)
    except UnsafeUrl as exc:
        return SendResult(ok=False, error=masked(f"Telegram base URL: {exc}"))
    url = f"{base_url.rstrip('/')}/bot{bot_token}/sendMessage"
    payload = {"chat_id": chat_id, "text": text, "disable_web_page_preview": True}
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {"content-type": "application/json", "user-agent": USER_AGENT}
    try:
        status, reason, response_headers, data = _post(
            url, headers, body, timeout=timeout, allow_private=True
        )
    except _SEND_ERRORS as exc:
        return SendResult(ok=False, error=masked(_describe(exc, timeout)))
    try:
        answer = json.loads(data)
    except (ValueError, RecursionError):
        answer = None
    if not isinstance(answer, dict):
        answer = {}
    if 200 <= status < 300 and answer.get("ok") is True:
        return SendResult(ok=True, status=status)
    description = answer.get("description")
    if not isinstance(description, str):
        description = _snippet(data)
    error = f"Telegram HTTP {status} {reason}".rstrip()
    if description:
        error += f": {_snippet(description.encode())}"
    retry_after = None
    parameters = answer.get("parameters")
    if isinstance(parameters, dict):
        value = parameters.get("retry_after")
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            retry_after = float(value)
    if retry_after is None and status in (429, 503):
        retry_after = parse_retry_after(response_headers.get("Retry-After"))
    return SendResult(ok=False, status=status, retry_after=retry_after, error=masked(error))


# --- Retry schedule ------------------------------------------------------------------


def next_retry_delay(attempt: int, retry_after: float | None, rng: random.Random) -> float | None:
    """Seconds to wait after failed attempt number ``attempt`` (1 = the first attempt).

    None when the schedule is exhausted: the message goes to the dead letters. Otherwise
    the schedule's delay with +/-20% jitter, but never less than the receiver's
    ``Retry-After`` (itself capped at ``MAX_RETRY_AFTER``).
    """
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1, not {attempt}")
    if attempt > len(WEBHOOK_RETRY_SCHEDULE):
        return None
    delay = WEBHOOK_RETRY_SCHEDULE[attempt - 1] * rng.uniform(1 - RETRY_JITTER, 1 + RETRY_JITTER)
    if retry_after is not None and retry_after > 0:  # (a NaN is ignored, +inf is capped)
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay
