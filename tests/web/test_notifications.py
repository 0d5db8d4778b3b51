"""The notification centre (the bell) and the webhook endpoints page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint
from leadrelay.notify.outbox import deliver_due
from tests.conftest import T0

HTMX = {"HX-Request": "true"}
PUBLIC_URL = "https://93.184.216.34/hooks/leadrelay"  # an address literal: no DNS in tests


def note(user: User, n: int, *, lead: Lead | None = None, read: bool = False, **data: Any) -> Any:
    return Notification.objects.create(
        user=user,
        lead=lead,
        kind=data.pop("kind", Notification.Kind.SLA_BREACH),
        data={"clock": "first_contact", "due_local": "2026-03-02 12:30", **data},
        created_at=T0 + timedelta(minutes=n),
        read_at=T0 + timedelta(hours=1) if read else None,
        dedup_key=f"test:{user.pk}:{n}",
    )


# The bell ------------------------------------------------------------------------------


def test_every_page_has_the_bell_polling_its_count_and_the_login_page_not(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    page = client_for(cast["sales"]).get("/leads/").text
    assert 'class="bell" href="/notifications/"' in page
    assert 'hx-get="/notifications/count/"' in page
    assert 'hx-trigger="load, every 30s, notifications-changed from:body"' in page
    assert "/notifications/count/" not in Client().get("/").text


def test_bell_counts_only_the_users_own_unread_notifications(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_num_queries: Any,
) -> None:
    lead = make_lead()
    for n in range(3):
        note(cast["sdr"], n, lead=lead)
    note(cast["sdr"], 3, read=True)
    note(cast["sdr2"], 4)
    client = client_for(cast["sdr"])
    with django_assert_num_queries(3):  # session, user, the capped count
        response = client.get("/notifications/count/", headers=HTMX)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert '<span class="bell-badge" aria-hidden="true">3</span>' in response.text
    assert "3 unread" in response.text
    assert client_for(cast["sales"]).get("/notifications/count/").text.strip() == ""


def test_bell_says_99_plus_beyond_99(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    Notification.objects.bulk_create(
        Notification(
            user=cast["sdr"],
            kind=Notification.Kind.SLA_WARNING,
            created_at=T0,
            dedup_key=f"many:{n}",
        )
        for n in range(120)
    )
    text = client_for(cast["sdr"]).get("/notifications/count/").text
    assert '<span class="bell-badge" aria-hidden="true">99+</span>' in text


def test_bell_stops_polling_once_logged_out(db: None) -> None:
    response = Client().get("/notifications/count/", headers=HTMX)
    assert response.status_code == 286 and response.content == b""


# The notification centre -----------------------------------------------------------------


def test_centre_lists_the_users_notifications_newest_first_with_their_text(
    cast: dict[str, User],
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_num_queries: Any,
) -> None:
    lead = make_lead()
    note(cast["head_marketing"], 1, lead=lead, kind=Notification.Kind.SLA_WARNING, read=True)
    note(cast["head_marketing"], 2, lead=lead)
    note(
        cast["head_marketing"],
        3,
        kind=Notification.Kind.WEBHOOK_DEAD,
        url="https://crm.example/hook",
        error="HTTP 500",
    )
    note(cast["sdr"], 4, lead=lead, kind=Notification.Kind.SLA_ESCALATION)
    client = client_for(cast["head_marketing"])
    with django_assert_num_queries(4):  # session, user, the page, the unread count
        page = client.get("/notifications/").text
    assert "2 unread" in page
    items = re.findall(r'<li class="note[^"]*" id="note-(\d+)">', page)
    assert len(items) == 3
    webhook = page.index("A webhook could not be delivered")
    missed = page.index(f"Lead #{lead.pk}: deadline missed")
    approaching = page.index(f"Lead #{lead.pk}: deadline approaching")
    assert webhook < missed < approaching  # newest first
    assert "Gave up sending to https://crm.example/hook: HTTP 500" in page
    assert "First contact was due at 2026-03-02 12:30." in page
    assert f'<a href="/leads/{lead.pk}/">Lead #{lead.pk}: deadline missed</a>' in page
    assert "escalated to you" not in page  # the SDR's, not theirs
    assert page.count("Mark as read") == 2
    assert 'action="/notifications/read/"' in page  # mark all


def test_centre_pages_through_older_notifications(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    for n in range(53):
        note(cast["sdr"], n, read=True)
    client = client_for(cast["sdr"])
    first = client.get("/notifications/").text
    assert len(re.findall(r'id="note-\d+"', first)) == 50
    assert "All read." in first and "Mark all as read" not in first
    [next_url] = re.findall(r'href="(/notifications/\?cursor=\d+)"', first)
    second = client.get(next_url).text
    assert len(re.findall(r'id="note-\d+"', second)) == 3
    assert 'rel="next"' not in second and "Newest" in second
    assert client.get("/notifications/?cursor=-4").status_code == 302


def test_centre_is_empty_for_a_new_user_and_needs_a_login(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    assert "No notifications yet." in client_for(cast["partner"]).get("/notifications/").text
    response = Client().get("/notifications/")
    assert response.status_code == 302 and response["Location"].startswith("/?next=")


def test_marking_one_read_swaps_the_item_and_refreshes_the_bell(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    mine = note(cast["sdr"], 1)
    client = client_for(cast["sdr"])
    response = client.post(f"/notifications/{mine.pk}/read/", headers=HTMX)
    assert response.status_code == 200 and response["HX-Trigger"] == "notifications-changed"
    assert f'id="note-{mine.pk}"' in response.text and "Mark as read" not in response.text
    mine.refresh_from_db()
    assert mine.read_at is not None
    read_at = mine.read_at
    # Again, and without HTMX: a redirect back, the first time kept.
    response = client.post(f"/notifications/{mine.pk}/read/")
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    mine.refresh_from_db()
    assert mine.read_at == read_at
    assert client.get(f"/notifications/{mine.pk}/read/").status_code == 405


def test_nobody_can_mark_someone_elses_notification(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    theirs = note(cast["sdr2"], 1)
    for who in ("sdr", "admin", "head_marketing"):
        assert client_for(cast[who]).post(f"/notifications/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_only_the_users_own(
    cast: dict[str, User], client_for: Callable[..., Client]
) -> None:
    for n in range(3):
        note(cast["sdr"], n)
    theirs = note(cast["sdr2"], 9)
    client = client_for(cast["sdr"])
    response = client.post("/notifications/read/")
    assert response.status_code == 302
    assert not Notification.objects.filter(user=cast["sdr"], read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "All notifications are marked as read." in client.get("/notifications/").text


def test_marking_read_needs_the_csrf_token(cast: dict[str, User]) -> None:
    mine = note(cast["sdr"], 1)
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast["sdr"])
    assert client.post("/notifications/read/").status_code == 403
    assert client.post(f"/notifications/{mine.pk}/read/").status_code == 403
    mine.refresh_from_db()
    assert mine.read_at is None


# Webhook endpoints: access ---------------------------------------------------------------


@pytest.fixture
def endpoint(db: None) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=PUBLIC_URL,
        description="CRM of the group",
        secret="whsec_" + base64.b64encode(b"k" * 32).decode(),
        events=[WebhookEndpoint.Event.LEAD_CREATED],
    )


@pytest.mark.parametrize("who", ["sdr", "sales", "partner", "head_marketing", "head_sales"])
def test_only_administrators_reach_webhooks(
    who: str,
    cast: dict[str, User],
    endpoint: WebhookEndpoint,
    client_for: Callable[..., Client],
) -> None:
    client = client_for(cast[who])
    assert 'href="/webhooks/"' not in client.get("/leads/").text
    for url in ("/webhooks/", f"/webhooks/{endpoint.pk}/"):
        assert client.get(url).status_code == 403, url
    for url in ("/webhooks/", f"/webhooks/{endpoint.pk}/test/", f"/webhooks/{endpoint.pk}/active/"):
        assert client.post(url, {"url": PUBLIC_URL, "active": "0"}).status_code == 403, url
    assert WebhookEndpoint.objects.count() == 1 and not Outbox.objects.exists()
    endpoint.refresh_from_db()
    assert endpoint.active


def test_administrators_and_superusers_reach_webhooks(
    cast: dict[str, User], endpoint: WebhookEndpoint, client_for: Callable[..., Client]
) -> None:
    root = User.objects.create_superuser("root", "root@agency.test", "pw-root-123!", role="sdr")
    for user in (cast["admin"], root):
        client = client_for(user)
        assert 'href="/webhooks/"' in client.get("/leads/").text
        assert client.get("/webhooks/").status_code == 200
        assert client.get(f"/webhooks/{endpoint.pk}/").status_code == 200
    assert client_for(root).get("/webhooks/999/").status_code == 404
    anonymous = Client().get("/webhooks/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/?next=")


# Webhook endpoints: list and create ------------------------------------------------------


def test_list_shows_endpoints_with_state_and_reason(
    cast: dict[str, User],
    endpoint: WebhookEndpoint,
    client_for: Callable[..., Client],
    django_assert_num_queries: Any,
) -> None:
    WebhookEndpoint.objects.create(
        url="https://93.184.216.35/gone",
        secret="whsec_x",
        active=False,
        disabled_reason="HTTP 410 Gone at 2026-03-02 10:00 UTC",
    )
    client = client_for(cast["admin"])
    with django_assert_num_queries(3):  # session, user, endpoints
        page = client.get("/webhooks/").text
    assert PUBLIC_URL in page and "CRM of the group" in page and "<code>lead.created</code>" in page
    assert "every event" in page  # the second one has no events: it gets them all
    assert "HTTP 410 Gone at 2026-03-02 10:00 UTC" in page
    assert page.index(PUBLIC_URL) < page.index("93.184.216.35")  # active first
    for value in WebhookEndpoint.Event.values:
        assert f'value="{value}"' in page  # the form's event boxes


def test_creating_an_endpoint_generates_a_secret_shown_on_its_page(
    cast: dict[str, User], client_for: Callable[..., Client], settings: Any
) -> None:
    settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS = True
    settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE = False
    client = client_for(cast["admin"])
    response = client.post(
        "/webhooks/",
        {
            "url": f"  {PUBLIC_URL}  ",
            "description": "Отдел продаж группы",
            "events": ["lead.created", "lead.sla_breached"],
        },
    )
    created = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/webhooks/{created.pk}/"
    assert created.url == PUBLIC_URL and created.description == "Отдел продаж группы"
    assert created.events == ["lead.created", "lead.sla_breached"] and created.active
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", created.secret)
    page = client.get(response["Location"]).text
    assert created.secret in page and "Give its signing secret below to the receiver." in page
    assert "Lead created, SLA breached" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "http://93.184.216.34/hook"}, "URL must use https"),
        ({"url": "https://127.0.0.1/hook"}, "a loopback address"),
        ({"url": "https://10.1.2.3/hook"}, "a private address"),
        ({"url": "ftp://93.184.216.34/"}, "URL scheme must be http or https"),
        ({"url": "https://user:pw@93.184.216.34/"}, "must not contain a user name"),
        ({"url": ""}, "URL: This field is required."),
        ({"url": PUBLIC_URL, "events": ["lead.deleted"]}, "Events: Select a valid choice."),
        ({"url": PUBLIC_URL, "description": "x" * 201}, "Description: Ensure this value"),
    ],
)
def test_a_bad_endpoint_is_refused_with_a_clear_error_and_nothing_is_created(
    data: dict[str, Any],
    message: str,
    cast: dict[str, User],
    client_for: Callable[..., Client],
    settings: Any,
) -> None:
    settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS = True
    settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE = False
    response = client_for(cast["admin"]).post("/webhooks/", data)
    assert response.status_code == 400
    assert "The endpoint was not created:" in response.text
    assert message in response.text
    assert not WebhookEndpoint.objects.exists()


def test_private_addresses_are_allowed_when_the_setting_says_so(
    cast: dict[str, User], client_for: Callable[..., Client], settings: Any
) -> None:
    settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS = False
    settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE = True
    response = client_for(cast["admin"]).post("/webhooks/", {"url": "http://crm.internal/hook"})
    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().url == "http://crm.internal/hook"


# Webhook endpoints: one endpoint, enable/disable, send test ------------------------------


def test_endpoint_page_lists_its_last_50_deliveries(
    cast: dict[str, User],
    endpoint: WebhookEndpoint,
    make_lead: Callable[..., Lead],
    client_for: Callable[..., Client],
    django_assert_num_queries: Any,
) -> None:
    lead = make_lead()
    other = WebhookEndpoint.objects.create(url="https://93.184.216.36/", secret="whsec_y")
    rows = [
        Outbox(
            channel=Outbox.Channel.WEBHOOK,
            endpoint=endpoint,
            lead=lead if n == 54 else None,
            event="lead.created",
            payload={},
            dedup_key=f"d{n}",
            status=Outbox.Status.DEAD if n == 54 else Outbox.Status.DELIVERED,
            attempts=8 if n == 54 else 1,
            created_at=T0 + timedelta(minutes=n),
            delivered_at=None if n == 54 else T0 + timedelta(minutes=n, seconds=1),
            last_status=500 if n == 54 else 204,
            last_error="HTTP 500 Internal Server Error: boom" if n == 54 else "",
        )
        for n in range(55)
    ]
    Outbox.objects.bulk_create(rows)
    Outbox.objects.create(
        channel=Outbox.Channel.WEBHOOK,
        endpoint=other,
        event="lead.other_endpoint",
        dedup_key="other",
        created_at=T0,
    )
    client = client_for(cast["admin"])
    with django_assert_num_queries(4):  # session, user, endpoint, deliveries
        page = client.get(f"/webhooks/{endpoint.pk}/").text
    body = page[page.index("Recent deliveries") :]
    assert body.count("<tr>") == 51  # the head and 50 rows
    assert "lead.other_endpoint" not in body
    newest = body.index("HTTP 500 Internal Server Error: boom")
    assert newest < body.index("HTTP 204")
    assert "Failed for good" in body and f'href="/leads/{lead.pk}/"' in body
    assert endpoint.secret in page and "Send test" in page


def test_send_test_queues_one_webhook_test_message_per_click(
    cast: dict[str, User], endpoint: WebhookEndpoint, client_for: Callable[..., Client]
) -> None:
    client = client_for(cast["admin"])
    for _ in range(2):
        response = client.post(f"/webhooks/{endpoint.pk}/test/")
        assert response.status_code == 302 and response["Location"] == f"/webhooks/{endpoint.pk}/"
    rows = list(Outbox.objects.order_by("pk"))
    assert len(rows) == 2
    for row in rows:
        assert (row.channel, row.event, row.status, row.endpoint_id, row.lead_id) == (
            "webhook",
            "webhook.test",
            "pending",
            endpoint.pk,
            None,
        )
        assert row.payload["type"] == "webhook.test" and row.payload["data"] == {}
        assert row.payload["timestamp"].startswith(str(timezone.now().year))
        assert row.next_attempt_at is not None and row.next_attempt_at <= timezone.now()
    assert rows[0].dedup_key != rows[1].dedup_key
    assert rows[0].message_id != rows[1].message_id
    page = client.get(f"/webhooks/{endpoint.pk}/").text
    assert page.count("<code>webhook.test</code>") == 2 and "A test message is queued" in page
    assert client.get(f"/webhooks/{endpoint.pk}/test/").status_code == 405


def test_a_disabled_endpoint_gets_no_test(
    cast: dict[str, User], endpoint: WebhookEndpoint, client_for: Callable[..., Client]
) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)
    client = client_for(cast["admin"])
    response = client.post(f"/webhooks/{endpoint.pk}/test/", follow=True)
    assert "Enable the endpoint before sending it a test." in response.text
    assert not Outbox.objects.exists()


def test_disabling_and_enabling_an_endpoint(
    cast: dict[str, User], endpoint: WebhookEndpoint, client_for: Callable[..., Client]
) -> None:
    Outbox.objects.create(
        channel=Outbox.Channel.WEBHOOK,
        endpoint=endpoint,
        event="lead.created",
        dedup_key="waiting",
        created_at=T0,
        next_attempt_at=T0,
    )
    client = client_for(cast["admin"])
    page = client.post(f"/webhooks/{endpoint.pk}/active/", {"active": "0"}, follow=True).text
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_reason.startswith("Disabled by admin on ")
    assert endpoint.disabled_reason in page and "nothing more is sent to it" in page
    assert Outbox.objects.get().status == Outbox.Status.CANCELLED  # not sent later
    assert 'name="active" value="1"' in page  # the button now enables
    client.post(f"/webhooks/{endpoint.pk}/active/", {"active": "1"})
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_reason == ""
    # A malformed switch changes nothing.
    page = client.post(f"/webhooks/{endpoint.pk}/active/", {"active": "maybe"}, follow=True).text
    assert "Choose whether to enable or disable the endpoint." in page
    endpoint.refresh_from_db()
    assert endpoint.active


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_the_worker_delivers_the_test_message_signed(
    cast: dict[str, User], client_for: Callable[..., Client], receiver: str, settings: Any
) -> None:
    settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS = False
    settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE = True
    client = client_for(cast["admin"])
    client.post("/webhooks/", {"url": receiver})
    endpoint = WebhookEndpoint.objects.get()
    client.post(f"/webhooks/{endpoint.pk}/test/")
    assert deliver_due() == 1
    [(headers, body)] = _Receiver.received
    row = Outbox.objects.get()
    assert row.status == Outbox.Status.DELIVERED and row.last_status == 204
    assert json.loads(body)["type"] == "webhook.test"
    key = base64.b64decode(endpoint.secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-id"] == row.message_id
    assert headers["webhook-signature"] == f"v1,{expected}"
    page = client.get(f"/webhooks/{endpoint.pk}/").text
    assert "Delivered" in page and "HTTP 204" in page


# Admin -----------------------------------------------------------------------------------


def test_admin_shows_notifications_and_outbox_read_only_and_checks_endpoint_urls(
    cast: dict[str, User], endpoint: WebhookEndpoint, settings: Any
) -> None:
    settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS = True
    settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE = False
    note(cast["sdr"], 1)
    root = User.objects.create_superuser("root", "root@agency.test", "pw-root-123!")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(root)
    for url in (
        "/admin/notify/notification/",
        "/admin/notify/outbox/",
        "/admin/notify/webhookendpoint/",
        f"/admin/notify/webhookendpoint/{endpoint.pk}/change/",
    ):
        assert client.get(url).status_code == 200, url
    assert client.get("/admin/notify/notification/add/").status_code == 403
    assert client.get("/admin/notify/outbox/add/").status_code == 403
    form = {"url": "https://127.0.0.1/x", "description": "", "active": "on"}
    response = client.post("/admin/notify/webhookendpoint/add/", form)
    assert response.status_code == 200 and "a loopback address" in response.text
    form["url"] = "https://93.184.216.40/x"
    assert client.post("/admin/notify/webhookendpoint/add/", form).status_code == 302
    added = WebhookEndpoint.objects.get(url="https://93.184.216.40/x")
    assert added.secret.startswith("whsec_") and added.events == []
