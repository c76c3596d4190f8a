"""POST /api/chat/: the whole answer as JSON, or the WebSocket frames as Server-Sent Events."""

from __future__ import annotations

import json

import pytest
from django.test import AsyncClient
from rest_framework.test import APIClient

from chatbot.models import BotSettings
from conversations.models import Conversation, Message
from testsupport.fake_openai import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api():
    return APIClient()


def sse_parse(body: str) -> list[dict]:
    frames = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        frame = json.loads(lines["data"])
        assert lines["event"] == frame["type"]
        frames.append(frame)
    return frames


def test_it_returns_the_whole_answer_with_its_sources(api, tidewater_kb, extractive):
    response = api.post("/api/chat/", {"message": "How long do I have to return a bike?"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {
        "conversation_id",
        "message_id",
        "answer",
        "sources",
        "answered",
        "offer_contact",
        "lead",
        "handoff",
    }
    assert "30 days" in body["answer"]
    assert body["sources"][0]["n"] == 1 and body["sources"][0]["url"].startswith("/kb/faqs/")
    assert body["answered"] is True and body["lead"] is None
    answer = Message.objects.get(public_id=body["message_id"])
    assert answer.conversation_id == body["conversation_id"]
    assert Conversation.objects.get(pk=body["conversation_id"]).channel == "api"


def test_a_conversation_id_continues_the_conversation(api, tidewater_kb, extractive):
    first = api.post("/api/chat/", {"message": "Do you ship to Canada?"}, format="json").json()
    second = api.post(
        "/api/chat/", {"message": "Can I ride in the rain?", "conversation_id": first["conversation_id"]}, format="json"
    ).json()

    assert second["conversation_id"] == first["conversation_id"]
    assert Message.objects.filter(conversation_id=first["conversation_id"]).count() == 4


def test_an_unknown_conversation_id_is_not_found(api, extractive):
    response = api.post("/api/chat/", {"message": "Hi", "conversation_id": "guessed"}, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert not Conversation.objects.exists()


def test_an_unanswerable_question_offers_to_take_contact_details(api, tidewater_kb, extractive):
    body = api.post("/api/chat/", {"message": "What is the capital of France?"}, format="json").json()

    assert body["answered"] is False and body["offer_contact"] is True
    assert body["answer"] == BotSettings.objects.get().fallback_message
    assert body["sources"] == []


async def test_with_accept_event_stream_it_streams_the_same_frames_as_the_websocket(tidewater_kb, extractive):
    """Through Django's AsyncClient (the ASGI path the servers use); DRF's client is sync-only."""
    response = await AsyncClient().post(
        "/api/chat/",
        {"message": "How long do I have to return a bike?"},
        content_type="application/json",
        headers={"accept": "text/event-stream"},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"] == "no-cache"
    frames = sse_parse(b"".join([chunk async for chunk in response.streaming_content]).decode())
    types = [f["type"] for f in frames]
    assert types[:2] == ["conversation", "start"] and types[-2:] == ["sources", "done"]
    assert set(types[2:-2]) == {"token"}
    assert frames[-1]["message_id"] == frames[1]["message_id"]
    stored = await Message.objects.aget(public_id=frames[1]["message_id"])
    assert stored.conversation_id == frames[0]["id"]


def test_a_bad_request_in_sse_mode_is_one_error_event(api):
    response = api.post("/api/chat/", {"conversation_id": "x"}, format="json", HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 400
    event = response.content.decode()
    assert event.startswith("event: error\ndata: ")
    assert json.loads(event.split("data: ", 1)[1])["code"] == "bad_request"


def test_a_missing_message_is_a_validation_error(api):
    response = api.post("/api/chat/", {}, format="json")

    assert response.status_code == 400
    assert "message" in response.json()


def test_a_message_over_the_limit_is_refused(api, settings, extractive):
    settings.CHAT_MAX_MESSAGE_CHARS = 20
    response = api.post("/api/chat/", {"message": "z" * 21}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "too_long"
    assert not Message.objects.exists()


def test_a_rate_limited_conversation_gets_429_with_retry_after(api, extractive):
    conversation_id = api.post("/api/chat/", {"message": "hello"}, format="json").json()["conversation_id"]
    for _ in range(19):
        api.post("/api/chat/", {"message": "hello", "conversation_id": conversation_id}, format="json")
    response = api.post("/api/chat/", {"message": "hello", "conversation_id": conversation_id}, format="json")

    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_model_failing_mid_answer_is_503_with_the_partial_answer(api, tidewater_kb, openai_llm):
    openai_llm.script(Reply.cut("Returns are accepted within thirty days", after_chunks=3))
    response = api.post("/api/chat/", {"message": "How long do I have to return a bike?"}, format="json")

    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "llm_unavailable"
    assert body["partial_answer"] == "Returns are accepted "
    assert Message.objects.get(public_id=body["message_id"]).text == "Returns are accepted "
