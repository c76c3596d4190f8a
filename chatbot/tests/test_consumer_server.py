"""The chat WebSocket served by real server processes, driven by the `websockets` client."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from conversations.models import Message
from testsupport.fake_openai import FakeOpenAI, ref_marker
from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20


async def converse(url: str, text: str) -> tuple[str, list[dict]]:
    async with connect(url, open_timeout=TIMEOUT) as ws:
        conversation = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        await ws.send(json.dumps({"type": "message", "text": text}))
        frames = []
        while not frames or frames[-1]["type"] not in ("done", "error"):
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)))
    return conversation["id"], frames


@pytest.mark.parametrize("kind", ["daphne", "uvicorn"])
async def test_a_server_process_streams_an_answer_over_a_websocket(kind, tidewater_kb):
    with server_process(kind, env={"LLM_PROVIDER": "extractive"}) as server:
        conversation_id, frames = await converse(f"{server.ws_url}/ws/chat/", "Do you ship to Canada?")

    assert frames[0]["type"] == "start"
    assert frames[-1]["type"] == "done" and frames[-1]["answered"] is True
    text = "".join(f["text"] for f in frames if f["type"] == "token")
    assert "Canada" in text
    stored = await Message.objects.aget(public_id=frames[0]["message_id"])
    assert stored.conversation_id == conversation_id
    assert stored.text == text


async def test_concurrent_conversations_through_a_streaming_model_each_get_their_own_answer(tidewater_kb):
    with (
        FakeOpenAI(chunk_delay=0.01) as llm,
        server_process(
            "uvicorn", env={"LLM_PROVIDER": "openai", "OPENAI_BASE_URL": llm.base_url, "OPENAI_API_KEY": "sk-test"}
        ) as server,
    ):
        markers = [ref_marker() for _ in range(12)]
        results = await asyncio.gather(
            *[converse(f"{server.ws_url}/ws/chat/", f"Do you ship to Canada? {marker}") for marker in markers]
        )

    for marker, (conversation_id, frames) in zip(markers, results, strict=True):
        text = "".join(f["text"] for f in frames if f["type"] == "token")
        assert marker in text, "each answer reached its own conversation"
        assert sum(other in text for other in markers) == 1
        stored = await Message.objects.aget(public_id=frames[0]["message_id"])
        assert (stored.conversation_id, stored.provider, stored.text) == (conversation_id, "openai", text)
