"""The demo's intake: today's deliveries go through the real receiver."""

from __future__ import annotations

import random

import pytest

from leadrelay.catalog.models import Source
from leadrelay.intake.demo import load_intake_demo
from leadrelay.intake.models import Delivery, RejectionCounter
from leadrelay.leads.models import Lead

pytestmark = pytest.mark.django_db


def test_demo_intake_shows_leads_a_redelivery_a_refusal_and_a_pending_meta_lead() -> None:
    for kind in ("form", "tilda", "api", "meta"):
        Source.objects.create(kind=kind, name=f"demo {kind}")
    load_intake_demo(random.Random(1))
    assert Delivery.objects.filter(status="processed").count() == 6
    assert Lead.objects.filter(deliveries__isnull=False).count() == 6
    assert Delivery.objects.filter(source__kind="tilda").count() == 1  # the retry was a no-op
    assert RejectionCounter.objects.get().reason == "honeypot"
    meta = Delivery.objects.get(source__kind="meta")
    assert meta.status == "pending" and meta.lead is None
    gclids = [lead.attribution.get("gclid") for lead in Lead.objects.all()]
    assert all(g in (None, "EAIaIQ-x+Y/z") for g in gclids)
