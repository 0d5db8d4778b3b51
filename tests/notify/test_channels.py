"""Notification channels against a real HTTP receiver on 127.0.0.1; no database."""

from __future__ import annotations

import base64
import json
import random
import re
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from leadrelay.notify import channels
from leadrelay.notify.channels import (
    MAX_RETRY_AFTER,
    WEBHOOK_RETRY_SCHEDULE,
    SendResult,
    UnsafeUrl,
    check_url,
    new_webhook_secret,
    next_retry_delay,
    parse_retry_after,
    post_webhook,
    send_telegram,
    sign_webhook,
    webhook_headers,
)
from tests.notify.receiver import Receiver

BODY = b'{"type":"lead.created","timestamp":"2026-03-02T09:00:00Z","data":{"id":42}}'
TOKEN = "123456789:AAF-secret_token_value"


def post(url: str, *, secret: str = "", timeout: float = 5, **kwargs: Any) -> SendResult:
    options = {"require_https": False, "allow_private": True} | kwargs
    return post_webhook(
        url,
        secret or new_webhook_secret(),
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        BODY,
        timestamp=int(time.time()),
        timeout=timeout,
        **options,
    )


# --- Signing -------------------------------------------------------------------------


def test_new_secret_is_whsec_and_standard_base64_of_32_bytes() -> None:
    secret = new_webhook_secret()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]+=*", secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert new_webhook_secret() != secret


def test_signature_matches_the_published_svix_example() -> None:
    # The known-answer vector from the Svix / Standard Webhooks documentation.
    signature = sign_webhook(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_reference_library_for_any_timestamp() -> None:
    secret = new_webhook_secret()
    when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    expected = Webhook(secret).sign("msg_1", when, BODY.decode())
    assert sign_webhook(secret, "msg_1", int(when.timestamp()), BODY) == expected


def test_sent_webhook_verifies_with_standardwebhooks(receiver: Receiver) -> None:
    secret = new_webhook_secret()

    result = post(receiver.url, secret=secret)

    assert result == SendResult(ok=True, status=200)
    [request] = receiver.requests
    assert request.method == "POST"
    assert request.body == BODY
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "Leadrelay-Webhooks/1"
    assert request.headers["webhook-id"] == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert Webhook(secret).verify(request.body, request.headers) == json.loads(BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"42", b"43"), request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(request.body, request.headers)


def test_verification_needs_a_fresh_timestamp() -> None:
    # Receivers allow five minutes of clock difference, so each retry is signed anew.
    secret = new_webhook_secret()
    stale = int(time.time()) - 600
    headers = webhook_headers(secret, "msg_1", stale, BODY)
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(BODY, headers)


def test_headers() -> None:
    headers = webhook_headers(new_webhook_secret(), "msg_1", 1700000000, BODY)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["webhook-signature"].startswith("v1,")
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "Leadrelay-Webhooks/1"


@pytest.mark.parametrize("msg_id", ["", "msg.1", "msg 1", "msg\r\nx: y"])
def test_message_ids_that_could_confuse_the_signed_content_are_refused(msg_id: str) -> None:
    with pytest.raises(ValueError, match="message id"):
        sign_webhook(new_webhook_secret(), msg_id, 1700000000, BODY)


@pytest.mark.parametrize("secret", ["whsec_", "whsec_not base64!", "whsec_abc-_def"])
def test_malformed_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        sign_webhook(secret, "msg_1", 1700000000, BODY)


# --- Sending webhooks ----------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 202, 204])
def test_2xx_is_success(receiver: Receiver, status: int) -> None:
    receiver.answer(status)
    assert post(receiver.url + "/hooks/leads") == SendResult(ok=True, status=status)
    assert receiver.requests[0].path == "/hooks/leads"


def test_410_means_gone(receiver: Receiver) -> None:
    receiver.answer(410, b"endpoint deleted")
    result = post(receiver.url)
    assert (result.ok, result.status, result.gone) == (False, 410, True)
    assert result.error == "HTTP 410 Gone: endpoint deleted"


def test_500_is_a_failure_with_a_snippet_of_the_body(receiver: Receiver) -> None:
    receiver.answer(500, b"<h1>boom</h1>\n" + b"x" * 1000)
    result = post(receiver.url)
    assert (result.ok, result.status, result.gone, result.retry_after) == (False, 500, False, None)
    assert result.error.startswith("HTTP 500 Internal Server Error: <h1>boom</h1> xxx")
    assert len(result.error) < 300


def test_429_retry_after_seconds(receiver: Receiver) -> None:
    receiver.answer(429, Retry_After="120")
    result = post(receiver.url)
    assert (result.ok, result.status, result.retry_after) == (False, 429, 120.0)


def test_503_retry_after_http_date(receiver: Receiver) -> None:
    receiver.answer(
        503, Retry_After=format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    )
    result = post(receiver.url)
    assert (result.ok, result.status) == (False, 503)
    assert result.retry_after is not None
    assert 110 <= result.retry_after <= 121


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    receiver.answer(302, Location="http://169.254.169.254/latest/meta-data/")
    result = post(receiver.url)
    assert (result.ok, result.status) == (False, 302)
    assert "not followed" in result.error
    assert len(receiver.requests) == 1


def test_timeout_is_an_error_without_status(receiver: Receiver) -> None:
    receiver.hold = True
    started = time.monotonic()
    result = post(receiver.url, timeout=0.2)
    receiver.release.set()
    assert time.monotonic() - started < 3
    assert (result.ok, result.status) == (False, None)
    assert result.error == "timed out after 0.2s"


def test_connection_refused_is_an_error_without_status() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = post(f"http://127.0.0.1:{port}/")
    assert (result.ok, result.status) == (False, None)
    assert "ConnectionRefusedError" in result.error


def test_unsafe_url_is_not_requested(receiver: Receiver) -> None:
    result = post(receiver.url, allow_private=False)
    assert (result.ok, result.status) == (False, None)
    assert "loopback" in result.error
    assert receiver.requests == []

    result = post(receiver.url, require_https=True)
    assert result.error == "URL must use https"
    assert receiver.requests == []


def test_connection_rechecks_the_address(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the host's DNS answer changed between check_url and the connection.
    monkeypatch.setattr(channels, "check_url", lambda url, **kwargs: None)
    result = post(receiver.url, allow_private=False)
    assert (result.ok, result.status) == (False, None)
    assert "loopback" in result.error
    assert receiver.requests == []


def test_https_is_really_tls(receiver: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    # The receiver speaks plain HTTP: the TLS handshake fails, nothing falls back.
    https_url = receiver.url.replace("http://", "https://")
    result = post(https_url, require_https=True)
    assert (result.ok, result.status) == (False, None)
    assert "SSL" in result.error
    # The connect-time address check guards https connections too.
    monkeypatch.setattr(channels, "check_url", lambda url, **kwargs: None)
    result = post(https_url.replace("127.0.0.1", "localhost"), allow_private=False)
    assert result.error.startswith("refusing to send to 'localhost': it resolves to ")
    assert result.error.endswith("a loopback address")


# --- URL safety ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://example.com/hook", "must use https"),
        ("ftp://example.com/hook", "scheme must be http or https"),
        ("file:///etc/passwd", "scheme must be http or https"),
        ("javascript:alert(1)", "scheme must be http or https"),
        ("example.com/hook", "scheme must be http or https"),
        ("https:///hook", "no host"),
        ("https://user:pass@example.com/hook", "user name or password"),
        ("https://user@example.com/hook", "user name or password"),
        ("https://example.com:99999/", "malformed URL"),
        ("https://example.com/a b", "whitespace"),
        ("https://example.com/\r\nHost: x", "whitespace"),
    ],
)
def test_check_url_refuses_bad_urls(url: str, message: str) -> None:
    with pytest.raises(UnsafeUrl, match=message):
        check_url(url, require_https=True, allow_private=True)


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("127.0.0.1", "loopback"),
        ("127.1", "loopback"),
        ("2130706433", "loopback"),  # 127.0.0.1 as one decimal number
        ("localhost", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("[::1]", "loopback"),
        ("[::]", "unspecified"),
        ("[fe80::1]", "link-local"),
        ("[fc00::1]", "private"),
        ("[ff02::1]", "multicast"),
        ("[::ffff:127.0.0.1]", "loopback"),
        ("[::ffff:10.0.0.1]", "private"),
        ("[64:ff9b::a00:1]", "private"),  # NAT64 of 10.0.0.1
        ("[2002:7f00:1::]", "loopback"),  # 6to4 of 127.0.0.1
    ],
)
def test_check_url_refuses_non_public_addresses(host: str, problem: str) -> None:
    url = f"https://{host}/hook"
    with pytest.raises(UnsafeUrl, match=problem):
        check_url(url, require_https=True, allow_private=False)
    check_url(url, require_https=True, allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "https://8.8.8.8/hook",
        "https://[2606:4700:4700::1111]:8443/hook?x=1",
        "https://[::ffff:8.8.8.8]/",
        "https://[64:ff9b::808:808]/",
    ],
)
def test_check_url_accepts_public_addresses(url: str) -> None:
    check_url(url, require_https=True, allow_private=False)


def test_check_url_refuses_when_any_resolved_address_is_private(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        assert (host, port) == ("hooks.example.com", 443)
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(
        UnsafeUrl, match=r"'hooks\.example\.com': it resolves to 10\.0\.0\.7, a private"
    ):
        check_url("https://hooks.example.com/x", require_https=True, allow_private=False)


def test_check_url_unresolvable_host(monkeypatch: pytest.MonkeyPatch) -> None:
    def getaddrinfo(*args: Any, **kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(UnsafeUrl, match=r"cannot resolve host 'nowhere\.invalid'"):
        check_url("https://nowhere.invalid/", require_https=True, allow_private=False)


# --- Telegram ------------------------------------------------------------------------


def test_telegram_sends_the_message(receiver: Receiver) -> None:
    receiver.answer(200, b'{"ok":true,"result":{"message_id":7}}')

    result = send_telegram(receiver.url + "/", TOKEN, "-100123", "New lead: Привет <b>")

    assert result == SendResult(ok=True, status=200)
    [request] = receiver.requests
    assert (request.method, request.path) == ("POST", f"/bot{TOKEN}/sendMessage")
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "chat_id": "-100123",
        "text": "New lead: Привет <b>",
        "disable_web_page_preview": True,
    }


def test_telegram_ok_false_is_a_failure(receiver: Receiver) -> None:
    receiver.answer(200, b'{"ok":false,"description":"odd"}')
    result = send_telegram(receiver.url, TOKEN, "1", "hi")
    assert (result.ok, result.status, result.error) == (False, 200, "Telegram HTTP 200 OK: odd")


def test_telegram_429_uses_parameters_retry_after(receiver: Receiver) -> None:
    answer = {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 35",
        "parameters": {"retry_after": 35},
    }
    receiver.answer(429, json.dumps(answer).encode(), Retry_After="5")
    result = send_telegram(receiver.url, TOKEN, "1", "hi")
    assert (result.ok, result.status, result.retry_after) == (False, 429, 35.0)
    assert "Too Many Requests" in result.error


def test_telegram_401_masks_the_token(receiver: Receiver) -> None:
    answer = {"ok": False, "error_code": 401, "description": f"Unauthorized: bot{TOKEN} unknown"}
    receiver.answer(401, json.dumps(answer).encode())
    result = send_telegram(receiver.url, TOKEN, "1", "hi")
    assert (result.ok, result.status) == (False, 401)
    assert result.error == "Telegram HTTP 401 Unauthorized: Unauthorized: bot*** unknown"
    assert TOKEN not in result.error
    assert TOKEN.split(":")[1] not in result.error


def test_telegram_network_error_masks_the_token(receiver: Receiver) -> None:
    receiver.hold = True
    result = send_telegram(receiver.url, TOKEN, "1", "hi", timeout=0.2)
    assert (result.ok, result.status, result.error) == (False, None, "timed out after 0.2s")
    result = send_telegram(f"http://[{TOKEN}]", TOKEN, "1", "hi")
    assert result.ok is False
    assert result.error
    assert TOKEN not in result.error


def test_telegram_bad_base_url_is_an_error() -> None:
    result = send_telegram("ftp://api.telegram.org", TOKEN, "1", "hi")
    assert result == SendResult(
        ok=False, error="Telegram base URL: URL scheme must be http or https, not 'ftp'"
    )


def test_telegram_garbage_answer_is_an_error(receiver: Receiver) -> None:
    receiver.answer(502, b"[" * 100_000)
    result = send_telegram(receiver.url, TOKEN, "1", "hi")
    assert (result.ok, result.status) == (False, 502)
    assert result.error.startswith("Telegram HTTP 502 Bad Gateway: [[[")


def test_telegram_malformed_token_is_not_sent(receiver: Receiver) -> None:
    result = send_telegram(receiver.url, "123/../../admin?x=", "1", "hi")
    assert (result.ok, result.error) == (False, "the Telegram bot token is malformed")
    assert receiver.requests == []


# --- Retry schedule ------------------------------------------------------------------


def test_schedule_follows_standard_webhooks() -> None:
    assert WEBHOOK_RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000)


def test_next_retry_delay_jitters_within_20_percent() -> None:
    rng = random.Random(1234)
    for attempt, base in enumerate(WEBHOOK_RETRY_SCHEDULE, start=1):
        delays = [next_retry_delay(attempt, None, rng) for _ in range(200)]
        assert all(d is not None and base * 0.8 <= d <= base * 1.2 for d in delays)
        assert len(set(delays)) > 1


def test_next_retry_delay_is_reproducible_with_a_seed() -> None:
    first = [next_retry_delay(n, None, random.Random(7)) for n in range(1, 7)]
    second = [next_retry_delay(n, None, random.Random(7)) for n in range(1, 7)]
    assert first == second


def test_next_retry_delay_exhausted_means_dead_letter() -> None:
    rng = random.Random(0)
    assert next_retry_delay(len(WEBHOOK_RETRY_SCHEDULE), None, rng) is not None
    assert next_retry_delay(len(WEBHOOK_RETRY_SCHEDULE) + 1, None, rng) is None
    assert next_retry_delay(len(WEBHOOK_RETRY_SCHEDULE) + 1, 10.0, rng) is None
    with pytest.raises(ValueError):
        next_retry_delay(0, None, rng)


def test_next_retry_delay_respects_retry_after() -> None:
    rng = random.Random(0)
    assert next_retry_delay(1, 120.0, rng) == 120.0  # longer than 5 s +/- 20%
    delay = next_retry_delay(3, 120.0, rng)  # shorter than 30 min: the schedule wins
    assert delay is not None and 1440 <= delay <= 2160
    assert next_retry_delay(1, 10 * 24 * 3600.0, rng) == MAX_RETRY_AFTER
    assert next_retry_delay(1, float("inf"), rng) == MAX_RETRY_AFTER
    delay = next_retry_delay(1, float("nan"), rng)
    assert delay is not None and 4 <= delay <= 6


def test_retry_after_from_a_response_feeds_the_schedule(receiver: Receiver) -> None:
    receiver.answer(429, Retry_After="600")
    result = post(receiver.url)
    assert next_retry_delay(1, result.retry_after, random.Random(0)) == 600.0


def test_parse_retry_after() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert parse_retry_after(None) is None
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("3600") == 3600.0
    assert parse_retry_after("Mon, 02 Mar 2026 09:02:00 GMT", now=now) == 120.0
    assert parse_retry_after("Mon, 02 Mar 2026 08:00:00 GMT", now=now) == 0.0  # in the past
    for junk in ("", "-5", "1.5", "soon", "9" * 400, "1e9"):
        assert parse_retry_after(junk, now=now) is None
