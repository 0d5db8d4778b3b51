from django.urls import include, path

from leadrelay.web import notify_views, sla_views, views

lead_patterns = [
    path("", views.lead_list, name="list"),
    path("<int:lead_id>/", views.lead_detail, name="detail"),
    path("<int:lead_id>/move/", views.lead_move, name="move"),
    path("<int:lead_id>/touch/", views.lead_touch, name="touch"),
]

notification_patterns = [
    path("", notify_views.notification_list, name="list"),
    path("count/", notify_views.notification_count, name="count"),
    path("read/", notify_views.notification_read_all, name="read_all"),
    path("<int:notification_id>/read/", notify_views.notification_read, name="read"),
]

webhook_patterns = [
    path("", notify_views.webhook_list, name="list"),
    path("<int:endpoint_id>/", notify_views.webhook_detail, name="detail"),
    path("<int:endpoint_id>/active/", notify_views.webhook_active, name="active"),
    path("<int:endpoint_id>/test/", notify_views.webhook_test, name="test"),
]

sla_patterns = [
    path("report/", sla_views.sla_report, name="report"),
]

urlpatterns = [
    path("", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("leads/", include((lead_patterns, "leads"))),
    path("notifications/", include((notification_patterns, "notifications"))),
    path("webhooks/", include((webhook_patterns, "webhooks"))),
    path("sla/", include((sla_patterns, "sla"))),
    path("", include(("leadrelay.web.sdr_urls", "sdr"))),
    path("", include(("leadrelay.web.qualify_urls", "qualify"))),
    path(
        "settings/questionnaires/", include(("leadrelay.web.questionnaire_urls", "questionnaires"))
    ),
    # The sales workspace: assignment, the board, briefs and demos, proposals to payments.
    path("", include(("leadrelay.web.sales_urls", "sales"))),
    path("", include(("leadrelay.web.board_urls", "board"))),
    path("", include(("leadrelay.web.presale_urls", "presale"))),
    path("", include(("leadrelay.web.deals_urls", "deals"))),
]
