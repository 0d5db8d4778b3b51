"""URLs of the SDR workspace: the incoming queue and the SDR's own page."""

from django.urls import URLPattern, path

from leadrelay.web import sdr_views

urlpatterns: list[URLPattern] = [
    path("incoming/", sdr_views.incoming_queue, name="incoming"),
    path("incoming/settings/", sdr_views.queue_settings, name="settings"),
    path("incoming/unended/", sdr_views.unended_report, name="unended"),
    path("incoming/<int:lead_id>/claim/", sdr_views.claim_lead, name="claim"),
    path("incoming/<int:lead_id>/reassign/", sdr_views.reassign_lead, name="reassign"),
    path("my-day/", sdr_views.my_day, name="me"),
    path("my-day/shift/", sdr_views.shift, name="shift"),
]
