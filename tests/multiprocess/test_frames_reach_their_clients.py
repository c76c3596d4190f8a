"""
Many visitors spread over two web processes, each streaming an answer from a
model at the same time: every frame a visitor receives belongs to its own
conversation and question, whichever process holds its WebSocket; and a
conversation moves between processes (a reconnect lands on the other one)
without losing anything.

The consumer sends every frame from the process that holds the socket and
does not use channel-layer groups (chatbot/consumers.py), so there is no
cross-process group delivery to test; what crosses processes is the
conversation itself, through PostgreSQL.
"""

from __future__ import annotations

import asyncio
import re

import pytest

from conversations.models import Message
from tests.faults.clients import ChatClient, db_call
from testsupport.fake_openai import FakeOpenAI, ref_marker
from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

VISITORS = 80
QUESTIONS = [
    "Do you ship to Canada?",
    "Can I ride my e-bike in the rain?",
    "What warranty do Tidewater bikes have?",
    "How long do I have to return a bike?",
    "How long does the battery last before it needs replacing?",
]


@pytest.fixture
def two_servers(tidewater_kb):
    with FakeOpenAI(chunk_delay=0.01) as llm:
        # Every visitor comes from 127.0.0.1: no per-address caps.
        env = {
            "LLM_PROVIDER": "openai",
            "OPENAI_BASE_URL": llm.base_url,
            "OPENAI_API_KEY": "sk-test",
            "RATE_LIMIT_MESSAGES_PER_IP": "100000/m",
            "WEBSOCKET_CONNECTIONS_PER_IP": "0",
            "LLM_TOKENS_PER_IP_PER_DAY": "0",
        }
        with server_process("gunicorn", env=env) as first, server_process("gunicorn", env=env) as second:
            yield first, second


def stored_answers(message_ids: list[str]) -> dict[str, Message]:
    return {m.public_id: m for m in Message.objects.filter(public_id__in=message_ids)}


async def test_every_visitor_gets_only_its_own_frames_whichever_process_holds_it(two_servers):
    servers = two_servers
    visitors = [ChatClient(servers[n % 2].ws_url) for n in range(VISITORS)]
    markers = [ref_marker() for _ in range(VISITORS)]
    await asyncio.gather(*[visitor.open() for visitor in visitors])
    answers = await asyncio.gather(
        *[
            visitor.ask(f"{QUESTIONS[n % len(QUESTIONS)]} {marker}")
            for n, (visitor, marker) in enumerate(zip(visitors, markers, strict=True))
        ]
    )
    await asyncio.gather(*[visitor.close() for visitor in visitors])

    stored = await db_call(stored_answers, [answer.message_id for answer in answers])
    for visitor, marker, answer in zip(visitors, markers, answers, strict=True):
        assert answer.kinds() == ["start", "token", "sources", "done"], answer.frames
        assert answer.frames[0]["message_id"] == answer.last["message_id"]
        assert set(re.findall(r"ref-\w+", answer.text)) == {marker}, "a token of another conversation arrived"
        message = stored[answer.message_id]
        assert (message.conversation_id, message.text, message.provider) == (
            visitor.conversation_id,
            answer.text,
            "openai",
        )
    assert len({visitor.conversation_id for visitor in visitors}) == VISITORS


async def test_a_conversation_moves_between_processes_and_its_frames_go_only_to_the_socket_that_asked(two_servers):
    first, second = two_servers
    visitor = ChatClient(first.ws_url)
    await visitor.open()
    one = await visitor.ask("Do you ship to Canada? ref-first")
    await visitor.close()

    # The widget reconnects and lands on the other process: the conversation follows.
    await visitor.open(second.ws_url)
    assert [(item["role"], item["text"]) for item in visitor.history] == [
        ("visitor", "Do you ship to Canada? ref-first"),
        ("assistant", one.text),
    ]
    # The same conversation open in a second tab, held by the first process.
    other_tab = ChatClient(first.ws_url)
    other_tab.conversation_id = visitor.conversation_id
    await other_tab.open()
    two = await visitor.ask("Can I ride my e-bike in the rain? ref-second")

    assert two.done and "ref-second" in two.text and "ref-first" not in two.text
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(other_tab.ws.recv(), 1.0)  # the other tab was not sent this answer
    await other_tab.close()
    await visitor.close()
    resumed = ChatClient(first.ws_url)
    resumed.conversation_id = visitor.conversation_id
    await resumed.open()
    assert [item["text"] for item in resumed.history if item["role"] == "visitor"] == [
        "Do you ship to Canada? ref-first",
        "Can I ride my e-bike in the rain? ref-second",
    ]
    await resumed.close()
