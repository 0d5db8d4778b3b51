"""Today's intake for the demo: real deliveries through the real receiver.

The bulk demo writes a year of leads straight into the tables; this adds what the
intake pages show on first start: raw deliveries from the web form, Tilda and the API
(each becoming a `new` lead with its UTM tags), a vendor redelivery that changed
nothing, a honeypot refusal counted, and a Meta lead still waiting for its Graph API
fetch (the demo has no Meta token, so the worker's attempts fail and it shows as
failed with the reason: exactly what an admin must learn to read).
"""

from __future__ import annotations

import json
import random
import time
from urllib.parse import urlencode

from leadrelay.catalog.models import Source
from leadrelay.intake.receive import receive
from leadrelay.intake.vendors import form
from leadrelay.intake.vendors.base import RawDelivery

_PEOPLE = (
    ("Марина Ковалёва", "M.Kovaleva@Stroy-Invest.ru", "8 (916) 204-11-38", "ООО «Строй-Инвест»"),
    ("Дмитрий Орлов", "orlov@autodetal.ru", "+7 903 555 12 40", "Автодеталь"),
    ("Olga Brandt", "o.brandt@northwind.de", "+49 30 901820", "Northwind GmbH"),
    ("Игорь Савин", "", "+7 (921) 700-00-15", "Клиника «Здоровье+»"),
    ("Анна Левина", "anna@levina-design.ru", "", "Студия Левиной"),
    ("Сергей Пак", "pak@logistic-pro.ru", "+7 999 310 77 21", "Логистик Про & Ко"),
)
_UTM = (
    {"utm_source": "yandex", "utm_medium": "cpc", "utm_campaign": "seo_spb"},
    {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "ppc_brand",
        "gclid": "EAIaIQ-x+Y/z",
    },
    {"utm_source": "vk", "utm_medium": "social", "utm_campaign": "smm_autumn"},
)


def _raw(method: str, body: bytes, content_type: str, **headers: str) -> RawDelivery:
    return RawDelivery(
        method=method,
        path="/in/demo/",
        query={},
        headers={k.replace("_", "-").lower(): v for k, v in headers.items()},
        body=body,
        content_type=content_type,
        received_at=time.time(),
    )


def _form_post(fields: dict[str, str]) -> RawDelivery:
    return _raw("POST", urlencode(fields).encode(), "application/x-www-form-urlencoded")


def load_intake_demo(rng: random.Random) -> int:
    """Send today's demo submissions through ``receive``; returns deliveries stored."""
    stored = 0
    by_kind = {s.kind: s for s in Source.objects.filter(active=True).order_by("pk")}
    site = by_kind.get("form")
    if site is not None:
        for name, email, phone, company in _PEOPLE[:4]:
            utm = rng.choice(_UTM)
            fields = {"name": name, "email": email, "phone": phone, "company": company}
            fields["message"] = "Нужна консультация по продвижению.\nБюджет обсудим."
            fields["landing_url"] = "https://agency.example/seo?" + urlencode(utm)
            stored += len(receive(site, _form_post(fields), "203.0.113.7").lead_ids)
        bot = {"name": "Casino", "email": "win@spam.example", form.DEFAULT_HONEYPOT: "http://x"}
        receive(site, _form_post(bot), "198.51.100.66")
    tilda = by_kind.get("tilda")
    if tilda is not None:
        name, email, phone, company = _PEOPLE[4]
        fields = {"Name": name, "Email": email, "Phone": phone, "tranid": "8124331:1730011"}
        fields.update(rng.choice(_UTM))
        raw = RawDelivery(
            method="POST",
            path="/in/demo/",
            query={"token": [tilda.secret]},
            headers={},
            body=urlencode(fields).encode(),
            content_type="application/x-www-form-urlencoded",
            received_at=time.time(),
        )
        stored += len(receive(tilda, raw, "185.165.123.36").lead_ids)
        receive(tilda, raw, "185.165.123.36")  # Tilda's retry: a no-op
    api = by_kind.get("api")
    if api is not None:
        name, email, phone, company = _PEOPLE[5]
        body = json.dumps(
            {
                "name": name,
                "email": email,
                "phone": phone,
                "company": company,
                "utm_source": "partner",
            },
            ensure_ascii=False,
        ).encode()
        raw = _raw(
            "POST",
            body,
            "application/json",
            authorization=f"Bearer {api.secret}",
            idempotency_key="calc-2026-11-26-0042",
        )
        stored += len(receive(api, raw, "192.0.2.10").lead_ids)
    meta = by_kind.get("meta")
    if meta is not None:
        import hashlib
        import hmac

        change = {"leadgen_id": "9000000000001", "page_id": "4242", "form_id": "77", "ad_id": "1"}
        body = json.dumps(
            {"object": "page", "entry": [{"id": "4242", "time": int(time.time()),
                                         "changes": [{"field": "leadgen", "value": change}]}]}
        ).encode()  # fmt: skip
        signature = hmac.new(meta.secret.encode(), body, hashlib.sha256).hexdigest()
        raw = _raw("POST", body, "application/json", x_hub_signature_256=f"sha256={signature}")
        receive(meta, raw, "31.13.64.1")
        stored += 1
    return stored
