"""REST endpoints for leads under /api/leads/."""

from django.urls import path

from leads.apis import LeadCreateApi

app_name = "leads"

urlpatterns = [
    path("", LeadCreateApi.as_view(), name="create"),
]
