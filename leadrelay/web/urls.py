from django.urls import include, path

from leadrelay.web import views

lead_patterns = [
    path("", views.lead_list, name="list"),
    path("<int:lead_id>/", views.lead_detail, name="detail"),
    path("<int:lead_id>/move/", views.lead_move, name="move"),
]

urlpatterns = [
    path("", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("leads/", include((lead_patterns, "leads"))),
]
