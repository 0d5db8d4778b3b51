from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadrelay.accounts"
    label = "accounts"
    verbose_name = "Accounts"
