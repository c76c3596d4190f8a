"""The reply to a visitor message, by what it is: small talk, asking for a person, or a question."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing

from chatbot.pipeline.draft import Canned, Event, Outcome, Reply
from chatbot.pipeline.intake import Intake
from chatbot.pipeline.intent import Intent
from chatbot.pipeline.lead import LeadStep, lead_outcome
from chatbot.pipeline.question import question_stream
from chatbot.pipeline.requests import person_reply
from chatbot.smalltalk import GOODBYE_REPLY, THANKS_REPLY
from core.language import gettext_in
from core.limits import RateRequest
from knowledge.types import SearchResult


async def reply_stream(
    *,
    intent: Intent,
    intake: Intake,
    results: list[SearchResult],
    lead_task: asyncio.Future[LeadStep],
    client: RateRequest | None,
) -> AsyncGenerator[Event, None]:
    """The reply's events: its text, the provider and usage of a model, and last, the `Reply`."""
    bot, language = intake.bot, intake.language
    if intent.smalltalk:
        texts = {
            "greeting": bot.greeting,
            "thanks": gettext_in(language, THANKS_REPLY),
            "goodbye": gettext_in(language, GOODBYE_REPLY),
        }
        for said in Canned(texts[intent.smalltalk], Reply(Outcome.SMALLTALK)).events():
            yield said
    elif intent.request == "person":
        lead = await lead_outcome(lead_task)
        for said in person_reply(bot=bot, results=results, lead=lead, language=language).events():
            yield said
    else:
        question = question_stream(intent=intent, intake=intake, results=results, lead_task=lead_task, client=client)
        async with aclosing(question) as events:
            async for event in events:
                yield event
