"""
Redis restarted while visitors chat: open WebSockets stay open, every question
gets its answer, a visitor who reconnects resumes the whole conversation.

Redis here is the cache (rate-limit counters) and the channel layer of two
Gunicorn workers. The test restarts a `redis-server` of its own, never the
machine's shared one. A restart empties Redis (no persistence), as a real
cache restart may.
"""

from __future__ import annotations

import asyncio

import pytest

from conversations.models import Message
from tests.faults.clients import ChatClient, db_call
from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VISITORS = 12
QUESTIONS = ["Do you ship to Canada?", "Can I ride my e-bike in the rain?", "What warranty do Tidewater bikes have?"]


def complete_exchanges(conversation_id: str) -> list[tuple[str, bool | None]]:
    """(question, answered) for each visitor message of the conversation that has a complete answer."""
    exchanges = []
    for message in Message.objects.filter(conversation_id=conversation_id, role=Message.Role.VISITOR).order_by("id"):
        answer = Message.objects.filter(reply_to=message, role=Message.Role.ASSISTANT).first()
        exchanges.append((message.text, None if answer is None or answer.error else answer.answered))
    return exchanges


async def test_open_websockets_survive_a_redis_restart_and_lose_nothing(tidewater_kb, own_redis):
    env = {"REDIS_URL": own_redis.url, "LLM_PROVIDER": "extractive", "WEB_CONCURRENCY": "2"}
    with server_process("gunicorn", env=env) as server:
        visitors = [ChatClient(server.ws_url) for _ in range(VISITORS)]
        await asyncio.gather(*[visitor.open() for visitor in visitors])
        before = await asyncio.gather(*[visitor.ask(QUESTIONS[0]) for visitor in visitors])
        assert all(answer.done for answer in before), [a.frames[-1] for a in before]

        # Down: questions asked while Redis is gone are still answered.
        own_redis.stop()
        during = await asyncio.gather(*[visitor.ask(QUESTIONS[1]) for visitor in visitors])
        await asyncio.sleep(0.5)
        own_redis.start()
        after = await asyncio.gather(*[visitor.ask(QUESTIONS[2]) for visitor in visitors])

        assert [answer.kinds() for answer in during] == [["start", "token", "sources", "done"]] * VISITORS, [
            answer.frames[-1] for answer in during
        ]
        assert all(answer.done for answer in after), [a.frames[-1] for a in after]
        assert all(visitor.ws.close_code is None for visitor in visitors), "a WebSocket was closed by the restart"

        # A visitor who comes back (a reload) finds the whole conversation.
        returning = visitors[0]
        await returning.close()
        await returning.open()
        assert [item["text"] for item in returning.history if item["role"] == "visitor"] == QUESTIONS
        await asyncio.gather(*[visitor.close() for visitor in visitors])

    for visitor in visitors:
        exchanges = await db_call(complete_exchanges, visitor.conversation_id)
        assert exchanges == [(question, True) for question in QUESTIONS], exchanges
    assert "Traceback" not in server.log(), server.log()[-3000:]
