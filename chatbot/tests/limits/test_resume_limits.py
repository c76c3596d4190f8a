"""
Resuming a conversation by id is counted: a WebSocket resume is a read of the
conversation, in the buckets of GET /api/conversations/<id>/, and the unknown
ids an address asks for (guesses at someone's transcript) are limited on
every door.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from chatbot.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10
GUESSER = "203.0.113.77"
VISITOR = "198.51.100.12"


async def resume(conversation_id: str, ip: str) -> tuple[list[dict], dict | None]:
    """The frames a WebSocket resume gets, and its close message when the server closes it."""
    communicator = WebsocketCommunicator(application, f"/ws/chat/?conversation={conversation_id}")
    communicator.scope["client"] = (ip, 50123)
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    frames = [await communicator.receive_json_from(timeout=TIMEOUT)]
    closed = None
    if frames[0]["type"] == "error":
        closed = await communicator.receive_output(timeout=TIMEOUT)
    await communicator.disconnect()
    return frames, closed


@sync_to_async
def rest(method: str, path: str, ip: str, body: dict | None = None):
    return getattr(APIClient(), method)(path, body, format="json", REMOTE_ADDR=ip)


@sync_to_async
def a_conversation(ip: str) -> str:
    response = APIClient().post("/api/chat/", {"message": "hello"}, format="json", REMOTE_ADDR=ip)
    return response.json()["conversation_id"]


async def test_websocket_resumes_count_in_the_read_limits_of_the_rest_api(settings, extractive):
    settings.RATE_LIMIT_READS_PER_IP = "3/m"
    conversation_id = await a_conversation(VISITOR)
    resumed = [await resume(conversation_id, VISITOR) for _ in range(2)]
    assert (await rest("get", f"/api/conversations/{conversation_id}/", VISITOR)).status_code == 200

    refused, closed = await resume(conversation_id, VISITOR)
    rest_refused = await rest("get", f"/api/conversations/{conversation_id}/", VISITOR)

    assert all(frames[0]["type"] == "conversation" and frames[0]["id"] == conversation_id for frames, _ in resumed)
    assert refused[0]["type"] == "error" and refused[0]["code"] == "rate_limited" and refused[0]["retry_after"] >= 1
    assert closed["type"] == "websocket.close" and closed["code"] == 4429
    assert rest_refused.status_code == 429


async def test_an_address_that_guesses_ids_is_refused_on_every_door(settings, extractive):
    settings.RATE_LIMIT_RESUME_MISSES_PER_IP = "3/h"
    owned = await a_conversation(VISITOR)
    guesses = [
        await resume("guessed-id-aaaaaaaaaaaaaaaaaaaaaaaaa", GUESSER),
        await rest("get", "/api/conversations/guessed-id-bbbbbbbbbbbbbbbbbbbbbbbbb/", GUESSER),
        await rest("post", "/api/chat/", GUESSER, {"message": "hi", "conversation_id": "guessed-id-ccccccccccccccc"}),
    ]

    over_websocket, closed = await resume(owned, GUESSER)
    over_rest = await rest("get", f"/api/conversations/{owned}/", GUESSER)
    over_chat = await rest("post", "/api/chat/", GUESSER, {"message": "hi", "conversation_id": owned})
    owner, _ = await resume(owned, VISITOR)

    (first_frames, _), second, third = guesses
    assert first_frames[0]["type"] == "conversation" and first_frames[0]["history"] == [], "a guess gets a new one"
    assert second.status_code == 404 and third.status_code == 404
    assert over_websocket[0]["code"] == "rate_limited" and closed["code"] == 4429
    assert over_rest.status_code == 429 and int(over_rest["Retry-After"]) >= 1
    assert over_chat.status_code == 429
    assert owner[0]["type"] == "conversation" and owner[0]["id"] == owned, "other addresses resume as before"
