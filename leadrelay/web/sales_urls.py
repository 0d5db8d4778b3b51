from django.urls import path

from leadrelay.web import sales_views

urlpatterns = [
    path("assignment/", sales_views.queue, name="queue"),
    path("assignment/run/", sales_views.queue_run, name="run"),
    path("assignment/<int:lead_id>/assign/", sales_views.queue_assign, name="queue_assign"),
    path("assignment/settings/", sales_views.settings_page, name="settings"),
    path("assignment/settings/absences/", sales_views.absence_add, name="absence_add"),
    path(
        "assignment/settings/absences/<int:absence_id>/delete/",
        sales_views.absence_delete,
        name="absence_delete",
    ),
    path("assignment/settings/rules/new/", sales_views.rule_edit, name="rule_add"),
    path("assignment/settings/rules/<int:rule_id>/", sales_views.rule_edit, name="rule"),
    path(
        "assignment/settings/rules/<int:rule_id>/delete/",
        sales_views.rule_delete,
        name="rule_delete",
    ),
    path("assignment/settings/managers/<int:user_id>/", sales_views.profile_edit, name="profile"),
    # The assignment part of the lead page.
    path("leads/<int:lead_id>/assignment/accept/", sales_views.lead_accept, name="accept"),
    path("leads/<int:lead_id>/assignment/return/", sales_views.lead_return, name="return"),
    path("leads/<int:lead_id>/assignment/assign/", sales_views.lead_assign, name="assign"),
]
