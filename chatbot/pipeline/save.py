"""Save: the answer stored with its outcome, sources and figures; the token caps settled with its real cost."""

from __future__ import annotations

import logging
import time

from channels.db import database_sync_to_async

from chatbot.pipeline.draft import Draft, Outcome, ms
from conversations.models import Message
from conversations.services import RecordedQuestion, message_answer_record
from conversations.types import SourceItem
from core.limits import allm_tokens_settle

logger = logging.getLogger(__name__)


async def answer_save(
    *,
    draft: Draft,
    recorded: RecordedQuestion,
    outcome: Outcome,
    confidence: float | None,
    sources: list[SourceItem] | None = None,
    error: str | None = None,
) -> Message:
    """Stores the answer as far as it got; `error` replaces the draft's own note."""
    if draft.reservation is not None:
        await allm_tokens_settle(reservation=draft.reservation, tokens=draft.llm_tokens)
    usage, error = draft.usage, draft.error if error is None else error
    message = await database_sync_to_async(message_answer_record)(
        conversation_id=recorded.conversation.pk,
        question=recorded.message,
        public_id=draft.message_id,
        text=draft.text,
        answered=outcome.answered_column,
        sources=sources or [],
        confidence=confidence,
        provider=draft.provider,
        model=draft.model,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        time_to_first_token_ms=draft.ttft_ms,
        duration_ms=ms(time.perf_counter() - draft.received),
        error=error,
    )
    logger.info(
        "answer %s stored: provider=%s answered=%s first_token_ms=%s llm_tokens=%s%s",
        draft.message_id,
        draft.provider or "-",
        outcome.answered_column,
        draft.ttft_ms,
        draft.llm_tokens,
        f" ({error})" if error else "",
    )
    return message
