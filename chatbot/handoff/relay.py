"""
The bot's answer, relayed live to staff, around the answer stream (never inside it).

`answer_relayed` passes the pipeline's frames through unchanged. When any
staff member is online, the inbox hears that the conversation moved (once per
answer); when someone has this conversation open, its watchers get the
answer's frames as the visitor does, with tokens coalesced to at most one
relay every RELAY_INTERVAL seconds. Nobody online costs one cache read per
answer, made while the first frame is produced. An answer that did not cover the question updates the conversation's
inbox row (flagged unanswered).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from django.utils import timezone

from chatbot.frames import ServerFrame
from chatbot.handoff.groups import INBOX_GROUP, agroup_send, watch_group
from chatbot.handoff.presence import aaudience
from chatbot.handoff.services import ainbox_update

RELAY_INTERVAL = 0.1


async def answer_relayed(
    *, conversation_id: str, text: str, frames: AsyncGenerator[ServerFrame, None]
) -> AsyncGenerator[ServerFrame, None]:
    # Read while the first frame is produced: the visitor's `start` never waits for it.
    audience: asyncio.Future | None = asyncio.ensure_future(aaudience(conversation_id=conversation_id))
    staff_online = watched = unanswered = False
    watchers = watch_group(conversation_id)
    pending: list[str] = []
    flushed = time.monotonic()

    async def relay(frame: dict) -> None:
        await agroup_send(watchers, {"type": "answer", "conversation": conversation_id, "frame": frame})

    try:
        async with aclosing(frames):
            async for sent in frames:
                yield sent
                frame: dict[str, Any] = dict(sent)
                if audience is not None:
                    staff_online, watched = await audience
                    audience = None
                if not staff_online:
                    continue
                kind = frame.get("type")
                if kind == "start":
                    await _inbox_moved(conversation_id, text)
                if kind == "done" and frame.get("answered") is False:
                    unanswered = True
                if not watched:
                    continue
                if kind == "token":
                    pending.append(str(frame.get("text", "")))
                    if time.monotonic() - flushed < RELAY_INTERVAL:
                        continue
                    frame = {"type": "token", "text": "".join(pending)}
                    pending.clear()
                    flushed = time.monotonic()
                elif pending:
                    await relay({"type": "token", "text": "".join(pending)})
                    pending.clear()
                await relay(frame)
    finally:
        if audience is not None:
            audience.cancel()
    if watched and pending:
        await relay({"type": "token", "text": "".join(pending)})
    if unanswered:
        # The inbox flags conversations with a question the knowledge base did not cover.
        await ainbox_update(conversation_id)


async def _inbox_moved(conversation_id: str, text: str) -> None:
    """The inbox row moves up with the visitor's message; an open transcript shows it."""
    await agroup_send(
        INBOX_GROUP,
        {
            "type": "visitor_message",
            "conversation": conversation_id,
            "id": "",
            "text": (text or "").strip(),
            "created_at": timezone.now().isoformat(),
        },
    )


async def answer_relay_collected(*, conversation_id: str, text: str, message_id: str, answer: str) -> None:
    """For a door that answers in one piece (REST JSON): the same relay, after the fact."""

    async def frames() -> AsyncGenerator[ServerFrame, None]:
        yield {"type": "start", "message_id": message_id}
        yield {"type": "token", "text": answer}
        yield {"type": "done", "message_id": message_id, "answered": True, "offer_contact": False}

    async for _ in answer_relayed(conversation_id=conversation_id, text=text, frames=frames()):
        pass
