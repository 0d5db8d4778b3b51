from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "leadrelay.sla"
    label = "sla"
    verbose_name = "SLA"

    def ready(self) -> None:
        from leadrelay.leads import hooks
        from leadrelay.sla import clocks

        hooks.register(clocks.on_change)
