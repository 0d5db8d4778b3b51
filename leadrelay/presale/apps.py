from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PresaleConfig(AppConfig):
    name = "leadrelay.presale"
    label = "presale"
    verbose_name = _("Pre-sale: briefs and demos")
