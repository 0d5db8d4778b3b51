"""URLs of the questionnaire editor (admins define questions without code)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
