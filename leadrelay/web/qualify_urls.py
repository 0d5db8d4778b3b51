"""URLs of qualification on the lead page: claim, notes, BANT, questionnaires, returns."""

from django.urls import URLPattern, path

from leadrelay.web import qualify_views

urlpatterns: list[URLPattern] = [
    path("leads/<int:lead_id>/claim/", qualify_views.lead_claim, name="claim"),
    path("leads/<int:lead_id>/note/", qualify_views.lead_note, name="note"),
    path("leads/<int:lead_id>/bant/", qualify_views.lead_bant, name="bant"),
    path("leads/<int:lead_id>/service/", qualify_views.lead_service, name="service"),
    path("leads/<int:lead_id>/answers/", qualify_views.lead_answers, name="answers"),
    path(
        "leads/<int:lead_id>/returns/<int:return_id>/decide/",
        qualify_views.return_decide,
        name="return_decide",
    ),
    path(
        "leads/<int:lead_id>/returns/<int:return_id>/judge/",
        qualify_views.return_judge,
        name="return_judge",
    ),
]
