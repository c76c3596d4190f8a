from channels.auth import AuthMiddlewareStack
from django.urls import path

from chatbot.consumers import ChatConsumer
from chatbot.handoff.consumers import StaffConsumer

websocket_urlpatterns = [
    path("ws/chat/", ChatConsumer.as_asgi()),
    # The admin session authenticates staff; the visitor socket reads no cookie.
    path("ws/staff/", AuthMiddlewareStack(StaffConsumer.as_asgi())),
]
