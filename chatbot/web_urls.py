"""Pages for people: the demo site at /."""

from django.urls import path

from chatbot import web

urlpatterns = [
    path("", web.demo_home, name="demo-home"),
]
