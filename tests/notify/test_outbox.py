"""The outbox: queued with the change, delivered after commit, retried, dead-lettered."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import close_old_connections, connection, transaction
from standardwebhooks.webhooks import Webhook

from leadrelay.accounts.models import User
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import NewLead, create_lead
from leadrelay.notify import outbox
from leadrelay.notify.channels import WEBHOOK_RETRY_SCHEDULE, new_webhook_secret
from leadrelay.notify.models import Notification, Outbox, WebhookEndpoint
from tests.factories import walk
from tests.notify.receiver import Receiver

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def private_receivers(settings: object) -> None:
    settings.LEADRELAY_WEBHOOK_ALLOW_PRIVATE = True  # type: ignore[attr-defined]
    settings.LEADRELAY_WEBHOOK_REQUIRE_HTTPS = False  # type: ignore[attr-defined]


def endpoint(url: str, events: list[str] | None = None) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, secret=new_webhook_secret(), events=events or [])


def new_lead(email: str = "irina@example.ru") -> Lead:
    return create_lead(NewLead(name="Ирина", email=email, received_at=T0), now=T0)


def webhooks() -> list[Outbox]:
    return list(Outbox.objects.filter(channel=Outbox.Channel.WEBHOOK).order_by("pk"))


@pytest.mark.django_db
def test_a_change_queues_its_events_and_a_rolled_back_one_queues_nothing(
    cast: dict[str, User],
) -> None:
    endpoint("https://a.example.com/hook")
    endpoint("https://b.example.com/hook", events=["lead.status_changed"])
    with pytest.raises(RuntimeError), transaction.atomic():
        new_lead("gone@example.ru")
        raise RuntimeError
    assert not Outbox.objects.exists()

    lead = new_lead()
    assert [r.event for r in webhooks()] == ["lead.created"]  # only "all events" wants it
    walk(lead, cast["sdr"], "sdr_processing")
    events = [(r.endpoint.url, r.event) for r in webhooks()[1:]]  # type: ignore[union-attr]
    assert sorted(events) == [
        ("https://a.example.com/hook", "lead.owner_changed"),
        ("https://a.example.com/hook", "lead.status_changed"),
        ("https://b.example.com/hook", "lead.status_changed"),
    ]
    row = Outbox.objects.get(event="lead.owner_changed")
    assert row.payload["data"]["sdr"] == {"from": None, "to": cast["sdr"].pk}


@pytest.mark.django_db
def test_a_delivered_webhook_verifies_with_the_standard_library(receiver: Receiver) -> None:
    hook = endpoint(receiver.url + "/in")
    lead = new_lead()
    assert outbox.deliver_due(now=T0) == 1
    (request,) = receiver.requests
    row = Outbox.objects.get()
    assert request.headers["webhook-id"] == row.message_id
    payload = Webhook(hook.secret).verify(request.body, request.headers)
    assert payload["type"] == "lead.created" and payload["data"]["lead"]["id"] == lead.pk
    assert (row.status, row.attempts, row.last_status, row.delivered_at) == (
        Outbox.Status.DELIVERED,
        1,
        200,
        T0,
    )
    assert outbox.deliver_due(now=T0 + timedelta(hours=1)) == 0


@pytest.mark.django_db
def test_failures_are_retried_on_the_schedule_then_dead_lettered(
    cast: dict[str, User], receiver: Receiver
) -> None:
    endpoint(receiver.url)
    new_lead()
    receiver.answer(500, b"down")
    now = T0
    for attempt, delay in enumerate(WEBHOOK_RETRY_SCHEDULE, start=1):
        assert outbox.deliver_due(now=now) == 1
        row = Outbox.objects.get()
        assert (row.status, row.attempts, row.last_status) == ("pending", attempt, 500)
        assert row.next_attempt_at is not None
        wait = (row.next_attempt_at - now).total_seconds()
        assert 0.8 * delay <= wait <= 1.2 * delay  # the schedule, with jitter
        assert outbox.deliver_due(now=now) == 0  # not before its time
        now = row.next_attempt_at
    assert outbox.deliver_due(now=now) == 1
    (row,) = webhooks()
    assert (row.status, row.attempts) == (Outbox.Status.DEAD, len(WEBHOOK_RETRY_SCHEDULE) + 1)
    alert = Notification.objects.get(kind=Notification.Kind.WEBHOOK_DEAD)
    assert alert.user == cast["admin"] and alert.data["url"] == receiver.url
    assert len(receiver.requests) == len(WEBHOOK_RETRY_SCHEDULE) + 1
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1


@pytest.mark.django_db
def test_retry_after_is_honoured(receiver: Receiver) -> None:
    endpoint(receiver.url)
    new_lead()
    receiver.answer(429, Retry_After="900")
    outbox.deliver_due(now=T0)
    row = Outbox.objects.get()
    assert row.next_attempt_at is not None and row.next_attempt_at >= T0 + timedelta(seconds=900)


@pytest.mark.django_db
def test_410_disables_the_endpoint_and_tells_the_admins(
    cast: dict[str, User], receiver: Receiver
) -> None:
    hook = endpoint(receiver.url)
    new_lead()
    new_lead("second@example.ru")
    receiver.answer(410)
    outbox.deliver_due(now=T0)
    hook.refresh_from_db()
    assert not hook.active and "410" in hook.disabled_reason
    assert {r.status for r in webhooks()} == {Outbox.Status.CANCELLED}
    assert Notification.objects.filter(kind=Notification.Kind.WEBHOOK_DISABLED).count() == 1
    new_lead("third@example.ru")
    assert len(webhooks()) == 2  # a disabled endpoint gets nothing new


@pytest.mark.django_db
def test_a_claimed_row_is_leased(receiver: Receiver) -> None:
    endpoint(receiver.url)
    new_lead()
    assert len(outbox.claim(T0)) == 1
    assert outbox.claim(T0) == []  # another worker finds it taken
    assert outbox.claim(T0 + outbox.LEASE - timedelta(seconds=1)) == []
    assert len(outbox.claim(T0 + outbox.LEASE)) == 1  # the first worker died: taken over


@pytest.mark.django_db
def test_a_person_is_told_by_email(cast: dict[str, User]) -> None:
    lead = new_lead()
    with transaction.atomic():
        outbox.notify(
            [cast["sdr"]],
            Notification.Kind.SLA_BREACH,
            dedup_key="t",
            now=T0,
            lead=lead,
            data={"clock": "first_contact", "due_local": "2026-03-02 12:30"},
        )
        outbox.notify([cast["sdr"]], Notification.Kind.SLA_BREACH, dedup_key="t", now=T0)
    assert Notification.objects.count() == 1  # the same cause tells nobody twice
    assert outbox.deliver_due(now=T0) == 1
    (message,) = mail.outbox
    assert message.to == ["sdr@agency.test"]
    assert str(lead.pk) in message.subject


@pytest.mark.django_db
def test_telegram_goes_to_the_users_chat(
    cast: dict[str, User], receiver: Receiver, settings: object
) -> None:
    settings.LEADRELAY_TELEGRAM_API = receiver.url  # type: ignore[attr-defined]
    settings.LEADRELAY_TELEGRAM_BOT_TOKEN = "123456:ABC-def"  # type: ignore[attr-defined]
    User.objects.filter(pk=cast["sdr"].pk).update(telegram_chat_id="4242", email="")
    cast["sdr"].refresh_from_db()
    receiver.answer(200, b'{"ok": true, "result": {}}')
    outbox.notify([cast["sdr"]], Notification.Kind.SLA_WARNING, dedup_key="tg", now=T0)
    assert outbox.deliver_due(now=T0) == 1
    (request,) = receiver.requests
    assert request.path == "/bot123456:ABC-def/sendMessage"
    assert json.loads(request.body)["chat_id"] == "4242"
    assert Outbox.objects.get().status == Outbox.Status.DELIVERED


@pytest.mark.django_db(transaction=True)
def test_two_workers_deliver_every_message_once(receiver: Receiver) -> None:
    endpoint(receiver.url)
    for i in range(60):
        new_lead(f"m{i}@example.ru")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        try:
            barrier.wait(timeout=30)
            while outbox.deliver_due(now=T0):
                pass
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert len(ids) == len(set(ids)) == 60
    assert set(Outbox.objects.values_list("status", flat=True)) == {Outbox.Status.DELIVERED}
