"""Every visitor message goes through contact detection, beside the answer: details become a lead."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Literal

from channels.db import database_sync_to_async

from conversations.models import Conversation
from leads.services import lead_capture_from_message

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeadStep:
    status: Literal["captured", "updated"] | None = None  # None: no contact details, or no lead made


def lead_step(*, conversation: Conversation, text: str) -> LeadStep:
    """
    Contact details in the message become a lead (runs in the database thread).
    An evaluation's questions (channel `eval`) make no lead.
    """
    if conversation.channel == Conversation.Channel.EVAL:
        return LeadStep()
    try:
        result = lead_capture_from_message(conversation=conversation, text=text)
    except Exception:
        # The message itself is stored; losing the detection must not lose the answer.
        logger.exception("lead capture failed for conversation %s", conversation.pk)
        return LeadStep()
    if result is None:
        return LeadStep()
    logger.info("contact details in a visitor message: lead %s %s", result.lead.pk, result.status)
    return LeadStep(status=result.status)


def lead_start(*, conversation: Conversation, text: str) -> asyncio.Future[LeadStep]:
    """The lead step, started beside the answer; `lead_outcome` waits for it."""
    task = asyncio.ensure_future(database_sync_to_async(lead_step)(conversation=conversation, text=text))
    task.add_done_callback(_log_failure)
    return task


async def lead_outcome(task: asyncio.Future[LeadStep]) -> LeadStep:
    try:
        return await task
    except Exception:  # noqa: BLE001 - logged by _log_failure; the answer goes on without it
        return LeadStep()


def _log_failure(task: asyncio.Future[LeadStep]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("background step failed", exc_info=task.exception())
