"""REST API under /api/ (chat, conversations, feedback, schema)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from chatbot.api.docs import api_docs
from chatbot.api.views import BotSettingsApi, ChatApi, ConversationApi, FeedbackApi

urlpatterns = [
    path("bot/", BotSettingsApi.as_view(), name="api-bot"),
    path("chat/", ChatApi.as_view(), name="api-chat"),
    path("conversations/<str:conversation_id>/", ConversationApi.as_view(), name="api-conversation"),
    path("feedback/", FeedbackApi.as_view(), name="api-feedback"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api_docs, name="api-docs"),
]
