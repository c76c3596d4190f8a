"""Writes of conversations and messages. Sync: async callers use database_sync_to_async."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.selectors import conversation_language, conversation_recent_turns
from core.language import SWITCH_MIN_CONFIDENCE, language_choose, language_detect
from conversations.types import SourceItem, Turn


@dataclass(frozen=True)
class RecordedQuestion:
    conversation: Conversation
    message: Message
    history: list[Turn]  # the turns before this message, oldest first
    # The message's language, else the conversation's so far; "" when neither tells.
    language: str = ""


def conversation_ensure(*, conversation_id: str, channel: str = Conversation.Channel.WIDGET,
                        origin: str = "", user_agent: str = "") -> Conversation:
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
    *, conversation_id: str, text: str, channel: str = Conversation.Channel.WIDGET,
    origin: str = "", user_agent: str = "", history_turns: int = 0,
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
        previous = "" if guess.confidence >= SWITCH_MIN_CONFIDENCE else conversation_language(
            conversation_id=conversation.pk
        )
        language = language_choose(guess=guess, previous=previous)
        message = Message.objects.create(
            conversation=conversation, role=Message.Role.VISITOR, text=text, language=language
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    return RecordedQuestion(
        conversation=conversation, message=message, history=history, language=language or previous
    )


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
            public_id=public_id, conversation_id=conversation_id, role=Message.Role.ASSISTANT, text=text,
            reply_to=question, answered=answered, sources=list(sources), confidence=confidence,
            provider=provider, model=model[:100], prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
            time_to_first_token_ms=time_to_first_token_ms, duration_ms=duration_ms, error=error[:300],
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
    return Message.objects.filter(
        pk__in=list(message_ids), role=Message.Role.VISITOR, handled_at__isnull=True
    ).update(handled_at=timezone.now())
