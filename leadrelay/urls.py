from django.contrib import admin
from django.urls import include, path

from leadrelay.api.api import api
from leadrelay.intake.views import intake

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("in/<str:key>/", intake, name="intake"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("intake/", include("leadrelay.intake.urls")),
    path("", include("leadrelay.web.urls")),
]
