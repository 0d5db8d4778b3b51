from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealsConfig(AppConfig):
    name = "leadrelay.deals"
    label = "deals"
    verbose_name = _("Proposals, contracts and payments")

    def ready(self) -> None:
        from leadrelay.deals import contracts
        from leadrelay.deals import gates as deal_gates
        from leadrelay.leads import gates, hooks

        gates.register(deal_gates.gate)
        # Sales accepting a lead ties it to its client (the client pages, LT).
        hooks.register(contracts.link_on_accept)
