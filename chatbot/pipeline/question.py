"""
A question: decided on the search results (knowledge.answerability), answered
from the passages when the knowledge base covers it, else the fallback. A
request for a quote or a call back is answered the same way, acknowledged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

from django.utils.translation import gettext_noop

from chatbot.llm import TextDelta, text_chunks
from chatbot.pipeline.draft import Event, Note, Outcome, Reply
from chatbot.pipeline.generate import model_answer_stream
from chatbot.pipeline.intake import Intake
from chatbot.pipeline.intent import Intent
from chatbot.pipeline.lead import LeadStep, lead_outcome
from chatbot.pipeline.requests import request_ack, unanswered_reply
from chatbot.pipeline.retrieve import passages_from_results
from core.language import gettext_in
from core.limits import RateRequest
from knowledge.answerability import answer_decide
from knowledge.types import SearchResult

logger = logging.getLogger(__name__)

WITHHELD_REPLY = gettext_noop(
    "I can't share that, but I'm happy to help with any question about our products and services."
)


async def question_stream(
    *,
    intent: Intent,
    intake: Intake,
    results: list[SearchResult],
    lead_task: asyncio.Future[LeadStep],
    client: RateRequest | None,
) -> AsyncGenerator[Event, None]:
    """The reply's events, ending with its `Reply`."""
    bot, language = intake.bot, intake.language
    decision = answer_decide(results=results, threshold=bot.answer_threshold, similarity_floor=bot.confidence_threshold)
    logger.debug("answer decision: %s", decision)
    said = False
    if intent.request is not None and (lead := await lead_outcome(lead_task)).status:
        # Contact details came with the request: it is acknowledged first, then answered.
        thanks = request_ack(bot=bot, lead=lead, language=language) + ("\n\n" if decision.answer else "")
        for chunk in text_chunks(thanks):
            said = True
            yield TextDelta(chunk)
    reply = Reply(Outcome.REFUSED)
    if decision.answer:
        answer = model_answer_stream(
            bot=bot,
            question=intent.question,
            passages=passages_from_results(results),
            recorded=intake.recorded,
            language=language,
            client=client,
            said=said,
        )
        async with aclosing(answer) as events:
            async for event in events:
                if isinstance(event, Reply):
                    reply = event
                else:
                    said = said or isinstance(event, TextDelta)
                    yield event
    if reply.outcome is Outcome.REFUSED:
        lead = await lead_outcome(lead_task)
        for event in unanswered_reply(
            bot=bot, text=intent.text, lead=lead, request=intent.request, language=language
        ).events():
            yield event
    elif reply.outcome is Outcome.WITHHELD:
        yield Note("withheld: the answer repeated the system prompt")
        yield TextDelta(("\n\n" if said else "") + gettext_in(language, WITHHELD_REPLY))
        yield Reply(Outcome.WITHHELD)
    elif intent.request is not None and (await lead_outcome(lead_task)).status is None:
        # A request answered from the knowledge base, with no contact details yet: the offer follows.
        yield TextDelta(f"\n\n{request_ack(bot=bot, lead=LeadStep(), language=language)}")
        yield Reply(Outcome.ANSWERED, passages=reply.passages, offer_contact=True)
    else:
        yield reply
