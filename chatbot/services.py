"""
The answer pipeline: one service behind every door (WebSocket, SSE, REST, `manage.py ask`).

    answer_stream(conversation_id=..., text=...)  ->  protocol frames, in order

retrieve (hybrid search) -> decide (knowledge.answerability; when the knowledge
base does not answer, no model is called: the fallback message offers to take
contact details and the question is marked unanswered) -> build a token-budgeted prompt -> stream
through the configured provider -> map [n] citations to sources -> store.

The doors only carry frames over their transport and hold no logic of their own.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.translation import gettext_noop

from chatbot.contact_channels import CHANNELS_LEAD_IN, CONTACT_QUERY, contact_channels_find
from chatbot.frames import ErrorFrame, LeadFrame, ServerFrame, SourcesFrame, error_frame
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
from chatbot.prompting import NO_ANSWER, prompt_build, token_estimate
from chatbot.selectors import BotConfig, abot_settings_get
from chatbot.smalltalk import GOODBYE_REPLY, THANKS_REPLY, smalltalk_kind
from conversations.models import Conversation, Message, new_message_id
from conversations.services import (
    RecordedQuestion,
    conversation_question_record,
    message_answer_record,
)
from conversations.types import SourceItem
from core.language import gettext_in, language_default, language_supported
from core.limits import (
    MESSAGES_PER_CONVERSATION,
    MESSAGES_PER_IP,
    RateRequest,
    TokenReservation,
    alimits_hit,
    allm_tokens_reserve,
    allm_tokens_settle,
)
from core.structured_logging import bind_conversation
from knowledge.answerability import aanswer_search, answer_decide
from knowledge.types import SearchResult
from leads.selectors import RequestKind, message_without_contact_details, visitor_request
from leads.services import lead_capture_from_message

logger = logging.getLogger(__name__)

SEARCH_K = 8
MAX_PROMPT_PASSAGES = 6
# Passages much weaker than the best one add noise, not grounding.
PASSAGE_FLOOR_RATIO = 0.5
SNIPPET_CHARS = 220
CITATION_RE = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")
CANNED_PIECE_RE = re.compile(r"\S+\s*|\s+")
WITHHELD_REPLY = gettext_noop(
    "I can't share that, but I'm happy to help with any question about our products and services."
)
# Said to a visitor who asks for a quote, a demo or a call back, before the bot's contact prompt or thanks.
REQUEST_ACK = gettext_noop("Our team can help with that.")


# --- Small pure helpers ------------------------------------------------------------------


def citations_find(text: str) -> list[int]:
    """Passage numbers cited as [n], [n, m] or [n][m], in order of first appearance."""
    found: list[int] = []
    for match in CITATION_RE.finditer(text):
        for number in match.group(1).split(","):
            n = int(number)
            if n not in found:
                found.append(n)
    return found


def source_item(passage: Passage) -> SourceItem:
    snippet = " ".join(passage.text.split())
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return {"n": passage.n, "title": passage.title, "url": passage.url, "snippet": snippet}


def cited_sources(text: str, passages: Sequence[Passage]) -> list[SourceItem]:
    """The passages cited as [n], in the order the answer first cites them: the first one is what it leads with."""
    by_number = {p.n: p for p in passages}
    return [source_item(by_number[n]) for n in citations_find(text) if n in by_number]


def answer_confidence(results: Sequence[SearchResult]) -> float:
    """
    The best similarity among the passages the prompt would get, stored with
    the answer. Whether to answer is `knowledge.answerability.answer_decide`'s call.
    """
    return max((result.confidence for result in results[:MAX_PROMPT_PASSAGES]), default=0.0)


def passages_from_results(results: Sequence[SearchResult]) -> list[Passage]:
    """Numbers the search results [1]..[n] for the prompt, leaving out the weak ones."""
    if not results:
        return []
    floor = results[0].confidence * PASSAGE_FLOOR_RATIO
    passages = []
    for result in results[:MAX_PROMPT_PASSAGES]:
        if result.confidence < floor:
            continue
        passages.append(
            Passage(
                n=len(passages) + 1,
                text=result.text,
                title=result.citation_label or result.title,
                url=result.url,
                confidence=result.confidence,
                source_type=result.source_type,
            )
        )
    return passages


def _pieces(text: str) -> list[str]:
    """A canned reply in word-sized token frames, so every answer streams the same way."""
    pieces = CANNED_PIECE_RE.findall(text)
    return ["".join(pieces[i : i + 3]) for i in range(0, len(pieces), 3)]


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


# --- Side steps (run in the database thread) -----------------------------------------------


@dataclass(frozen=True)
class LeadStep:
    status: str | None  # "captured", "updated" or None


def _lead_step(*, conversation: Conversation, text: str) -> LeadStep:
    """
    Contact details in the message become a lead.
    An evaluation's questions (channel `eval`) make no lead.
    """
    if conversation.channel == Conversation.Channel.EVAL:
        return LeadStep(status=None)
    try:
        result = lead_capture_from_message(conversation=conversation, text=text)
    except Exception:
        # The message itself is stored; losing the detection must not lose the answer.
        logger.exception("lead capture failed for conversation %s", conversation.pk)
        result = None
    if result is not None:
        logger.info("contact details in a visitor message: lead %s %s", result.lead.pk, result.status)
    return LeadStep(status=result.status if result else None)


async def _retrieve(text: str) -> list[SearchResult]:
    try:
        return await aanswer_search(query=text, k=SEARCH_K)
    except Exception:
        logger.exception("knowledge search failed; answering as if nothing matched")
        return []


def _log_task_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("background step failed", exc_info=task.exception())


# --- The run of one answer ------------------------------------------------------------------


@dataclass
class _Answer:
    """What one answer has produced so far; saved as it is when the answer ends early."""

    message_id: str
    received: float
    provider: str = ""
    model: str = ""
    parts: list[str] = field(default_factory=list)
    first_token_at: float | None = None
    usage: Usage | None = None
    error: str = ""
    saved: bool = False
    # Set when a chat model is asked: what its prompt is estimated to cost, for the token caps.
    prompt_tokens_estimate: int | None = None
    # The tokens held on the caps' counters until the answer's real cost is known (core.limits).
    tokens_reserved: TokenReservation | None = None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def token(self, text: str) -> dict:
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self.parts.append(text)
        return {"type": "token", "text": text}

    @property
    def ttft_ms(self) -> int | None:
        return None if self.first_token_at is None else _ms(self.first_token_at - self.received)

    @property
    def llm_tokens(self) -> int:
        """Prompt + completion tokens a chat model spent: as reported, else estimated; 0 for no model."""
        if self.usage is not None:
            return self.usage.prompt_tokens + self.usage.completion_tokens
        if self.prompt_tokens_estimate is None:
            return 0
        return self.prompt_tokens_estimate + token_estimate(self.text)


@dataclass
class _Generation:
    no_answer: bool = False
    withheld: bool = False


async def _generate(
    *,
    answer: _Answer,
    provider: LLMProvider,
    request: AnswerRequest,
    system_text: str | None,
    outcome: _Generation,
) -> AsyncIterator[dict]:
    """
    Streams the provider's text as token frames. For a chat model the text
    also passes the leak guard, and a reply that starts with NO_ANSWER is
    swallowed (outcome.no_answer) so the pipeline can send the fallback.
    """
    guard = LeakGuard(system_text) if system_text else None
    raw = ""
    deciding = guard is not None  # until we know the reply is not NO_ANSWER
    events = provider.stream(request)
    async with aclosing(events):
        async for event in events:
            if isinstance(event, Usage):
                answer.usage = event
                continue
            assert isinstance(event, TextDelta)
            if deciding:
                raw += event.text
                head = raw.lstrip()
                if head.startswith(NO_ANSWER):
                    outcome.no_answer = True
                    continue
                if NO_ANSWER.startswith(head):
                    continue
                deciding = False
                delta = raw
            else:
                if outcome.no_answer:
                    continue
                delta = event.text
            released = guard.feed(delta) if guard else delta
            if guard is not None and guard.tripped:
                outcome.withheld = True
                logger.warning("answer withheld: it repeated the system prompt")
                break
            if released:
                yield answer.token(released)
    if guard is not None and not outcome.withheld and not outcome.no_answer:
        rest = guard.flush()
        if guard.tripped:
            outcome.withheld = True
        elif rest:
            yield answer.token(rest)
    if deciding and not outcome.no_answer and raw.strip():
        # The whole reply was a prefix of NO_ANSWER ("NO", say): send it as it is.
        yield answer.token(raw)


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
    checks = [(MESSAGES_PER_CONVERSATION, conversation_id)]
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


async def answer_stream(
    *,
    conversation_id: str,
    text: str,
    channel: str = Conversation.Channel.WIDGET,
    origin: str = "",
    user_agent: str = "",
    client: RateRequest | None = None,
    admitted: bool = False,
    ui_language: str = "",
) -> AsyncIterator[ServerFrame]:
    """
    The frames of one answer: `start`, `token`s, `sources`, `done`, then `lead`
    when the message carried contact details; or a single `error` frame for a
    message that is refused (bad_request, too_long, rate_limited: see
    `answer_refusal`, skipped when the door has `admitted` the message
    already); or, when the model fails after its first token, `error`
    (llm_unavailable, with the message_id) after the tokens, the partial
    answer being saved.

    Fixed texts are in the language of the visitor's message (detected when
    it is stored), else of the conversation so far, else `ui_language` (the
    widget's), else the site's (core.language).
    """
    received = time.perf_counter()
    bind_conversation(conversation_id)
    if not admitted:
        refusal = await answer_refusal(conversation_id=conversation_id, text=text, client=client, language=ui_language)
        if refusal is not None:
            yield refusal
            return
    text = (text or "").strip()

    answer = _Answer(message_id=new_message_id(), received=received)
    yield {"type": "start", "message_id": answer.message_id}

    bot_task = asyncio.ensure_future(abot_settings_get())
    smalltalk = smalltalk_kind(text)
    request = visitor_request(text)
    # What is answered: the message without the visitor's own email or phone ("..., my email is ...").
    question = message_without_contact_details(text) or text
    # Asking for a person: the knowledge base is searched for the business's contact channels.
    query = CONTACT_QUERY if request == "person" else question
    search_task = None if smalltalk else asyncio.ensure_future(_retrieve(query))
    record_task = asyncio.ensure_future(
        database_sync_to_async(conversation_question_record)(
            conversation_id=conversation_id,
            text=text,
            channel=channel,
            origin=origin,
            user_agent=user_agent,
            history_turns=settings.CHAT_HISTORY_TURNS,
        )
    )
    try:
        recorded: RecordedQuestion = await record_task
        bot: BotConfig = await bot_task
    except Exception:
        logger.exception("could not store the visitor message")
        for task in (search_task, bot_task):
            if task is not None:
                task.cancel()
        yield error_frame(
            "server_error",
            gettext_in(ui_language, "Your message could not be saved; please try again in a moment."),
            message_id=answer.message_id,
        )
        return
    language = recorded.language or language_supported(ui_language) or language_default()
    bot = bot.in_language(language)
    lead_task = asyncio.ensure_future(database_sync_to_async(_lead_step)(conversation=recorded.conversation, text=text))
    lead_task.add_done_callback(_log_task_failure)

    passages: list[Passage] = []
    confidence: float | None = None
    answered: bool | None
    offer_contact = False
    lead: LeadStep | None = None
    try:
        if smalltalk:
            answered = None
            reply = {
                "greeting": bot.greeting,
                "thanks": gettext_in(language, THANKS_REPLY),
                "goodbye": gettext_in(language, GOODBYE_REPLY),
            }[smalltalk]
            for piece in _pieces(reply):
                yield answer.token(piece)
        elif request == "person":
            assert search_task is not None
            lead = await _lead_outcome(lead_task)
            person = _person_request(bot=bot, results=await search_task, lead=lead, language=language)
            answered, passages, offer_contact = person.answered, person.passages, person.offer_contact
            for piece in _pieces(person.text):
                yield answer.token(piece)
        else:
            assert search_task is not None
            results = await search_task
            decision = answer_decide(
                results=results, threshold=bot.answer_threshold, similarity_floor=bot.confidence_threshold
            )
            logger.debug("answer decision: %s", decision)
            confidence = answer_confidence(results)
            outcome = _Generation()
            if request is not None:
                lead = await _lead_outcome(lead_task)
                if lead.status:
                    # Contact details came with the request: it is acknowledged first, then answered.
                    thanks = f"{gettext_in(language, REQUEST_ACK)} {bot.lead_thanks_message}"
                    if decision.answer:
                        thanks += "\n\n"
                    for piece in _pieces(thanks):
                        yield answer.token(piece)
            if decision.answer:
                passages = passages_from_results(results)
                generated = _answer_from_passages(
                    answer=answer,
                    bot=bot,
                    question=question,
                    passages=passages,
                    recorded=recorded,
                    outcome=outcome,
                    language=language,
                    client=client,
                )
                async with aclosing(generated):
                    async for frame in generated:
                        yield frame
            if not decision.answer or outcome.no_answer:
                lead = await _lead_outcome(lead_task)
                answered, reply = _unanswered_reply(bot=bot, text=text, lead=lead, request=request, language=language)
                offer_contact = lead.status is None
                passages = []
                for piece in _pieces(reply):
                    yield answer.token(piece)
            elif outcome.withheld:
                answered = None
                answer.error = "withheld: the answer repeated the system prompt"
                passages = []
                yield answer.token(("\n\n" if answer.parts else "") + gettext_in(language, WITHHELD_REPLY))
            else:
                answered = True
        if lead is None:
            lead = await _lead_outcome(lead_task)
        if answered and request is not None and request != "person" and lead.status is None:
            offer_contact = True
            yield answer.token(f"\n\n{gettext_in(language, REQUEST_ACK)} {bot.contact_prompt}")
    except LLMStreamBroken as exc:
        # answered=None: a broken answer says nothing about the knowledge base, so the
        # question does not go to the unanswered list.
        answer.error = f"llm_unavailable: {exc.detail}"
        await _save(answer=answer, recorded=recorded, answered=None, sources=[], confidence=confidence)
        yield error_frame(
            "llm_unavailable",
            gettext_in(language, "The answer was interrupted; please ask again in a moment."),
            message_id=answer.message_id,
        )
        return
    except (asyncio.CancelledError, GeneratorExit):
        # The visitor left mid-answer: keep what was said.
        if not answer.saved:
            answer.error = answer.error or "interrupted: the visitor disconnected"
            await asyncio.shield(
                _save(answer=answer, recorded=recorded, answered=None, sources=[], confidence=confidence)
            )
        raise

    sources = cited_sources(answer.text, passages) if answered else []
    # Stored before anything else is sent: a visitor who leaves now loses nothing.
    await _save(answer=answer, recorded=recorded, answered=answered, sources=sources, confidence=confidence)
    sources_frame: SourcesFrame = {"type": "sources", "items": sources}
    yield sources_frame
    # In the frame, only a question the knowledge base did not cover is "not answered";
    # a greeting or a thank-you for contact details (None when stored) is not one.
    yield {
        "type": "done",
        "message_id": answer.message_id,
        "answered": answered is not False,
        "offer_contact": offer_contact,
    }
    if lead is not None and lead.status:
        lead_frame: LeadFrame = {"type": "lead", "status": lead.status}  # type: ignore[typeddict-item]
        yield lead_frame


async def _lead_outcome(lead_task: asyncio.Future) -> LeadStep:
    try:
        return await lead_task
    except Exception:  # noqa: BLE001 - logged by _log_task_failure; the answer goes on without it
        return LeadStep(status=None)


def _unanswered_reply(
    *, bot: BotConfig, text: str, lead: LeadStep, request: RequestKind | None = None, language: str = ""
) -> tuple[bool | None, str]:
    """
    The reply when the knowledge base does not cover the message. A message
    that only leaves contact details is thanked, and is not a question; nor
    is a request for a quote, a demo or a call back, which is acknowledged
    (and was thanked already when it came with contact details).
    """
    if request is not None:
        return None, "" if lead.status else f"{gettext_in(language, REQUEST_ACK)} {bot.contact_prompt}"
    if lead.status and "?" not in text:
        return None, bot.lead_thanks_message
    if lead.status:
        return False, bot.lead_thanks_message
    return False, bot.fallback_message


@dataclass(frozen=True)
class PersonReply:
    text: str
    passages: list[Passage]
    answered: bool | None
    offer_contact: bool


def _person_request(*, bot: BotConfig, results: Sequence[SearchResult], lead: LeadStep, language: str) -> PersonReply:
    """
    A visitor asks to talk to a person: the contact channels the knowledge
    base lists (phone, email, opening hours; cited), then the offer to be
    contacted, or the thanks when the message already left contact details.
    The one place where a live handoff to a staff member would start.
    """
    channels = contact_channels_find(results)
    closing = bot.lead_thanks_message if lead.status else bot.contact_prompt
    text = closing
    if channels.text:
        text = f"{gettext_in(language, CHANNELS_LEAD_IN)}\n\n{channels.text}\n\n{closing}"
    return PersonReply(
        text=text,
        passages=channels.passages,
        answered=True if channels.text else None,
        offer_contact=lead.status is None,
    )


async def _answer_from_passages(
    *,
    answer: _Answer,
    bot: BotConfig,
    question: str,
    passages: list[Passage],
    recorded: RecordedQuestion,
    outcome: _Generation,
    language: str,
    client: RateRequest | None = None,
) -> AsyncIterator[dict]:
    """
    The configured provider answers; when a model cannot start, or a token cap
    of the conversation, the client's address or the day (core.limits) has
    no room for the most this answer can cost, the extractive provider answers
    instead.
    """
    provider = provider_get()
    system_text: str | None = None
    messages: tuple = ()
    if not isinstance(provider, ExtractiveProvider):
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
            answer.error = f"{reservation.refused.detail}; answered by the extractive provider"
            provider = ExtractiveProvider()
    if not isinstance(provider, ExtractiveProvider):
        answer.tokens_reserved = reservation
        passages[:] = prompt.passages
        messages, system_text = prompt.messages, prompt.system_text
        answer.prompt_tokens_estimate = prompt.estimated_tokens
    answer.provider, answer.model = provider.name, provider.model
    request = AnswerRequest(question=question, passages=tuple(passages), messages=messages, language=language)
    try:
        generated = _generate(
            answer=answer, provider=provider, request=request, system_text=system_text, outcome=outcome
        )
        async with aclosing(generated):
            async for frame in generated:
                yield frame
    except (LLMUnavailable, LLMStreamBroken) as exc:
        # A stream that broke before anything reached the visitor counts as not started.
        if isinstance(exc, LLMStreamBroken) and answer.parts:
            raise
        if outcome.no_answer:
            return
        logger.warning("LLM unavailable (%s); answering from the knowledge base instead", exc.detail)
        fallback = ExtractiveProvider()
        answer.error = f"llm_unavailable: {exc.detail}; answered by the extractive provider"
        answer.provider, answer.model, answer.usage = fallback.name, fallback.model, None
        answer.prompt_tokens_estimate = None
        request = AnswerRequest(question=question, passages=tuple(passages), messages=(), language=language)
        generated = _generate(answer=answer, provider=fallback, request=request, system_text=None, outcome=outcome)
        async with aclosing(generated):
            async for frame in generated:
                yield frame


async def _save(
    *,
    answer: _Answer,
    recorded: RecordedQuestion,
    answered: bool | None,
    sources: list[SourceItem],
    confidence: float | None,
) -> Message:
    usage = answer.usage
    if answer.tokens_reserved is not None:
        reservation, answer.tokens_reserved = answer.tokens_reserved, None
        await allm_tokens_settle(reservation=reservation, tokens=answer.llm_tokens)
    message = await database_sync_to_async(message_answer_record)(
        conversation_id=recorded.conversation.pk,
        question=recorded.message,
        public_id=answer.message_id,
        text=answer.text,
        answered=answered,
        sources=sources,
        confidence=confidence,
        provider=answer.provider,
        model=answer.model,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        time_to_first_token_ms=answer.ttft_ms,
        duration_ms=_ms(time.perf_counter() - answer.received),
        error=answer.error,
    )
    answer.saved = True
    logger.info(
        "answer %s stored: provider=%s answered=%s first_token_ms=%s llm_tokens=%s%s",
        answer.message_id,
        answer.provider or "-",
        answered,
        answer.ttft_ms,
        answer.llm_tokens,
        f" ({answer.error})" if answer.error else "",
    )
    return message


# --- Collecting a whole answer (REST without streaming) -------------------------------------


@dataclass
class CollectedAnswer:
    conversation_id: str
    message_id: str | None = None
    answer: str = ""
    sources: list[SourceItem] = field(default_factory=list)
    answered: bool = False
    offer_contact: bool = False
    lead: str | None = None
    error: ErrorFrame | None = None


async def answer_collect(
    *,
    conversation_id: str,
    text: str,
    channel: str = Conversation.Channel.API,
    origin: str = "",
    user_agent: str = "",
    client: RateRequest | None = None,
    admitted: bool = False,
    ui_language: str = "",
) -> CollectedAnswer:
    result = CollectedAnswer(conversation_id=conversation_id)
    parts: list[str] = []
    async for frame in answer_stream(
        conversation_id=conversation_id,
        text=text,
        channel=channel,
        origin=origin,
        user_agent=user_agent,
        client=client,
        admitted=admitted,
        ui_language=ui_language,
    ):
        kind = frame["type"]
        if kind == "start":
            result.message_id = frame["message_id"]  # type: ignore[typeddict-item]
        elif kind == "token":
            parts.append(frame["text"])  # type: ignore[typeddict-item]
        elif kind == "sources":
            result.sources = frame["items"]  # type: ignore[typeddict-item]
        elif kind == "done":
            result.answered = frame["answered"]  # type: ignore[typeddict-item]
            result.offer_contact = frame["offer_contact"]  # type: ignore[typeddict-item]
        elif kind == "lead":
            result.lead = frame["status"]  # type: ignore[typeddict-item]
        elif kind == "error":
            result.error = frame  # type: ignore[assignment]
    result.answer = "".join(parts)
    return result
