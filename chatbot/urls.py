from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from core import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/leads/", include("leads.urls")),
    path("api/", include("chatbot.api.urls")),
    path("kb/", include("knowledge.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("", include("chatbot.web_urls")),
]
