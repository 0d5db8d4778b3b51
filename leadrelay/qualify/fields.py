"""Questionnaire field types: what an admin may define and how an answer is checked.

A field definition is plain data (stored in ``QuestionnaireVersion.fields``); answers are
stored as JSON: text as a string, numbers and money amounts as decimal strings (never
floats), dates as ISO strings, choices as their ``value``s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

CURRENCIES = ("RUB", "USD", "EUR", "KZT", "BYN", "CNY", "AED")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_TEXT = 300
MAX_LONG_TEXT = 4000


class FieldType(models.TextChoices):
    TEXT = "text", gettext_lazy("Text")
    LONG_TEXT = "long_text", gettext_lazy("Long text")
    NUMBER = "number", gettext_lazy("Number")
    MONEY = "money", gettext_lazy("Money")
    CHOICE = "choice", gettext_lazy("Single choice")
    MULTI_CHOICE = "multi_choice", gettext_lazy("Multiple choice")
    DATE = "date", gettext_lazy("Date")
    YES_NO = "yes_no", gettext_lazy("Yes / no")
    REGION = "region", gettext_lazy("Region")


CHOICE_TYPES = (FieldType.CHOICE, FieldType.MULTI_CHOICE)

# Suggestions for a region answer; any region may be typed.
REGIONS = (
    ("Москва", "Moscow"),
    ("Московская область", "Moscow Region"),
    ("Санкт-Петербург", "Saint Petersburg"),
    ("Вся Россия", "All of Russia"),
    ("Новосибирск", "Novosibirsk"),
    ("Екатеринбург", "Yekaterinburg"),
    ("Казань", "Kazan"),
    ("СНГ", "CIS"),
    ("Весь мир", "Worldwide"),
)


def _ru() -> bool:
    return (get_language() or "").startswith("ru")


@dataclass(frozen=True)
class Field:
    key: str
    type: str
    label_en: str
    label_ru: str
    required: bool = False
    help_en: str = ""
    help_ru: str = ""
    choices: tuple[tuple[str, str, str], ...] = ()  # (value, label_en, label_ru)

    @classmethod
    def of(cls, data: dict[str, Any]) -> Field:
        return cls(
            key=str(data["key"]),
            type=str(data["type"]),
            label_en=str(data.get("label_en") or data["key"]),
            label_ru=str(data.get("label_ru") or data.get("label_en") or data["key"]),
            required=bool(data.get("required")),
            help_en=str(data.get("help_en") or ""),
            help_ru=str(data.get("help_ru") or ""),
            choices=tuple(
                (
                    str(c["value"]),
                    str(c.get("label_en") or c["value"]),
                    str(c.get("label_ru") or c.get("label_en") or c["value"]),
                )
                for c in data.get("choices") or []
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "key": self.key,
            "type": self.type,
            "label_en": self.label_en,
            "label_ru": self.label_ru,
            "required": self.required,
            "help_en": self.help_en,
            "help_ru": self.help_ru,
        }
        if self.type in CHOICE_TYPES:
            data["choices"] = [
                {"value": v, "label_en": en, "label_ru": ru} for v, en, ru in self.choices
            ]
        return data

    @property
    def label(self) -> str:
        return self.label_ru if _ru() else self.label_en

    @property
    def help(self) -> str:
        return (self.help_ru or self.help_en) if _ru() else self.help_en

    def choice_label(self, value: str) -> str:
        for v, en, ru in self.choices:
            if v == value:
                return ru if _ru() else en
        return value

    @property
    def choice_options(self) -> list[tuple[str, str]]:
        return [(v, ru if _ru() else en) for v, en, ru in self.choices]


def fields_of(data: list[dict[str, Any]]) -> list[Field]:
    return [Field.of(d) for d in data]


def check_definition(fields: list[Field]) -> dict[str, str]:
    """Errors in a questionnaire an admin wrote, by field key (``""`` for the whole)."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for f in fields:
        if not KEY_RE.match(f.key):
            errors[f.key or ""] = _(
                "A key is lower-case Latin letters, digits and _, starting with a letter."
            )
        elif f.key in seen:
            errors[f.key] = _("The key “%(key)s” is used twice.") % {"key": f.key}
        seen.add(f.key)
        if f.type not in FieldType.values:
            errors[f.key] = _("Unknown field type “%(type)s”.") % {"type": f.type}
        elif f.type in CHOICE_TYPES:
            values = [v for v, _en, _ru in f.choices]
            if any(not v.strip() for v in values):
                errors[f.key] = _("Every option needs a value.")
            elif not values:
                errors[f.key] = _("A choice field needs at least one option.")
            elif len(set(values)) != len(values):
                errors[f.key] = _("Two options have the same value.")
        if not f.label_en.strip() and not f.label_ru.strip():
            errors[f.key] = _("Every field needs a label.")
    return errors


class AnswerError(ValueError):
    pass


def _empty(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, (list, tuple)):
        return not [r for r in raw if not _empty(r)]
    if isinstance(raw, dict):
        return _empty(raw.get("amount"))
    return False


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool) or (isinstance(raw, float) and raw != raw):
        raise AnswerError(_("Enter a number."))
    text = str(raw).strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AnswerError(_("Enter a number.")) from None
    if not value.is_finite() or abs(value) >= Decimal("1e15"):
        raise AnswerError(_("Enter a number."))
    return value


def clean(field: Field, raw: Any) -> Any:
    """The stored form of one answer, or ``None`` when it is empty; raises ``AnswerError``."""
    t = field.type
    if isinstance(raw, dict) and t != FieldType.MONEY:
        raise AnswerError(_("Enter a single value."))
    if _empty(raw):
        return None
    if t in (FieldType.TEXT, FieldType.LONG_TEXT, FieldType.REGION):
        if not isinstance(raw, str):
            raise AnswerError(_("Enter text."))
        limit = MAX_LONG_TEXT if t == FieldType.LONG_TEXT else MAX_TEXT
        text = raw.strip()
        if len(text) > limit:
            raise AnswerError(_("At most %(n)s characters.") % {"n": limit})
        return text
    if t == FieldType.NUMBER:
        return str(_decimal(raw))
    if t == FieldType.MONEY:
        if not isinstance(raw, dict):
            raise AnswerError(_("Enter an amount and a currency."))
        amount = _decimal(raw.get("amount"))
        if amount < 0:
            raise AnswerError(_("An amount cannot be negative."))
        currency = str(raw.get("currency") or "").upper().strip()
        if currency not in CURRENCIES:
            raise AnswerError(_("Choose a currency."))
        return {"amount": str(amount.quantize(Decimal("0.01"))), "currency": currency}
    if t == FieldType.CHOICE:
        values = [v for v, _en, _ru in field.choices]
        if not isinstance(raw, str) or raw not in values:
            raise AnswerError(_("Choose one of the options."))
        return raw
    if t == FieldType.MULTI_CHOICE:
        values = [v for v, _en, _ru in field.choices]
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, (list, tuple)) or any(
            not isinstance(i, str) or i not in values for i in items if not _empty(i)
        ):
            raise AnswerError(_("Choose from the options."))
        chosen = {i for i in items if not _empty(i)}
        return [v for v in values if v in chosen]
    if t == FieldType.DATE:
        if not isinstance(raw, str):
            raise AnswerError(_("Enter a date."))
        try:
            return date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            raise AnswerError(_("Enter a date as YYYY-MM-DD.")) from None
    if t == FieldType.YES_NO:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw in ("yes", "no", "true", "false"):
            return raw in ("yes", "true")
        raise AnswerError(_("Answer yes or no."))
    raise AnswerError(_("Unknown field type."))


def display(field: Field, value: Any) -> str:
    """An answer as a person reads it, in the current language."""
    if value is None or value == "" or value == []:
        return ""
    t = field.type
    if t == FieldType.MONEY and isinstance(value, dict):
        amount = Decimal(str(value.get("amount", "0")))
        return f"{amount:,.2f}".replace(",", "\u00a0") + f" {value.get('currency', '')}"
    if t == FieldType.CHOICE:
        return field.choice_label(str(value))
    if t == FieldType.MULTI_CHOICE:
        return ", ".join(field.choice_label(str(v)) for v in value)
    if t == FieldType.YES_NO:
        return str(_("Yes")) if value else str(_("No"))
    if t == FieldType.DATE:
        try:
            return date.fromisoformat(str(value)).strftime("%d.%m.%Y")
        except ValueError:
            return str(value)
    return str(value)
