"""
What one answer has produced so far, and the events the reply steps send it.

The reply steps are async generators of events: pieces of the answer's text
(`TextDelta`), the provider that answers (`ProviderUsed`) and its `Usage`, a
`Note` for the stored error column and, last, the `Reply`. Only `answer_stream`
applies them, to its `Draft`, which is what is saved, even when the answer
ends early.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from chatbot.frames import TokenFrame
from chatbot.llm import Passage, TextDelta, Usage, text_chunks
from chatbot.prompting import token_estimate
from core.limits import TokenReservation


class Outcome(enum.Enum):
    """How a visitor message was met; `Message.answered` keeps the three values of `answered_column`."""

    ANSWERED = "answered"  # from the knowledge base (or with the contact channels a visitor asked for)
    REFUSED = "refused"  # a question the knowledge base does not cover: it goes to the unanswered list
    SMALLTALK = "smalltalk"  # a greeting, a thank-you, a goodbye
    REQUEST = "request"  # asking for a person, a quote or a call back, which the knowledge base cannot answer
    CONTACT = "contact"  # contact details left without a question
    WITHHELD = "withheld"  # the model's answer repeated the system prompt
    ERROR = "error"  # the model broke off, or the visitor left mid-answer

    @property
    def answered_column(self) -> bool | None:
        """True, False (an unanswered question), or None: the message was not a question, or no answer came."""
        if self is Outcome.ANSWERED:
            return True
        if self is Outcome.REFUSED:
            return False
        return None


@dataclass(frozen=True)
class ProviderUsed:
    """The provider that answers from here on (a fallback sends a second one)."""

    name: str
    model: str
    # A chat model's prompt cost, estimated, for the token caps; None for no model.
    prompt_tokens_estimate: int | None = None
    # The tokens held on the caps' counters until the answer's real cost is known (core.limits).
    reservation: TokenReservation | None = None


@dataclass(frozen=True)
class Note:
    """What went wrong on the way, stored in the answer's error column."""

    error: str


@dataclass(frozen=True)
class Reply:
    """The last event of a reply: how the message was met, and the passages its [n] citations refer to."""

    outcome: Outcome
    passages: tuple[Passage, ...] = ()
    offer_contact: bool = False


Event = TextDelta | Usage | ProviderUsed | Note | Reply


def ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


@dataclass
class Draft:
    """One answer as far as it got: its text, provider, usage and timings."""

    message_id: str
    received: float
    provider: str = ""
    model: str = ""
    parts: list[str] = field(default_factory=list)
    first_token_at: float | None = None
    usage: Usage | None = None
    error: str = ""
    prompt_tokens_estimate: int | None = None
    reservation: TokenReservation | None = None

    def take(self, event: TextDelta | Usage | ProviderUsed | Note) -> TokenFrame | None:
        """Applies an event; a piece of text comes back as the token frame that sends it."""
        if isinstance(event, TextDelta):
            if self.first_token_at is None:
                self.first_token_at = time.perf_counter()
            self.parts.append(event.text)
            return {"type": "token", "text": event.text}
        if isinstance(event, Usage):
            self.usage = event
        elif isinstance(event, ProviderUsed):
            self.provider, self.model, self.usage = event.name, event.model, None
            self.prompt_tokens_estimate = event.prompt_tokens_estimate
            if event.reservation is not None:
                self.reservation = event.reservation
        else:
            self.error = event.error
        return None

    @property
    def text(self) -> str:
        return "".join(self.parts)

    @property
    def ttft_ms(self) -> int | None:
        return None if self.first_token_at is None else ms(self.first_token_at - self.received)

    @property
    def llm_tokens(self) -> int:
        """Prompt + completion tokens a chat model spent: as reported, else estimated; 0 for no model."""
        if self.usage is not None:
            return (self.usage.prompt_tokens or 0) + (self.usage.completion_tokens or 0)
        if self.prompt_tokens_estimate is None:
            return 0
        return self.prompt_tokens_estimate + token_estimate(self.text)


@dataclass(frozen=True)
class Canned:
    """A reply of fixed text (small talk, a request, the fallback): streamed in word-sized chunks like a model's."""

    text: str
    reply: Reply

    def events(self) -> Iterator[TextDelta | Reply]:
        for chunk in text_chunks(self.text):
            yield TextDelta(chunk)
        yield self.reply
