import secrets

from django.conf import settings
from django.db import models


def public_token(nbytes: int) -> str:
    """
    `secrets.token_urlsafe(nbytes)` that never begins with `-`: one id in 64
    would, and a command line reads such an id as an option
    (`manage.py ask --conversation -x...`). Drawing again keeps the other ids
    equally likely; ids stored before this rule keep working (see `ask`).
    """
    while True:
        token = secrets.token_urlsafe(nbytes)
        if not token.startswith("-"):
            return token


def new_conversation_id() -> str:
    """An unguessable public id: the only thing a visitor needs to resume a chat."""
    return public_token(24)


def new_message_id() -> str:
    """
    Public message id. Unguessable, so that feedback by message id alone cannot
    be sent for other visitors' messages; made before the row exists, so that
    the `start` frame goes out without waiting for a write.
    """
    return public_token(12)


class Conversation(models.Model):
    class Channel(models.TextChoices):
        WIDGET = "widget", "Website widget (WebSocket)"
        API = "api", "REST API"
        CLI = "cli", "manage.py ask"
        EVAL = "eval", "Answer evaluation (manage.py answer_eval)"

    id = models.CharField(primary_key=True, max_length=64, default=new_conversation_id, editable=False)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WIDGET)
    origin = models.CharField(max_length=300, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_message_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Live handoff to a person (staff inbox). While `assigned_to` is set the bot
    # does not answer; `handed_over_at` keeps the first take-over for insights.
    handoff_requested_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the visitor asked for a person (waiting while set)."
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="held_conversations",
        help_text="The staff member holding the conversation; the bot does not answer meanwhile.",
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When a staff member first took the conversation over."
    )

    class Meta:
        ordering = ["-last_message_at"]
        permissions = [("handle_conversation", "Can see live conversations and take them over")]

    def __str__(self) -> str:
        return f"Conversation {self.id[:8]}… ({self.created_at:%Y-%m-%d %H:%M})"


class Message(models.Model):
    """
    One visitor message or one answer.

    `answered` is set on both sides of a pair: on the answer (was it grounded in
    the knowledge base?) and on the visitor's question, which is what the
    unanswered-questions page lists. It stays empty for messages that are not
    questions (greetings, a message that only leaves contact details).
    """

    class Role(models.TextChoices):
        VISITOR = "visitor", "Visitor"
        ASSISTANT = "assistant", "Assistant"
        AGENT = "agent", "Staff member"

    class Feedback(models.IntegerChoices):
        UP = 1, "👍"
        DOWN = -1, "👎"

    public_id = models.CharField(max_length=32, unique=True, default=new_message_id, editable=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="conversation_messages",
        help_text="For a staff member's message: who wrote it.",
    )
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
        help_text="For an answer: the visitor message it answers.",
    )
    answered = models.BooleanField(null=True, db_index=True)
    language = models.CharField(
        max_length=8,
        blank=True,
        help_text="For a visitor message: the language it is written in (ISO 639-1), detected; "
        "empty when the message is too short to tell.",
    )
    sources = models.JSONField(default=list, blank=True, help_text="Cited sources: n, title, url, snippet.")
    confidence = models.FloatField(null=True, blank=True, help_text="Best retrieval confidence (0–1).")
    provider = models.CharField(max_length=20, blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    time_to_first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the answer is partial, or why the fallback provider answered.",
    )
    feedback = models.SmallIntegerField(null=True, blank=True, choices=Feedback.choices, db_index=True)
    feedback_at = models.DateTimeField(null=True, blank=True)
    handled_at = models.DateTimeField(
        null=True, blank=True, help_text="Unanswered question dismissed or turned into an FAQ."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["conversation", "created_at"], name="message_conversation_time"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(feedback__isnull=True) | models.Q(feedback__in=[1, -1]),
                name="message_feedback_is_up_or_down",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()}: {self.text[:60]}"


class UnansweredQuestion(Message):
    """Visitor questions the bot could not answer; the admin groups them (see conversations.admin)."""

    class Meta:
        proxy = True
        verbose_name = "unanswered question"
        verbose_name_plural = "unanswered questions"
