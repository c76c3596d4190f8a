import secrets

from django.db import models


def new_conversation_id() -> str:
    """An unguessable public id: the only thing a visitor needs to resume a chat."""
    return secrets.token_urlsafe(24)


class Conversation(models.Model):
    id = models.CharField(primary_key=True, max_length=64, default=new_conversation_id, editable=False)
    origin = models.CharField(max_length=300, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_message_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-last_message_at"]

    def __str__(self) -> str:
        return f"Conversation {self.id[:8]}… ({self.created_at:%Y-%m-%d %H:%M})"


class Message(models.Model):
    class Role(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        ASSISTANT = "assistant", "Assistant"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.text[:60]}"
