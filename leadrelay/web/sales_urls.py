from django.urls import path

from leadrelay.web import sales_views

urlpatterns = [
    path("assignment/", sales_views.queue, name="queue"),
    path("assignment/settings/", sales_views.settings_page, name="settings"),
]
