"""URLs of qualification on the lead page and the questionnaire editor."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
