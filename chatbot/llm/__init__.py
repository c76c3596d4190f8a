"""LLM providers behind one interface (see `base`); `provider_get()` picks the configured one."""

from django.conf import settings

from chatbot.llm.base import (
    AnswerRequest,
    ChatMessage,
    LLMError,
    LLMEvent,
    LLMProvider,
    LLMStreamBroken,
    LLMUnavailable,
    Passage,
    TextDelta,
    Usage,
    text_chunks,
)
from chatbot.llm.extractive import ExtractiveProvider
from chatbot.llm.openai_chat import OpenAIChatProvider, OpenAIConfig

__all__ = [
    "AnswerRequest",
    "ChatMessage",
    "ExtractiveProvider",
    "LLMError",
    "LLMEvent",
    "LLMProvider",
    "LLMStreamBroken",
    "LLMUnavailable",
    "OpenAIChatProvider",
    "Passage",
    "TextDelta",
    "Usage",
    "provider_get",
    "text_chunks",
]


def provider_get() -> LLMProvider:
    """The provider the settings choose; cheap to call per answer (clients are reused per event loop)."""
    if settings.LLM_PROVIDER == "openai":
        return OpenAIChatProvider(
            OpenAIConfig(
                api_key=settings.OPENAI_API_KEY,
                base_url=settings.OPENAI_BASE_URL,
                model=settings.LLM_MODEL,
                temperature=settings.LLM_TEMPERATURE,
                max_tokens=settings.LLM_MAX_TOKENS,
                timeout=settings.LLM_TIMEOUT,
                connect_timeout=settings.LLM_CONNECT_TIMEOUT,
                max_retries=settings.LLM_MAX_RETRIES,
            )
        )
    return ExtractiveProvider()
