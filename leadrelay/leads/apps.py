from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadrelay.leads"
    label = "leads"
    verbose_name = "Leads"
