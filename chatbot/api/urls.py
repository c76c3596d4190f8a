"""REST API under /api/ (chat, conversations, feedback, schema)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chatbot.api.views import BotSettingsApi, ChatApi, ConversationApi, FeedbackApi

urlpatterns = [
    path("bot/", BotSettingsApi.as_view(), name="api-bot"),
    path("chat/", ChatApi.as_view(), name="api-chat"),
    path("conversations/<str:conversation_id>/", ConversationApi.as_view(), name="api-conversation"),
    path("feedback/", FeedbackApi.as_view(), name="api-feedback"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
