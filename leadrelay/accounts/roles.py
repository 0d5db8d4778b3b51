"""The six roles of CONTRACT.md and what each one is for."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    SDR = "sdr", _("SDR")
    SALES = "sales", _("Sales manager")
    PARTNER_MANAGER = "partner_manager", _("Partner manager")
    HEAD_MARKETING = "head_marketing", _("Head of marketing")
    HEAD_SALES = "head_sales", _("Head of sales")
    ADMIN = "admin", _("Administrator")


HEADS = frozenset({Role.HEAD_MARKETING, Role.HEAD_SALES})
