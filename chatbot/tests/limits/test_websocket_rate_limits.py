"""WebSocket frames count in the same buckets as the REST API, and a limited client keeps its connection."""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from chatbot.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10
IP = "203.0.113.7"
CONSENT = "I agree that Tidewater Bikes contacts me about my request."


@asynccontextmanager
async def connected(ip: str = IP, path: str = "/ws/chat/"):
    communicator = WebsocketCommunicator(application, path)
    communicator.scope["client"] = (ip, 50123)  # what the server puts in the scope
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    try:
        hello = await communicator.receive_json_from(timeout=TIMEOUT)
        assert hello["type"] == "conversation"
        communicator.conversation_id = hello["id"]
        yield communicator
    finally:
        await communicator.disconnect()


async def ask(ws, text: str = "hello") -> list[dict]:
    await ws.send_json_to({"type": "message", "text": text})
    frames = []
    while not frames or frames[-1]["type"] not in ("done", "error"):
        frames.append(await ws.receive_json_from(timeout=TIMEOUT))
    return frames


@sync_to_async
def rest(method: str, path: str, body: dict | None = None, ip: str = IP):
    client = APIClient()
    return getattr(client, method)(path, body, format="json", REMOTE_ADDR=ip)


async def test_rest_and_websocket_messages_share_the_per_ip_bucket(settings, extractive):
    settings.RATE_LIMIT_MESSAGES_PER_IP = "3/m"
    for _ in range(2):
        assert (await rest("post", "/api/chat/", {"message": "hello"})).status_code == 200

    async with connected() as ws:
        third = await ask(ws)
        fourth = await ask(ws)
        await ws.send_json_to({"type": "feedback", "message_id": third[0]["message_id"], "rating": 1})
        still_served = await ws.receive_json_from(timeout=TIMEOUT)

    assert third[-1]["type"] == "done"
    assert [f["type"] for f in fourth] == ["error"]
    assert fourth[0]["code"] == "rate_limited" and 1 <= fourth[0]["retry_after"] <= 60
    assert still_served == {"type": "feedback_ok", "message_id": third[0]["message_id"]}
    async with connected(ip="198.51.100.23") as other:
        assert (await ask(other))[-1]["type"] == "done", "another client has its own bucket"


async def test_a_websocket_conversation_is_limited_across_connections(settings, extractive):
    settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION = "2/m"
    async with connected() as first:
        await ask(first)
        conversation_id = first.conversation_id
    async with connected(ip="198.51.100.1", path=f"/ws/chat/?conversation={conversation_id}") as resumed:
        second = await ask(resumed)
        third = await ask(resumed)
    rest_refused = await rest(
        "post", "/api/chat/", {"message": "hello", "conversation_id": conversation_id}, ip="192.0.2.5"
    )

    assert second[-1]["type"] == "done"
    assert third[0]["code"] == "rate_limited"
    assert rest_refused.status_code == 429 and int(rest_refused["Retry-After"]) >= 1


async def test_contact_forms_over_websocket_and_rest_share_the_leads_bucket(settings, extractive):
    settings.LEADS_API_RATE = "2/m"
    response = await rest(
        "post", "/api/leads/", {"email": "ana@brightside.io", "consent": True, "consent_text": CONSENT}
    )
    assert response.status_code == 201

    async with connected() as ws:
        await ws.send_json_to({"type": "lead", "name": "Ben", "email": "ben@brightside.io", "consent": True})
        accepted = await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to({"type": "lead", "name": "Cy", "email": "cy@brightside.io", "consent": True})
        refused = await ws.receive_json_from(timeout=TIMEOUT)
        answered_after = await ask(ws)

    assert accepted == {"type": "lead", "status": "captured"}
    assert refused["type"] == "error" and refused["code"] == "rate_limited" and refused["retry_after"] >= 1
    assert answered_after[-1]["type"] == "done", "the connection stays open and served"


async def test_feedback_frames_are_limited_per_conversation(settings, extractive):
    settings.RATE_LIMIT_FEEDBACK_PER_CONVERSATION = "2/m"
    async with connected() as ws:
        message_id = (await ask(ws))[0]["message_id"]
        replies = []
        for rating in (1, -1, 1):
            await ws.send_json_to({"type": "feedback", "message_id": message_id, "rating": rating})
            replies.append(await ws.receive_json_from(timeout=TIMEOUT))

    assert [r["type"] for r in replies] == ["feedback_ok", "feedback_ok", "error"]
    assert replies[2]["code"] == "rate_limited"
