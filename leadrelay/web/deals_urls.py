from django.urls import path

from leadrelay.web import deals_views

urlpatterns = [
    path("clients/", deals_views.clients, name="clients"),
]
