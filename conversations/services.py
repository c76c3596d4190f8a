"""Writes of conversations and messages. Sync: async callers use database_sync_to_async."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.selectors import conversation_language, conversation_recent_turns
from conversations.types import SourceItem, Turn
from core.language import SWITCH_MIN_CONFIDENCE, language_choose, language_detect

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RecordedQuestion:
    conversation: Conversation
    message: Message
    history: list[Turn]  # the turns before this message, oldest first
    # The message's language, else the conversation's so far; "" when neither tells.
    language: str = ""


def conversation_ensure(
    *, conversation_id: str, channel: str = Conversation.Channel.WIDGET, origin: str = "", user_agent: str = ""
) -> Conversation:
    """
    The conversation with this id, created on first use. Ids are made by the
    server (`new_conversation_id`); a connection holds one before its first
    message, and only a message makes it a row.
    """
    defaults = {"channel": channel, "origin": origin[:300], "user_agent": user_agent[:500]}
    try:
        conversation, _ = Conversation.objects.get_or_create(pk=conversation_id, defaults=defaults)
    except IntegrityError:
        # Two first messages of one conversation at the same moment: the other one created it.
        conversation = Conversation.objects.get(pk=conversation_id)
    return conversation


def conversation_question_record(
    *,
    conversation_id: str,
    text: str,
    channel: str = Conversation.Channel.WIDGET,
    origin: str = "",
    user_agent: str = "",
    history_turns: int = 0,
) -> RecordedQuestion:
    """
    Stores a visitor message, with its detected language (core.language), and
    returns it with the turns before it, in one trip to the database.
    """
    guess = language_detect(text)
    with transaction.atomic():
        conversation = conversation_ensure(
            conversation_id=conversation_id, channel=channel, origin=origin, user_agent=user_agent
        )
        history = conversation_recent_turns(conversation_id=conversation.pk, turns=history_turns)
        # A confident guess needs no look back; a weaker one is weighed against the conversation's language.
        previous = (
            "" if guess.confidence >= SWITCH_MIN_CONFIDENCE else conversation_language(conversation_id=conversation.pk)
        )
        language = language_choose(guess=guess, previous=previous)
        message = Message.objects.create(
            conversation=conversation, role=Message.Role.VISITOR, text=text, language=language
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    return RecordedQuestion(conversation=conversation, message=message, history=history, language=language or previous)


def message_answer_record(
    *,
    conversation_id: str,
    question: Message | None,
    public_id: str,
    text: str,
    answered: bool | None,
    sources: Sequence[SourceItem] = (),
    confidence: float | None = None,
    provider: str = "",
    model: str = "",
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    time_to_first_token_ms: int | None = None,
    duration_ms: int | None = None,
    error: str = "",
) -> Message:
    """Stores an answer (also a partial one) and marks its question answered or not."""
    with transaction.atomic():
        answer = Message.objects.create(
            public_id=public_id,
            conversation_id=conversation_id,
            role=Message.Role.ASSISTANT,
            text=text,
            reply_to=question,
            answered=answered,
            sources=list(sources),
            confidence=confidence,
            provider=provider,
            model=model[:100],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            time_to_first_token_ms=time_to_first_token_ms,
            duration_ms=duration_ms,
            error=error[:300],
        )
        if question is not None:
            Message.objects.filter(pk=question.pk).update(answered=answered)
        Conversation.objects.filter(pk=conversation_id).update(last_message_at=answer.created_at)
    return answer


def message_feedback_set(*, message_id: str, rating: int, conversation_id: str | None = None) -> Message:
    """
    Records 1 (helpful) or -1 (not helpful) on an answer; a second rating
    replaces the first. With `conversation_id` the message must belong to it.
    Raises Message.DoesNotExist or ValidationError.
    """
    if rating not in (1, -1):
        raise ValidationError("rating must be 1 or -1")
    messages = Message.objects.filter(public_id=message_id, role=Message.Role.ASSISTANT)
    if conversation_id is not None:
        messages = messages.filter(conversation_id=conversation_id)
    message = messages.get()
    message.feedback = rating
    message.feedback_at = timezone.now()
    message.save(update_fields=["feedback", "feedback_at"])
    return message


def unanswered_questions_mark_handled(*, message_ids: Sequence[int]) -> int:
    """Takes questions off the unanswered list (dismissed, or answered by a new FAQ)."""
    return Message.objects.filter(pk__in=list(message_ids), role=Message.Role.VISITOR, handled_at__isnull=True).update(
        handled_at=timezone.now()
    )


# --- retention ---------------------------------------------------------------------------------------

PURGE_EVERY = timedelta(hours=1)
_PURGE_BATCH = 500


@dataclass(frozen=True)
class PurgeReport:
    conversations: int
    messages: int
    older_than: datetime | None


def conversations_purge(*, retention_days: int, now: datetime | None = None, dry_run: bool = False) -> PurgeReport:
    """
    Deletes the conversations whose last message is older than `retention_days`,
    with their messages, in small batches (short transactions). Leads keep
    their fields and consent record; they only lose the link to the
    conversation. A retention of 0 keeps everything.
    """
    if retention_days <= 0:
        return PurgeReport(conversations=0, messages=0, older_than=None)
    older_than = (now or timezone.now()) - timedelta(days=retention_days)
    expired = Conversation.objects.filter(last_message_at__lt=older_than)
    if dry_run:
        return PurgeReport(
            conversations=expired.count(),
            messages=Message.objects.filter(conversation__in=expired).count(),
            older_than=older_than,
        )
    conversations = messages = 0
    while True:
        with transaction.atomic():
            ids = list(expired.order_by("last_message_at").values_list("pk", flat=True)[:_PURGE_BATCH])
            if not ids:
                break
            messages += Message.objects.filter(conversation__in=ids).count()
            conversations += len(ids)
            Conversation.objects.filter(pk__in=ids).delete()
    if conversations:
        logger.info(
            "retention: purged %d conversation(s) and %d message(s) older than %s",
            conversations,
            messages,
            older_than.isoformat(),
        )
    return PurgeReport(conversations=conversations, messages=messages, older_than=older_than)


def conversations_purge_schedule(*, now: datetime | None = None) -> bool:
    """
    Keeps one purge task queued `PURGE_EVERY` ahead while a retention is set:
    the task runs the purge and calls this again, so it re-schedules itself.
    Started on `migrate` (every deploy and `make run`); a second chain is not
    started while one purge waits in the queue. Backends that cannot defer
    tasks rely on `manage.py purge_conversations` from cron.
    """
    from conversations.tasks import conversations_purge_task

    if not settings.CONVERSATION_RETENTION_DAYS:
        return False
    backend = conversations_purge_task.get_backend()
    if not backend.supports_defer:
        return False
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if (
        isinstance(backend, DatabaseBackend)
        and DBTaskResult.objects.filter(task_path=conversations_purge_task.module_path, status="READY").exists()
    ):
        return False
    conversations_purge_task.using(run_after=(now or timezone.now()) + PURGE_EVERY).enqueue()
    return True
