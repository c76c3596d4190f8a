"""
Chat completions through the official `openai` client (AsyncOpenAI), streamed.

`OPENAI_BASE_URL` points it at any OpenAI-compatible server (Mistral, vLLM,
Ollama, llama.cpp's server), so a self-hosted model is a setting.

Retries are ours, not the client's (its `max_retries` is 0): a failure before
the first token is retried with exponential backoff, honouring `Retry-After`;
a failure after it is not, because the visitor has already seen part of the
answer.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import cast

import httpx2
import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from chatbot.llm.base import (
    AnswerRequest,
    LLMEvent,
    LLMStreamBroken,
    LLMUnavailable,
    TextDelta,
    Usage,
)
from core.retry import backoff_delay, retry_after_from_headers

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 409, 429}
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
BACKOFF_JITTER = (0.5, 1.0)
# A provider asking us to wait longer than this will not be waited for: the
# visitor is watching a typing indicator.
MAX_RETRY_AFTER = 10.0
# Local OpenAI-compatible servers accept any key, but the client needs one.
PLACEHOLDER_API_KEY = "not-needed"


@dataclass(frozen=True)
class OpenAIConfig:
    api_key: str
    base_url: str
    model: str
    temperature: float
    max_tokens: int
    timeout: float
    connect_timeout: float
    max_retries: int


def _is_retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRYABLE_STATUS or exc.status_code >= 500
    return False


def _describe(exc: Exception) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"{type(exc).__name__} (HTTP {exc.status_code})"
    return type(exc).__name__


class _ClientsPerLoop:
    """
    One AsyncOpenAI client (and so one connection pool) per event loop and
    configuration. A pool cannot be shared between loops, and a server process
    has one loop, so in production this is one client; tests and management
    commands, which start loops of their own, get fresh ones.
    """

    def __init__(self) -> None:
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[OpenAIConfig, AsyncOpenAI]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, config: OpenAIConfig) -> AsyncOpenAI:
        loop = asyncio.get_running_loop()
        per_loop = self._clients.setdefault(loop, {})
        client = per_loop.get(config)
        if client is None:
            client = AsyncOpenAI(
                api_key=config.api_key or PLACEHOLDER_API_KEY,
                base_url=config.base_url or None,
                timeout=httpx2.Timeout(config.timeout, connect=config.connect_timeout),
                max_retries=0,
            )
            per_loop[config] = client
        return client


_clients = _ClientsPerLoop()


class OpenAIChatProvider:
    name = "openai"

    def __init__(self, config: OpenAIConfig, *, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.config = config
        self.model = config.model
        self._sleep = sleep

    def _delay_before_retry(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retry number `attempt` (1-based), or None to give up now."""
        hinted = retry_after_from_headers(exc.response.headers) if isinstance(exc, openai.APIStatusError) else None
        if hinted is not None and hinted > MAX_RETRY_AFTER:
            return None
        return backoff_delay(
            attempt=attempt, base=BACKOFF_BASE, cap=BACKOFF_CAP, retry_after=hinted, jitter=BACKOFF_JITTER
        )

    async def stream(self, request: AnswerRequest) -> AsyncGenerator[LLMEvent, None]:
        client = _clients.get(self.config)
        attempt = 0
        while True:
            attempt += 1
            emitted = False
            usage: Usage | None = None
            try:
                response = await client.chat.completions.create(
                    model=self.config.model,
                    messages=[cast(ChatCompletionMessageParam, message) for message in request.messages],
                    temperature=self.config.temperature,
                    max_tokens=self.config.max_tokens,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                async with response:
                    async for chunk in response:
                        if chunk.usage is not None:
                            usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                        for choice in chunk.choices:
                            content = choice.delta.content if choice.delta else None
                            if content:
                                emitted = True
                                yield TextDelta(content)
                if usage is not None:
                    yield usage
                return
            except openai.OpenAIError as exc:
                detail = _describe(exc)
                if emitted:
                    logger.warning("LLM stream broke after the first token: %s", detail)
                    raise LLMStreamBroken(f"stream broke after the first token: {detail}", attempts=attempt) from exc
                if not _is_retryable(exc):
                    raise LLMUnavailable(f"{detail}, not retryable", attempts=attempt) from exc
                if attempt > self.config.max_retries:
                    raise LLMUnavailable(f"{detail} after {attempt} attempts", attempts=attempt) from exc
                delay = self._delay_before_retry(exc, attempt)
                if delay is None:
                    raise LLMUnavailable(
                        f"{detail}, asked to wait over {MAX_RETRY_AFTER:g}s", attempts=attempt
                    ) from exc
                logger.info("LLM attempt %d failed (%s); retrying in %.2fs", attempt, detail, delay)
                await self._sleep(delay)
