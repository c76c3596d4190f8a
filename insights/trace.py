"""
"Test your bot": one question through the pipeline's public steps, with the
figures behind each, and nothing stored.

The steps are the ones `chatbot.pipeline.answer_stream` runs: the intent
(`intent_read`: small talk, a request, the question without contact details), search
(`answer_search`: hybrid dense + keyword retrieval), the decision
(`answer_decide` against the bot's thresholds), the passages the prompt gets
(`passages_from_results`), the prompt a chat model would receive
(`prompt_build`, built even when the extractive provider answers, so staff see
it), then the configured provider's answer when the decision is to answer. No
conversation, message, lead or unanswered question is written, and no token
cap is charged: staff are not visitors.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from asgiref.sync import async_to_sync
from django.conf import settings

from chatbot.llm import AnswerRequest, ExtractiveProvider, LLMError, TextDelta, Usage, provider_get
from chatbot.pipeline import SEARCH_K, passages_from_results
from chatbot.pipeline.intent import intent_read
from chatbot.prompting import prompt_build, token_estimate
from chatbot.selectors import bot_settings_get
from core.language import language_choose, language_default, language_detect, language_supported
from knowledge.answerability import answer_decide, answer_search, passage_score


@dataclass
class TraceAnswer:
    provider: str
    model: str
    text: str = ""
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    estimated_tokens: int | None = None
    first_token_ms: float | None = None
    duration_ms: float = 0.0
    error: str = ""


@dataclass
class BotTrace:
    question: str
    language: str
    smalltalk: str | None
    request: str | None
    passages: list[dict] = field(default_factory=list)
    decision: dict = field(default_factory=dict)
    prompt_passages: list[dict] = field(default_factory=list)
    prompt_messages: list[dict] = field(default_factory=list)
    prompt_estimated_tokens: int = 0
    answer: TraceAnswer | None = None
    reply_without_model: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)


def bot_trace(*, question: str) -> BotTrace:
    """The decision trace of `question`, as a visitor would ask it."""
    question = question.strip()
    bot = bot_settings_get()
    language = language_choose(guess=language_detect(question)) or language_default()
    bot = bot.in_language(language_supported(language) or language_default())
    intent = intent_read(question)
    asked = intent.question
    trace = BotTrace(question=question, language=language, smalltalk=intent.smalltalk, request=intent.request)
    started = time.perf_counter()
    # Small talk is not searched by the pipeline; the trace searches it anyway, to show what would match.
    results = answer_search(query=intent.search_query or asked, k=SEARCH_K)
    trace.timings_ms["search"] = _ms(started)
    for rank, result in enumerate(results, start=1):
        score, _ = passage_score(result)
        trace.passages.append(
            {
                "rank": rank,
                "title": result.citation_label,
                "url": result.url,
                "source_type": result.source_type,
                "dense_rank": result.dense_rank,
                "keyword_rank": result.keyword_rank,
                "fused_score": round(result.score, 4),
                "similarity": round(result.confidence, 4),
                "lift": round(result.lift, 4),
                "coverage": round(result.coverage, 4),
                "question_similarity": None
                if result.question_similarity is None
                else round(result.question_similarity, 4),
                "score": round(score, 4),
                "text": result.text[:600],
            }
        )
    started = time.perf_counter()
    decision = answer_decide(results=results, threshold=bot.answer_threshold, similarity_floor=bot.confidence_threshold)
    trace.decision = decision.as_dict()
    trace.timings_ms["decision"] = _ms(started)
    passages = passages_from_results(results)
    started = time.perf_counter()
    prompt = prompt_build(
        bot_name=bot.name,
        system_prompt=bot.system_prompt,
        question=asked,
        passages=passages,
        history=[],
        context_tokens=settings.LLM_CONTEXT_TOKENS,
        language=language,
    )
    trace.timings_ms["prompt"] = _ms(started)
    trace.prompt_messages = [dict(message) for message in prompt.messages]
    trace.prompt_estimated_tokens = prompt.estimated_tokens
    trace.prompt_passages = [
        {"n": p.n, "title": p.title, "similarity": round(p.confidence, 4)} for p in prompt.passages
    ]
    if not decision.answer:
        trace.reply_without_model = bot.fallback_message
        return trace
    trace.answer = _answer(question=asked, prompt=prompt, language=language)
    trace.timings_ms["answer"] = trace.answer.duration_ms
    return trace


def _answer(*, question: str, prompt, language: str) -> TraceAnswer:
    provider = provider_get()
    extractive = isinstance(provider, ExtractiveProvider)
    request = AnswerRequest(
        question=question,
        passages=tuple(prompt.passages),
        messages=() if extractive else prompt.messages,
        language=language,
    )
    answer = TraceAnswer(provider=provider.name, model=provider.model)
    if not extractive:
        answer.estimated_tokens = prompt.estimated_tokens
    async_to_sync(_stream)(provider, request, answer)
    if answer.prompt_tokens is None and not extractive:
        answer.completion_tokens = token_estimate(answer.text)
    return answer


async def _stream(provider, request: AnswerRequest, answer: TraceAnswer) -> None:
    started = time.perf_counter()
    parts: list[str] = []
    try:
        async for event in provider.stream(request):
            if isinstance(event, Usage):
                answer.prompt_tokens, answer.completion_tokens = event.prompt_tokens, event.completion_tokens
            elif isinstance(event, TextDelta):
                if answer.first_token_ms is None:
                    answer.first_token_ms = _ms(started)
                parts.append(event.text)
    except LLMError as exc:
        answer.error = exc.detail
    answer.text = "".join(parts)
    answer.duration_ms = _ms(started)
