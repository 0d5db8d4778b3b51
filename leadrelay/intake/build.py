"""From a vendor submission to a lead: mapping, normalisation, duplicate detection.

Every intake path (vendor webhooks, manual entry, imports) ends here, so a lead looks
the same whichever door it came through.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q

from leadrelay.accounts.models import User
from leadrelay.catalog.models import Service, Source
from leadrelay.intake.mapping import map_fields
from leadrelay.intake.normalize import is_valid_email, normalize_email, normalize_phone
from leadrelay.intake.vendors import get_vendor
from leadrelay.intake.vendors.base import Parsed
from leadrelay.leads.models import Lead
from leadrelay.leads.transitions import NewLead, create_lead

DUPLICATE_WINDOW = timedelta(days=int(os.environ.get("LEADRELAY_DUPLICATE_WINDOW_DAYS", "90")))


@dataclass
class Contact:
    """A submission's contact fields before normalisation."""

    name: str = ""
    email: str = ""
    phone: str = ""
    company: str = ""
    website: str = ""
    message: str = ""
    attribution: dict[str, str] = field(default_factory=dict)
    consent: dict[str, str] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)


def normalize_contact(c: Contact, region: str | None = None) -> tuple[dict[str, str], list[str]]:
    """Normalised email and phone, and what a human should review."""
    problems: list[str] = []
    email = normalize_email(c.email)
    if email and not is_valid_email(email):
        problems.append("email_invalid")
    phone = normalize_phone(c.phone, region) if region else normalize_phone(c.phone)
    if c.phone.strip() and not phone:
        problems.append("phone_invalid")
        phone = ""
    if not (email and "email_invalid" not in problems) and not phone:
        problems.append("no_contact")
    return {"email": email, "phone": phone}, problems


def find_duplicate(email: str, phone: str, received_at: datetime) -> Lead | None:
    """The earliest lead of the same person (email or phone) within the window."""
    match = Q()
    if email:
        match |= Q(email=email)
    if phone:
        match |= Q(phone=phone)
    if not match:
        return None
    return (
        Lead.objects.filter(match, received_at__gte=received_at - DUPLICATE_WINDOW)
        .filter(duplicate_of__isnull=True)
        .order_by("received_at", "id")
        .only("id")
        .first()
    )


def prepare(
    c: Contact, *, source: Source | None, service: Service | None, received_at: datetime
) -> NewLead:
    """Normalise a submission and find the lead it duplicates: reads only, so intake
    runs it before taking the write transaction."""
    cleaned, problems = normalize_contact(c)
    return NewLead(
        name=c.name.strip(),
        email=cleaned["email"],
        phone=cleaned["phone"],
        company=c.company,
        website=c.website.strip(),
        message=c.message,
        attribution={k: v for k, v in c.attribution.items() if v not in ("", None)},
        service=service,
        source=source,
        received_at=received_at,
        consent=dict(c.consent),
        extra=dict(c.extra),
        review=problems,
        duplicate_of=find_duplicate(cleaned["email"], cleaned["phone"], received_at),
    )


def create_from_contact(
    c: Contact,
    *,
    source: Source | None,
    service: Service | None,
    received_at: datetime,
    now: datetime,
    actor: User | None = None,
) -> Lead:
    new = prepare(c, source=source, service=service, received_at=received_at)
    return create_lead(new, actor=actor, now=now)


def prepare_parsed(source: Source, item: Parsed, *, received_at: datetime) -> NewLead:
    vendor = get_vendor(source.kind)
    mapped = map_fields(item, vendor.default_mapping, dict(source.mapping or {}))
    name = mapped.name or " ".join(p for p in (mapped.first_name, mapped.last_name) if p)
    contact = Contact(
        name=name,
        email=mapped.email,
        phone=mapped.phone,
        company=mapped.company,
        website=mapped.website,
        message=mapped.message,
        attribution=dict(mapped.attribution),
        consent=dict(mapped.consent),
        extra=dict(mapped.extra),
    )
    return prepare(contact, source=source, service=source.default_service, received_at=received_at)


def lead_from_parsed(source: Source, item: Parsed, *, received_at: datetime, now: datetime) -> Lead:
    return create_lead(prepare_parsed(source, item, received_at=received_at), now=now)
