"""Collect: a whole answer from its frames, for the REST door without streaming."""

from __future__ import annotations

from dataclasses import dataclass, field

from chatbot.frames import ErrorFrame
from chatbot.pipeline.stream import answer_stream
from conversations.models import Conversation
from conversations.types import SourceItem
from core.limits import RateRequest


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
        if frame["type"] == "start":
            result.message_id = frame["message_id"]
        elif frame["type"] == "token":
            parts.append(frame["text"])
        elif frame["type"] == "sources":
            result.sources = frame["items"]
        elif frame["type"] == "done":
            result.answered, result.offer_contact = frame["answered"], frame["offer_contact"]
        elif frame["type"] == "lead":
            result.lead = frame["status"]
        elif frame["type"] == "error":
            result.error = frame
    result.answer = "".join(parts)
    return result
