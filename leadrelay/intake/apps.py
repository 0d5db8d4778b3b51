from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "leadrelay.intake"
    label = "intake"
    verbose_name = "Intake"
