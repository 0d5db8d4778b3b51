"""Reading money, currencies and dates the way people type them, for proposals,
contracts, payments and their CSV import.

Each reader raises ``ValueError`` with a message meant for the user; the record
functions collect those per field into one ``InvalidInput``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from leadrelay.deals.models import CURRENCIES

CURRENCY_CODES = tuple(code for code, _label in CURRENCIES)
# Fourteen digits with two after the point: what ``money()`` columns hold.
MONEY_LIMIT = Decimal("1e12")
CENT = Decimal("0.01")


def amount(value: Any, *, positive: bool = False) -> Decimal:
    """A money amount from a number or text ("150 000,50", "150000.50"): at most two
    decimals, not negative (and above zero when ``positive``)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(_("Enter an amount."))
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(str(value))
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        if not text:
            raise ValueError(_("Enter an amount."))
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValueError(_("Enter an amount as a number, e.g. 150000.00.")) from None
    if not number.is_finite():
        raise ValueError(_("Enter an amount as a number, e.g. 150000.00."))
    # Sign and size before the cents: quantize() cannot round a number this long.
    if positive and number <= 0:
        raise ValueError(_("The amount must be greater than zero."))
    if number < 0:
        raise ValueError(_("An amount cannot be negative."))
    if number >= MONEY_LIMIT:
        raise ValueError(_("At most 999,999,999,999.99."))
    if number != number.quantize(CENT):
        raise ValueError(_("An amount has at most two decimals."))
    return number.quantize(CENT)


def currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if code not in CURRENCY_CODES:
        raise ValueError(_("Choose a currency: %(codes)s.") % {"codes": ", ".join(CURRENCY_CODES)})
    return code


def day(value: Any) -> date:
    """A date as YYYY-MM-DD or DD.MM.YYYY (how a Russian bank export writes it)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError(_("Enter a date."))
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(_("Enter a date as YYYY-MM-DD or DD.MM.YYYY."))


def optional_day(value: Any) -> date | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return day(value)


def text(value: Any, limit: int) -> str:
    found = str(value or "").strip()
    if len(found) > limit:
        raise ValueError(_("At most %(n)s characters.") % {"n": limit})
    return found


def plain(value: Decimal) -> str:
    """Money as events store it: "150000.00"."""
    return f"{value.quantize(CENT):f}"


class Fields:
    """Collects each field's cleaned value or its error: ``fields.get("amount", amount,
    raw)`` returns the value, or None with the message kept under ``"amount"``."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def get(self, name: str, reader: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return reader(*args, **kwargs)
        except ValueError as exc:
            self.errors.setdefault(name, str(exc))
            return None

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)
