from django.urls import path

from leadrelay.web import presale_views

urlpatterns = [
    path("settings/briefs/", presale_views.templates, name="templates"),
]
