"""REST API under /api/ (chat, conversations, feedback, schema)."""

urlpatterns: list = []
