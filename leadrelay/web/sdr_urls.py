"""URLs of the SDR workspace: the incoming queue and the SDR's own page."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
