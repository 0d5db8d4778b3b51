"""URLs of the pre-sale brief and demos: the settings page, the client's public brief
page (no login), and the lead page's brief and demo forms."""

from django.urls import URLPattern, path

from leadrelay.web import presale_views

urlpatterns: list[URLPattern] = [
    path("settings/briefs/", presale_views.templates, name="templates"),
    path("settings/briefs/<int:service_id>/", presale_views.template_save, name="template_save"),
    path("brief/<str:token>/", presale_views.public_brief, name="public"),
    path("leads/<int:lead_id>/brief/send/", presale_views.brief_send, name="brief_send"),
    path("leads/<int:lead_id>/brief/fill/", presale_views.brief_fill, name="brief_fill"),
    path(
        "leads/<int:lead_id>/brief/<int:brief_id>/revoke/",
        presale_views.brief_revoke,
        name="brief_revoke",
    ),
    path("leads/<int:lead_id>/demos/", presale_views.demo_schedule, name="demo_schedule"),
    path(
        "leads/<int:lead_id>/demos/<int:demo_id>/",
        presale_views.demo_update,
        name="demo_update",
    ),
    path("leads/<int:lead_id>/demos/<int:demo_id>.ics", presale_views.demo_ics, name="demo_ics"),
]
