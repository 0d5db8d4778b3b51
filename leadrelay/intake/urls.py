"""Intake pages for people (the vendor endpoint ``/in/<key>/`` is routed elsewhere).

Included by the root URLconf under ``intake/`` with the namespace ``intake``.
"""

from django.urls import path

from leadrelay.intake import import_views, web

app_name = "intake"

urlpatterns = [
    path("import/", import_views.import_upload, name="import"),
    path("import/preview/", import_views.import_preview, name="import_preview"),
    path("import/run/", import_views.import_run, name="import_run"),
    path("sources/", web.source_list, name="sources"),
    path("sources/<int:source_id>/", web.source_detail, name="source"),
    path("sources/<int:source_id>/edit/", web.source_edit, name="source_edit"),
    path("deliveries/", web.delivery_list, name="deliveries"),
    path("deliveries/<int:delivery_id>/", web.delivery_detail, name="delivery"),
    path("deliveries/<int:delivery_id>/retry/", web.delivery_retry, name="delivery_retry"),
    path("new/", web.new_lead, name="new_lead"),
]
