"""Intake pages for people (the vendor endpoint ``/in/<key>/`` is routed elsewhere).

Included by the root URLconf under ``intake/`` with the namespace ``intake``.
"""

from django.urls import path

from leadrelay.intake import import_views

app_name = "intake"

urlpatterns = [
    path("import/", import_views.import_upload, name="import"),
    path("import/preview/", import_views.import_preview, name="import_preview"),
    path("import/run/", import_views.import_run, name="import_run"),
]
