"""Admission: a visitor message refused before any work, and why."""

from __future__ import annotations

import logging

from django.conf import settings

from chatbot.frames import ErrorFrame, error_frame
from core.language import gettext_in
from core.limits import MESSAGES_PER_CONVERSATION, MESSAGES_PER_IP, Check, RateRequest, alimits_hit

logger = logging.getLogger(__name__)


async def answer_refusal(
    *, conversation_id: str, text: str, client: RateRequest | None = None, language: str = ""
) -> ErrorFrame | None:
    """
    Why a visitor message is refused before any work, or None: it is empty
    (bad_request), over CHAT_MAX_MESSAGE_CHARS (too_long), or over the message
    rate of its client's IP or of its conversation (rate_limited, with
    retry_after). An accepted message is counted against both rates, in the
    buckets every door shares (core.limits). Messages are in `language`
    (the visitor's UI language), else the site's.
    """
    text = (text or "").strip()
    if not text:
        return error_frame("bad_request", gettext_in(language, "The message is empty."))
    if len(text) > settings.CHAT_MAX_MESSAGE_CHARS:
        max_chars = settings.CHAT_MAX_MESSAGE_CHARS
        return error_frame(
            "too_long",
            gettext_in(language, "Messages can be at most %(max_chars)s characters long.") % {"max_chars": max_chars},
            max_chars=max_chars,
        )
    checks: list[Check] = [(MESSAGES_PER_CONVERSATION, conversation_id)]
    if client is not None:
        checks.insert(0, (MESSAGES_PER_IP, None))
    retry_after = await alimits_hit(client=client or RateRequest(), checks=checks)
    if retry_after is not None:
        logger.info("message refused: over the message rate limit (retry after %ss)", retry_after)
        return error_frame(
            "rate_limited",
            gettext_in(language, "Too many messages in a short time; please slow down."),
            retry_after=retry_after,
        )
    return None
