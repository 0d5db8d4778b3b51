"""URLs of the questionnaire editor (admins define questions without code)."""

from django.urls import URLPattern, path

from leadrelay.web import questionnaire_views as views

urlpatterns: list[URLPattern] = [
    path("", views.questionnaire_list, name="list"),
    path("new/common/", views.questionnaire_new_common, name="new_common"),
    path("new/<int:service_id>/", views.questionnaire_new, name="new"),
    path("<int:questionnaire_id>/", views.questionnaire_edit, name="edit"),
    path("<int:questionnaire_id>/preview/", views.questionnaire_preview, name="preview"),
    path(
        "<int:questionnaire_id>/versions/<int:number>/",
        views.version_detail,
        name="version",
    ),
]
