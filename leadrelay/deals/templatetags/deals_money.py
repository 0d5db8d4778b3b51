"""Money on the page: grouped and with the decimal mark of the user's language, and the
currency's sign ("150 000,00 ₽" in Russian, "150,000.00 ₽" in English)."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()

SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "KZT": "₸", "BYN": "Br"}


@register.filter
def money(value: Decimal | int | None, currency: str = "") -> str:
    if value is None or value == "":
        return "—"
    shown = number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)
    sign = SIGNS.get(currency, currency)
    return f"{shown}\u00a0{sign}" if sign else shown
