from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "leadrelay.sales"
    label = "sales"
    verbose_name = _("Assignment to sales")

    def ready(self) -> None:
        from leadrelay.leads import hooks
        from leadrelay.sales import engine

        hooks.register(engine.on_change)
