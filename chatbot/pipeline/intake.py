"""
Intake: the visitor message stored (with the conversation's history and
language) while the bot settings load and the knowledge base is searched.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.conf import settings

from chatbot.pipeline.intent import Intent
from chatbot.pipeline.retrieve import search_results
from chatbot.selectors import BotConfig, abot_settings_get
from conversations.services import RecordedQuestion, conversation_question_record
from core.language import language_default, language_supported
from knowledge.types import SearchResult

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intake:
    recorded: RecordedQuestion
    bot: BotConfig  # in `language`
    # The visitor message's language, else the conversation's, else the widget's, else the site's.
    language: str
    search: asyncio.Future[list[SearchResult]] | None  # still running; None for small talk

    async def results(self) -> list[SearchResult]:
        return [] if self.search is None else await self.search


async def intake_run(
    *, conversation_id: str, intent: Intent, channel: str, origin: str, user_agent: str, ui_language: str
) -> Intake | None:
    """The stored message and what answering it needs; None when it could not be stored (logged)."""
    bot_task = asyncio.ensure_future(abot_settings_get())
    query = intent.search_query
    search = None if query is None else asyncio.ensure_future(search_results(query))
    record_task = asyncio.ensure_future(
        database_sync_to_async(conversation_question_record)(
            conversation_id=conversation_id,
            text=intent.text,
            channel=channel,
            origin=origin,
            user_agent=user_agent,
            history_turns=settings.CHAT_HISTORY_TURNS,
        )
    )
    try:
        recorded = await record_task
        bot = await bot_task
    except Exception:
        logger.exception("could not store the visitor message")
        for task in (search, bot_task):
            if task is not None:
                task.cancel()
        return None
    language = recorded.language or language_supported(ui_language) or language_default()
    return Intake(recorded=recorded, bot=bot.in_language(language), language=language, search=search)
