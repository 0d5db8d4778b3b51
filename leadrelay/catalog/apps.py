from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "leadrelay.catalog"
    label = "catalog"
    verbose_name = "Catalog"
