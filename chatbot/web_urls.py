"""Pages for people: the demo site at / and the favicon."""

from django.urls import path

from chatbot import web

urlpatterns = [
    path("", web.demo_home, name="demo-home"),
    path("favicon.ico", web.favicon, name="favicon"),
]
