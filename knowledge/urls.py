"""Public knowledge pages under /kb/ (what a cited source links to)."""

from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("sources/<int:document_id>/", views.source_detail, name="source"),
    path("faqs/<int:faq_id>/", views.faq_detail, name="faq"),
]
