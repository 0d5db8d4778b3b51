"""The intake endpoint: stored before 2xx, redeliveries are no-ops, bad calls store nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from leadrelay.catalog.models import Source
from leadrelay.intake.models import Delivery, RejectionCounter
from leadrelay.leads.models import Lead

pytestmark = pytest.mark.django_db


def _typeform_body(token: str = "tok-1") -> bytes:
    return json.dumps(
        {
            "event_id": "ev-" + token,
            "event_type": "form_response",
            "form_response": {
                "form_id": "abc",
                "token": token,
                "submitted_at": "2026-11-20T10:00:00Z",
                "hidden": {"utm_source": "yandex", "gclid": "EAIaIQobChMI-_x+Y/z=="},
                "definition": {"fields": []},
                "answers": [
                    {
                        "type": "text",
                        "text": "Анна-Мария О'Нил",
                        "field": {"id": "f1", "type": "short_text", "ref": "name"},
                    },
                    {
                        "type": "email",
                        "email": " Anna.ONeil@Example.RU ",
                        "field": {"id": "f2", "type": "email", "ref": "email"},
                    },
                    {
                        "type": "phone_number",
                        "phone_number": "+7 (999) 123-45-67",
                        "field": {"id": "f3", "type": "phone_number", "ref": "phone"},
                    },
                ],
            },
        },
        ensure_ascii=False,
    ).encode()


def _sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


@pytest.fixture
def typeform() -> Source:
    return Source.objects.create(kind="typeform", name="Typeform brief", secret="s3cret")


def _post(source: Source, body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Typeform-Signature": signature} if signature else {}
    r = Client().post(f"/in/{source.key}/", body, content_type="application/json", headers=headers)
    return r.status_code, r.json()


def test_a_signed_delivery_is_stored_and_becomes_a_normalised_lead(typeform: Source) -> None:
    body = _typeform_body()
    status, reply = _post(typeform, body, _sign("s3cret", body))
    assert status == 200
    lead = Lead.objects.get(pk=reply["lead"])
    assert lead.status == "new"
    assert lead.email == "anna.oneil@example.ru"
    assert lead.phone == "+79991234567"
    assert lead.name == "Анна-Мария О'Нил"
    assert lead.attribution["gclid"] == "EAIaIQobChMI-_x+Y/z=="
    delivery = Delivery.objects.get()
    assert delivery.lead == lead and delivery.status == "processed"
    assert bytes(delivery.body) == body


def test_a_redelivery_of_the_same_event_answers_with_the_original_lead(typeform: Source) -> None:
    body = _typeform_body()
    _, first = _post(typeform, body, _sign("s3cret", body))
    status, again = _post(typeform, body, _sign("s3cret", body))
    assert status == 200
    assert again["lead"] == first["lead"] and again["duplicate"] is True
    assert Lead.objects.count() == 1 and Delivery.objects.count() == 1


@pytest.mark.parametrize("signature", [None, "sha256=AAAA", _sign("wrong", b"x")])
def test_a_bad_or_missing_signature_is_401_and_stores_nothing(
    typeform: Source, signature: str | None
) -> None:
    status, reply = _post(typeform, _typeform_body(), signature)
    assert status == 401 and reply["code"] == "unauthorized"
    assert not Lead.objects.exists() and not Delivery.objects.exists()


def test_a_malformed_body_is_refused_with_json_and_stores_nothing(typeform: Source) -> None:
    body = b"{not json"
    status, reply = _post(typeform, body, _sign("s3cret", body))
    assert status in (400, 422) and "code" in reply
    assert not Lead.objects.exists() and not Delivery.objects.exists()


def test_an_oversized_body_is_413(typeform: Source, settings: object) -> None:
    settings.LEADRELAY_INTAKE_MAX_BYTES = 100  # type: ignore[attr-defined]
    body = _typeform_body()
    status, reply = _post(typeform, body, _sign("s3cret", body))
    assert status == 413 and reply["code"] == "too_large"
    assert not Delivery.objects.exists()


def test_an_unknown_source_key_is_404() -> None:
    r = Client().post("/in/nope/", b"{}", content_type="application/json")
    assert r.status_code == 404 and r.json()["code"] == "unknown_source"


def test_the_tilda_connection_ping_answers_200_without_a_lead() -> None:
    source = Source.objects.create(kind="tilda", name="Tilda", secret="tildatoken")
    r = Client().post(f"/in/{source.key}/?token=tildatoken", {"test": "test"})
    assert r.status_code == 200
    assert not Lead.objects.exists() and not Delivery.objects.exists()


def test_a_honeypot_submission_is_counted_and_stores_nothing() -> None:
    from leadrelay.intake.vendors import form

    source = Source.objects.create(kind="form", name="Site form")
    field = form.DEFAULT_HONEYPOT
    r = Client().post(
        f"/in/{source.key}/", {"name": "Bot", "email": "b@x.ru", field: "http://spam"}
    )
    assert r.status_code == 200
    assert not Lead.objects.exists() and not Delivery.objects.exists()
    assert RejectionCounter.objects.get(source=source).count == 1


def test_a_submission_without_email_or_phone_is_kept_and_flagged_for_review() -> None:
    source = Source.objects.create(kind="form", name="Site form")
    r = Client().post(f"/in/{source.key}/", {"name": "Только имя", "message": "Перезвоните"})
    assert r.status_code == 200
    lead = Lead.objects.get()
    assert "no_contact" in lead.review and lead.message == "Перезвоните"


def test_the_same_person_within_the_window_is_linked_as_a_duplicate() -> None:
    source = Source.objects.create(kind="form", name="Site form")
    Client().post(f"/in/{source.key}/", {"name": "Олег", "email": "oleg@firma.ru"})
    Client().post(f"/in/{source.key}/", {"name": "Олег", "email": "OLEG@firma.ru "})
    first, second = Lead.objects.order_by("id")
    assert second.duplicate_of == first


def test_calls_over_the_per_ip_rate_limit_are_429_and_store_nothing(settings: object) -> None:
    settings.LEADRELAY_INTAKE_RATE_PER_MINUTE = 3  # type: ignore[attr-defined]
    source = Source.objects.create(kind="form", name="Site form")
    codes = [
        Client().post(f"/in/{source.key}/", {"name": "Вера", "email": f"v{i}@x.ru"}).status_code
        for i in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]
    assert Lead.objects.count() == 3


def test_signed_vendor_deliveries_are_not_held_to_the_per_ip_limit(
    typeform: Source, settings: object
) -> None:
    settings.LEADRELAY_INTAKE_RATE_PER_MINUTE = 1  # type: ignore[attr-defined]
    for token in ("a", "b", "c"):
        body = _typeform_body(token)
        assert _post(typeform, body, _sign("s3cret", body))[0] == 200
    assert Lead.objects.count() == 3
