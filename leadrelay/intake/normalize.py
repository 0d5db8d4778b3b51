"""Normalising contact fields the way every intake path needs them."""

from __future__ import annotations

import os

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = os.environ.get("LEADRELAY_PHONE_REGION", "RU")


def normalize_email(raw: str) -> str:
    """Trimmed and lower-cased; the domain IDNA-normalised when the address is valid."""
    value = raw.strip()
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return value.lower()


def is_valid_email(raw: str) -> bool:
    try:
        validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 (``+79991234567``), or "" when it cannot be a phone number.

    For Russia a leading 8 is the trunk prefix: phonenumbers already reads
    ``8 (999) 123-45-67`` with region RU as +7 999 123-45-67.
    """
    value = raw.strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
