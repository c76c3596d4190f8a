"""
The bot's answer, relayed live to staff, around the answer stream (never inside it).

`answer_relayed` passes the pipeline's frames through unchanged. When any
staff member is online, the inbox hears that the conversation moved (once per
answer); when someone has this conversation open, its watchers get the
answer's frames as the visitor does, with tokens coalesced to at most one
relay every RELAY_INTERVAL seconds. Nobody online costs one cache read per
answer.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing

from django.utils import timezone

from chatbot.handoff.groups import INBOX_GROUP, agroup_send, watch_group
from chatbot.handoff.presence import aaudience

RELAY_INTERVAL = 0.1


async def answer_relayed(*, conversation_id: str, text: str, frames: AsyncIterator) -> AsyncIterator:
    staff_online, watched = await aaudience(conversation_id=conversation_id)
    if not staff_online:
        async with aclosing(frames):
            async for frame in frames:
                yield frame
        return
    watchers = watch_group(conversation_id)
    pending: list[str] = []
    flushed = time.monotonic()

    async def relay(frame: dict) -> None:
        await agroup_send(watchers, {"type": "answer", "conversation": conversation_id, "frame": frame})

    async with aclosing(frames):
        async for frame in frames:
            yield frame
            kind = frame.get("type")
            if kind == "start":
                # The inbox row moves up with the visitor's message; the transcript shows it.
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
            if not watched:
                continue
            if kind == "token":
                pending.append(frame.get("text", ""))
                if time.monotonic() - flushed < RELAY_INTERVAL:
                    continue
                frame = {"type": "token", "text": "".join(pending)}
                pending.clear()
                flushed = time.monotonic()
            elif pending:
                await relay({"type": "token", "text": "".join(pending)})
                pending.clear()
            await relay(frame)
        if watched and pending:
            await relay({"type": "token", "text": "".join(pending)})


async def answer_relay_collected(*, conversation_id: str, text: str, message_id: str, answer: str) -> None:
    """For a door that answers in one piece (REST JSON): the same relay, after the fact."""

    async def frames() -> AsyncIterator[dict]:
        yield {"type": "start", "message_id": message_id}
        yield {"type": "token", "text": answer}
        yield {"type": "done", "message_id": message_id, "answered": True, "offer_contact": False}

    async for _ in answer_relayed(conversation_id=conversation_id, text=text, frames=frames()):
        pass
