from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "leadrelay.web"
    label = "web"
    verbose_name = "Web"
