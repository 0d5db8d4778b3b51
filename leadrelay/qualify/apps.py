from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualifyConfig(AppConfig):
    name = "leadrelay.qualify"
    label = "qualify"
    verbose_name = _("Qualification")

    def ready(self) -> None:
        from leadrelay.leads import gates, hooks
        from leadrelay.qualify import handoff, routing

        gates.register(handoff.gate)
        hooks.register(routing.on_change)
