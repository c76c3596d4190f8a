from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("", views.insights_page, name="insights"),
    path("csv/<slug:name>/", views.insights_csv, name="csv"),
    path("test/", views.test_bot, name="test_bot"),
    path("batch/", views.batch_list, name="batch_list"),
    path("batch/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("batch/<int:pk>/rerun/", views.batch_rerun, name="batch_rerun"),
]
