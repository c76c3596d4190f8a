"""Reads of the live handoff: who may handle conversations, who is available, the inbox, a transcript."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypedDict

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from chatbot.handoff.presence import users_online
from chatbot.selectors import bot_settings_get
from conversations.models import Conversation, Message

HANDLE_PERMISSION = "conversations.handle_conversation"
# The inbox lists conversations active in this window, plus every one waiting or held.
INBOX_WINDOW = timedelta(hours=24)
INBOX_LIMIT = 100
PREVIEW_CHARS = 140
TRANSCRIPT_LIMIT = 500


class InboxItem(TypedDict):
    id: str
    preview: str
    last_message_at: str
    waiting: bool  # asked for a person and nobody took it yet
    held_by: str | None
    held_by_me: bool
    unanswered: bool  # a question the knowledge base did not cover


class TranscriptItem(TypedDict):
    id: str
    role: str
    text: str
    name: str | None
    answered: bool | None
    created_at: str


def staff_can_handle(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(HANDLE_PERMISSION)
    )


def staff_display_name(user) -> str:
    """What a visitor sees of a staff member: the first name, else the username."""
    return (getattr(user, "first_name", "") or "").strip() or user.get_username()


def staff_handlers():
    """Active staff users who hold the permission (directly, by group, or as superusers)."""
    permission = Permission.objects.filter(codename="handle_conversation", content_type__app_label="conversations")
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True)
        .filter(Q(is_superuser=True) | Q(user_permissions__in=permission) | Q(groups__permissions__in=permission))
        .distinct()
    )


def staff_available(*, now=None) -> bool:
    """A visitor asking for a person gets one: within office hours, and someone with the permission online."""
    if not bot_settings_get().office_open(now or timezone.now()):
        return False
    return bool(users_online(staff_handlers().values_list("pk", flat=True)))


def _inbox_item(conversation: Conversation, *, user_id: int | None) -> InboxItem:
    holder = conversation.assigned_to
    return {
        "id": conversation.pk,
        "preview": (getattr(conversation, "last_text", "") or "")[:PREVIEW_CHARS],
        "last_message_at": conversation.last_message_at.isoformat(),
        "waiting": conversation.handoff_requested_at is not None and holder is None,
        "held_by": staff_display_name(holder) if holder else None,
        "held_by_me": holder is not None and holder.pk == user_id,
        "unanswered": bool(getattr(conversation, "has_unanswered", False)),
    }


def staff_inbox(*, user_id: int | None, conversation_id: str | None = None) -> list[InboxItem]:
    """
    Open conversations for the inbox: waiting for a person first (oldest
    request first), then the others by latest message. With `conversation_id`,
    that one conversation only (for an update).
    """
    from django.db.models import Subquery

    last_text = Message.objects.filter(conversation_id=OuterRef("pk")).order_by("-created_at", "-id").values("text")[:1]
    rows = Conversation.objects.select_related("assigned_to").annotate(
        last_text=Subquery(last_text),
        has_unanswered=Exists(
            Message.objects.filter(conversation_id=OuterRef("pk"), role=Message.Role.VISITOR, answered=False)
        ),
    )
    if conversation_id is not None:
        rows = rows.filter(pk=conversation_id)
    else:
        recent = Q(last_message_at__gte=timezone.now() - INBOX_WINDOW)
        rows = rows.filter(
            recent | Q(handoff_requested_at__isnull=False) | Q(assigned_to__isnull=False),
            channel__in=[Conversation.Channel.WIDGET, Conversation.Channel.API],
        ).filter(Exists(Message.objects.filter(conversation_id=OuterRef("pk"))))
    items = [_inbox_item(row, user_id=user_id) for row in rows.order_by("-last_message_at")[:INBOX_LIMIT]]
    waiting = sorted((item for item in items if item["waiting"]), key=lambda item: item["last_message_at"])
    return waiting + [item for item in items if not item["waiting"]]


def transcript_item(message: Message) -> TranscriptItem:
    return {
        "id": message.public_id,
        "role": message.role,
        "text": message.text,
        "name": staff_display_name(message.author) if message.author_id else None,
        "answered": message.answered if message.role == Message.Role.ASSISTANT else None,
        "created_at": message.created_at.isoformat(),
    }


def staff_transcript(*, conversation_id: str) -> list[TranscriptItem]:
    newest = (
        Message.objects.filter(conversation_id=conversation_id)
        .select_related("author")
        .order_by("-created_at", "-id")[:TRANSCRIPT_LIMIT]
    )
    return [transcript_item(message) for message in reversed(list(newest))]


def conversation_holder(*, conversation_id: str) -> tuple[int, str] | None:
    """(user id, display name) of the staff member holding the conversation, or None."""
    conversation = (
        Conversation.objects.filter(pk=conversation_id, assigned_to__isnull=False).select_related("assigned_to").first()
    )
    if conversation is None or conversation.assigned_to is None:
        return None
    return conversation.assigned_to.pk, staff_display_name(conversation.assigned_to)
