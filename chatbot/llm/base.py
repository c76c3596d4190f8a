"""
The provider interface: what the answer pipeline asks of any way to produce an answer.

A provider turns an `AnswerRequest` into a stream of `TextDelta`s (and, when it
knows them, one `Usage`). It raises `LLMUnavailable` when it could not produce a
first token (after its own retries) and `LLMStreamBroken` when it failed after
one; the pipeline decides what the visitor sees in each case.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Literal, Protocol, TypedDict

# Text streamed at once (an extractive answer, a fixed reply) goes out in chunks of this many words.
CHUNK_WORDS = 3
_WORD_RE = re.compile(r"\S+\s*|\s+")


def text_chunks(text: str) -> list[str]:
    """`text` in chunks of CHUNK_WORDS words with their spacing, as a model streams: joined, they are `text`."""
    words = _WORD_RE.findall(text)
    return ["".join(words[start : start + CHUNK_WORDS]) for start in range(0, len(words), CHUNK_WORDS)]


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the pipeline numbers it: [n] in the prompt and in the answer."""

    n: int
    text: str
    title: str
    url: str
    confidence: float
    source_type: str = "document"  # or "faq": then `text` is the question, a line break, the answer


@dataclass(frozen=True)
class AnswerRequest:
    question: str
    passages: tuple[Passage, ...]
    messages: tuple[ChatMessage, ...]  # the full prompt, for chat models
    # The visitor's language (ISO 639-1; core.language), for texts a provider writes itself.
    language: str = ""


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int | None


LLMEvent = TextDelta | Usage


class LLMError(Exception):
    """Base of the provider errors; `detail` is safe to store and log (no secrets)."""

    def __init__(self, detail: str, *, attempts: int = 1) -> None:
        super().__init__(detail)
        self.detail = detail
        self.attempts = attempts


class LLMUnavailable(LLMError):
    """No token was produced: retries exhausted, or an error that retrying cannot fix."""


class LLMStreamBroken(LLMError):
    """The stream failed after at least one token was produced."""


class LLMProvider(Protocol):
    name: str
    model: str

    def stream(self, request: AnswerRequest) -> AsyncGenerator[LLMEvent, None]: ...
