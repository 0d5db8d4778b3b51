"""Helpers for tests that walk leads along their path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service
from leadrelay.deals.models import Contract, Payment, Proposal
from leadrelay.leads.models import Lead
from leadrelay.leads.statuses import Status
from leadrelay.leads.transitions import MoveOptions, move_lead
from leadrelay.presale.models import Brief, Demo
from leadrelay.qualify import fields as qf
from leadrelay.qualify.answers import questionnaires_for
from leadrelay.qualify.models import Answers, Bant, NeedCategory

_SAMPLE = {
    qf.FieldType.TEXT: "text",
    qf.FieldType.LONG_TEXT: "long text",
    qf.FieldType.NUMBER: "3",
    qf.FieldType.MONEY: {"amount": "150000.00", "currency": "RUB"},
    qf.FieldType.DATE: "2027-01-15",
    qf.FieldType.YES_NO: True,
    qf.FieldType.REGION: "Москва",
}


def qualify(lead: Lead) -> Lead:
    """Give ``lead`` a service, a complete BANT and every required answer, written
    directly (no events): the state an SDR leaves before handing off."""
    if lead.service_id is None:
        service = Service.objects.order_by("pk").first() or Service.objects.create(
            code="test-service", name_en="Test service", name_ru="Тестовая услуга"
        )
        Lead.objects.filter(pk=lead.pk).update(service=service)
        lead.service = service
    now = timezone.now()
    Bant.objects.update_or_create(
        lead=lead,
        defaults={
            "budget_amount": Decimal("500000"),
            "currency": "RUB",
            "authority_role": "CEO",
            "decision_maker": True,
            "need": NeedCategory.objects.order_by("pk").first(),
            "need_text": "More leads",
            "timeframe_date": date(2027, 1, 15),
            "updated_at": now,
        },
    )
    for q in questionnaires_for(lead):
        version = q.current()
        if version is None:
            continue
        values: dict[str, Any] = {}
        for f in qf.fields_of(version.fields):
            if f.type in qf.CHOICE_TYPES:
                first = f.choices[0][0]
                values[f.key] = first if f.type == qf.FieldType.CHOICE else [first]
            else:
                values[f.key] = _SAMPLE[qf.FieldType(f.type)]
        Answers.objects.update_or_create(
            lead=lead,
            questionnaire=q,
            defaults={"version": version, "values": values, "updated_at": now},
        )
    return lead


def prepare(lead: Lead, actor: User, target: str) -> None:
    """Write directly (no events) what the sales-side gate of a move to ``target`` needs:
    a filled brief, a held demo, an accepted proposal, a contract with a payment."""
    now = timezone.now()
    if (
        target == Status.BRIEF_FILLED
        and not Brief.objects.filter(lead=lead, filled_at__isnull=False).exists()
    ):
        service = lead.service or Service.objects.order_by("pk").first()
        assert service is not None
        Brief.objects.create(
            lead=lead,
            service=service,
            created_at=now,
            created_by=actor,
            filled_at=now,
            filled_via=Brief.Via.CALL,
            filled_by=actor,
        )
    if target == Status.PROPOSAL and not Demo.objects.filter(lead=lead, state="held").exists():
        Demo.objects.create(
            lead=lead,
            starts_at=now,
            format=Demo.Format.ONLINE,
            state=Demo.State.HELD,
            created_at=now,
            created_by=actor,
            updated_at=now,
        )
    if (
        target == Status.CONTRACT
        and not Proposal.objects.filter(lead=lead, state="accepted").exists()
    ):
        version = Proposal.objects.filter(lead=lead).count() + 1
        Proposal.objects.create(
            lead=lead,
            version=version,
            amount=Decimal("300000"),
            state=Proposal.State.ACCEPTED,
            created_at=now,
            created_by=actor,
        )
    if target == Status.CONVERTED:
        contract = Contract.objects.filter(lead=lead).first() or Contract.objects.create(
            lead=lead,
            number=f"T-{lead.pk}",
            kind=Contract.Kind.ONE_OFF,
            signed_on=now.date(),
            starts_on=now.date(),
            value=Decimal("300000"),
            created_at=now,
            created_by=actor,
            updated_at=now,
        )
        if not Payment.objects.filter(contract=contract).exists():
            Payment.objects.create(
                contract=contract,
                lead=lead,
                paid_on=now.date(),
                amount=Decimal("300000"),
                currency="RUB",
                period_start=now.date(),
                period_end=now.date(),
                created_at=now,
                created_by=actor,
            )


def default_code(actor: User, source: str, target: str) -> str:
    """The reason code a move needs, if it needs one (disqualify, a return by sales)."""
    if target == Status.DISQUALIFIED:
        return "spam"
    if target == Status.LOST:
        return "price"
    if (
        target == Status.SDR_PROCESSING
        and source in (Status.AWAITING_ASSIGNMENT, Status.ASSIGNED, Status.DISCUSSION)
        and actor.role in ("sales", "head_sales")
    ):
        return "not_qualified"
    return ""


def walk(lead: Lead, actor: User, *path: str, reason: str = "", **options: Any) -> Lead:
    """Move ``lead`` through ``path`` as ``actor`` (reason used where one is needed);
    the lead is qualified before a hand-off, has what each sales step needs (``prepare``)
    and gets a reason code where one is needed."""
    for status in path:
        if status == Status.AWAITING_ASSIGNMENT and lead.status == Status.SDR_PROCESSING:
            qualify(lead)
        prepare(lead, actor, status)
        opts = dict(options)
        opts.setdefault("reason_code", default_code(actor, lead.status, status))
        lead = move_lead(
            actor,
            lead.pk,
            status,
            version=lead.version,
            reason=reason or "test",
            options=MoveOptions(**opts),
        )
    return lead
