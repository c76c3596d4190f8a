"""Reads of conversations and messages. Sync: async callers use database_sync_to_async."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

from conversations.grouping import (
    Question,
    QuestionGroup,
    knowledge_embedder,
    questions_group,
)
from conversations.models import Conversation, Message
from conversations.types import HistoryItem, Turn

HISTORY_LIMIT = 200


def conversation_get(*, conversation_id: str) -> Conversation | None:
    if not conversation_id or len(conversation_id) > 64:
        return None
    return Conversation.objects.filter(pk=conversation_id).first()


def message_history_item(message: Message) -> HistoryItem:
    item: HistoryItem = {
        "id": message.public_id,
        "role": message.role,
        "text": message.text,
        "sources": list(message.sources or []),
        "answered": message.answered if message.role == Message.Role.ASSISTANT else None,
        "feedback": message.feedback,
        "created_at": message.created_at.isoformat(),
    }
    if message.role == Message.Role.AGENT:
        # A staff member's message shows who wrote it: the first name, else the username.
        author = message.author
        item["name"] = ((author.first_name or "").strip() or author.get_username()) if author else ""
    return item


def conversation_history(*, conversation_id: str, limit: int = HISTORY_LIMIT) -> list[HistoryItem]:
    """The last `limit` messages, oldest first, as the widget shows them."""
    newest = (
        Message.objects.filter(conversation_id=conversation_id)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )
    return [message_history_item(m) for m in reversed(list(newest))]


def conversation_recent_turns(*, conversation_id: str, turns: int) -> list[Turn]:
    """The last `turns` exchanges (a visitor message and its answer each), oldest first."""
    if turns <= 0:
        return []
    rows = (
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("-created_at", "-id")
        .values_list("role", "text")[: turns * 2]
    )
    return [Turn(role=role, text=text) for role, text in reversed(list(rows))]


def conversation_language(*, conversation_id: str) -> str:
    """The language of the conversation's latest visitor message that had one ("" when none did)."""
    return (
        Message.objects.filter(conversation_id=conversation_id, role=Message.Role.VISITOR)
        .exclude(language="")
        .order_by("-created_at", "-id")
        .values_list("language", flat=True)
        .first()
    ) or ""


def conversations_with_flags() -> QuerySet[Conversation]:
    """
    Conversations annotated for the admin's filters: has a lead, unanswered,
    negative feedback. The lead flag reads the table behind `Lead.conversations`
    through its reverse accessor, so this app does not import leads (a layer above).
    """
    return Conversation.objects.annotate(
        has_lead=Exists(Conversation.leads.through.objects.filter(conversation_id=OuterRef("pk"))),
        has_unanswered=Exists(
            Message.objects.filter(conversation_id=OuterRef("pk"), role=Message.Role.VISITOR, answered=False)
        ),
        has_negative_feedback=Exists(Message.objects.filter(conversation_id=OuterRef("pk"), feedback=-1)),
    )


def unanswered_questions(*, limit: int = 2000) -> QuerySet[Message]:
    """
    Open unanswered visitor questions, newest first; questions asked from
    `manage.py ask` or an evaluation are left out.
    """
    return (
        Message.objects.filter(role=Message.Role.VISITOR, answered=False, handled_at__isnull=True)
        .exclude(conversation__channel__in=[Conversation.Channel.CLI, Conversation.Channel.EVAL])
        .order_by("-created_at")[:limit]
    )


def unanswered_question_groups(*, limit: int = 2000, embed: bool = True) -> list[QuestionGroup]:
    """Open unanswered questions grouped by similarity, most frequent first (see conversations.grouping)."""
    questions = [
        Question(message_id=pk, text=text, asked_at=created_at, conversation_id=conversation_id)
        for pk, text, created_at, conversation_id in unanswered_questions(limit=limit).values_list(
            "pk", "text", "created_at", "conversation_id"
        )
    ]
    embedder = knowledge_embedder() if embed and questions else None
    if embedder is None:
        return questions_group(questions)
    embed_texts, model_id = embedder
    return questions_group(questions, embed=embed_texts, model_id=model_id)
