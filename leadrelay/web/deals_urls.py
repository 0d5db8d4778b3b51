"""URLs of the deal: the lead page's proposal, contract and payment forms, the proposal
file, the payments import and the client pages."""

from django.urls import URLPattern, path

from leadrelay.web import deals_views

urlpatterns: list[URLPattern] = [
    path("clients/", deals_views.clients, name="clients"),
    path("clients/<int:client_id>/", deals_views.client_detail, name="client"),
    path("payments/import/", deals_views.payments_import, name="payments_import"),
    path("leads/<int:lead_id>/proposals/", deals_views.proposal_new, name="proposal_new"),
    path(
        "leads/<int:lead_id>/proposals/<int:proposal_id>/state/",
        deals_views.proposal_state,
        name="proposal_state",
    ),
    path(
        "leads/<int:lead_id>/proposals/<int:proposal_id>/file",
        deals_views.proposal_file,
        name="proposal_file",
    ),
    path("leads/<int:lead_id>/contract/", deals_views.contract_save, name="contract"),
    path("leads/<int:lead_id>/payments/", deals_views.payment_new, name="payment_new"),
]
