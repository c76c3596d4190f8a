"""
Generate: the configured provider answers from the passages, within the token
caps; the extractive provider answers when a model cannot start or a cap has
no room. A chat model's text passes the leak guard, and a reply that starts
with NO_ANSWER is the model saying the passages do not answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass

from django.conf import settings

from chatbot.leakguard import LeakGuard
from chatbot.llm import (
    AnswerRequest,
    ExtractiveProvider,
    LLMProvider,
    LLMStreamBroken,
    LLMUnavailable,
    Passage,
    TextDelta,
    Usage,
    provider_get,
)
from chatbot.pipeline.draft import Event, Note, Outcome, ProviderUsed, Reply
from chatbot.prompting import NO_ANSWER, prompt_build
from chatbot.selectors import BotConfig
from conversations.services import RecordedQuestion
from core.limits import RateRequest, allm_tokens_reserve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProviderChoice:
    provider: LLMProvider
    request: AnswerRequest  # its passages are the ones the prompt kept
    system_text: str | None  # a chat model's system prompt, for the leak guard
    events: tuple[Note | ProviderUsed, ...]


async def provider_choose(
    *,
    bot: BotConfig,
    question: str,
    passages: list[Passage],
    recorded: RecordedQuestion,
    language: str,
    client: RateRequest | None,
) -> ProviderChoice:
    """
    The configured provider with its prompt, once its most possible cost is
    reserved on the token caps of the conversation, the client's address and
    the day (core.limits); the extractive provider when a cap has no room.
    """
    provider = provider_get()
    extractive = AnswerRequest(question=question, passages=tuple(passages), messages=(), language=language)
    if isinstance(provider, ExtractiveProvider):
        return ProviderChoice(provider, extractive, None, (ProviderUsed(provider.name, provider.model),))
    prompt = prompt_build(
        bot_name=bot.name,
        system_prompt=bot.system_prompt,
        question=question,
        passages=passages,
        history=recorded.history,
        context_tokens=settings.LLM_CONTEXT_TOKENS,
        language=language,
    )
    reservation = await allm_tokens_reserve(
        conversation_id=recorded.conversation.pk,
        client=client,
        tokens=prompt.estimated_tokens + settings.LLM_MAX_TOKENS,
    )
    if reservation.refused is not None:
        logger.warning("%s; answering from the knowledge base instead", reservation.refused.detail)
        fallback = ExtractiveProvider()
        note = Note(f"{reservation.refused.detail}; answered by the extractive provider")
        return ProviderChoice(fallback, extractive, None, (note, ProviderUsed(fallback.name, fallback.model)))
    used = ProviderUsed(provider.name, provider.model, prompt.estimated_tokens, reservation)
    request = AnswerRequest(
        question=question, passages=tuple(prompt.passages), messages=prompt.messages, language=language
    )
    return ProviderChoice(provider, request, prompt.system_text, (used,))


async def model_answer_stream(
    *,
    bot: BotConfig,
    question: str,
    passages: list[Passage],
    recorded: RecordedQuestion,
    language: str,
    client: RateRequest | None,
    said: bool,
) -> AsyncGenerator[Event, None]:
    """
    The answer from the passages, ending with a `Reply`: answered, refused
    (NO_ANSWER) or withheld. When the model cannot start, the extractive
    provider answers; a stream that broke before anything reached the visitor
    counts as not started, else `LLMStreamBroken` goes up. `said`: whether this
    answer has sent text already.
    """
    choice = await provider_choose(
        bot=bot, question=question, passages=passages, recorded=recorded, language=language, client=client
    )
    for chosen in choice.events:
        yield chosen
    outcome = Outcome.ANSWERED
    try:
        async with aclosing(generation_stream(choice.provider, choice.request, choice.system_text)) as events:
            async for event in events:
                if isinstance(event, Outcome):
                    outcome = event
                    continue
                said = said or isinstance(event, TextDelta)
                yield event
    except (LLMUnavailable, LLMStreamBroken) as exc:
        if isinstance(exc, LLMStreamBroken) and said:
            raise
        if outcome is not Outcome.REFUSED:
            logger.warning("LLM unavailable (%s); answering from the knowledge base instead", exc.detail)
            fallback = ExtractiveProvider()
            yield Note(f"llm_unavailable: {exc.detail}; answered by the extractive provider")
            yield ProviderUsed(fallback.name, fallback.model)
            request = AnswerRequest(question=question, passages=choice.request.passages, messages=(), language=language)
            async with aclosing(generation_stream(fallback, request, None)) as events:
                async for event in events:
                    if isinstance(event, Outcome):
                        outcome = event
                    else:
                        yield event
    yield Reply(outcome=outcome, passages=choice.request.passages)


async def generation_stream(
    provider: LLMProvider, request: AnswerRequest, system_text: str | None
) -> AsyncGenerator[TextDelta | Usage | Outcome, None]:
    """
    The provider's text and usage, then its `Outcome`: withheld when the leak
    guard (chat models: `system_text` given) trips, else answered; refused is
    sent as soon as the reply starts with NO_ANSWER, and what follows is
    swallowed.
    """
    guard = LeakGuard(system_text) if system_text else None
    raw = ""
    deciding = guard is not None  # until we know the reply is not NO_ANSWER
    no_answer = withheld = False
    async with aclosing(provider.stream(request)) as events:
        async for event in events:
            if isinstance(event, Usage):
                yield event
                continue
            if deciding:
                raw += event.text
                head = raw.lstrip()
                if head.startswith(NO_ANSWER):
                    if not no_answer:
                        yield Outcome.REFUSED
                    no_answer = True
                    continue
                if NO_ANSWER.startswith(head):
                    continue
                deciding = False
                delta = raw
            else:
                delta = event.text
            released = guard.feed(delta) if guard else delta
            if guard is not None and guard.tripped:
                withheld = True
                logger.warning("answer withheld: it repeated the system prompt")
                break
            if released:
                yield TextDelta(released)
    if no_answer:
        return
    if guard is not None and not withheld:
        rest = guard.flush()
        withheld = guard.tripped
        if rest and not withheld:
            yield TextDelta(rest)
    if deciding and raw.strip():
        # The whole reply was a prefix of NO_ANSWER ("NO", say): send it as it is.
        yield TextDelta(raw)
    yield Outcome.WITHHELD if withheld else Outcome.ANSWERED
