"""Small display helpers for the web templates."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import pgettext

register = template.Library()


@register.filter
def when(value: datetime | None) -> str:
    """A timestamp in the site's time zone, in the format the language is used to."""
    if value is None:
        return ""
    # Translators: a PHP-style date format (see Django's "date" filter), day before month.
    fmt = pgettext("datetime format", "Y-m-d H:i")
    return format_date(timezone.localtime(value), fmt)


@register.filter
def web_href(value: str) -> str:
    """A link target for a website the lead typed in, or "" when it is not http(s)."""
    value = (value or "").strip()
    if value.lower().startswith(("http://", "https://")):
        return value
    if value and "." in value and " " not in value and ":" not in value:
        return "https://" + value
    return ""
