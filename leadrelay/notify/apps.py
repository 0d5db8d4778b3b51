from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "leadrelay.notify"
    label = "notify"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from leadrelay.leads import hooks
        from leadrelay.notify import events

        hooks.register(events.on_change)
