"""The chat WebSocket through Channels' WebsocketCommunicator and the project's ASGI application."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

import pytest
from channels.testing import WebsocketCommunicator

from chatbot.asgi import application
from conversations.models import Conversation, Message
from testsupport.waiting import await_until

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@asynccontextmanager
async def connected(path: str = "/ws/chat/"):
    communicator = WebsocketCommunicator(application, path)
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    try:
        yield communicator
    finally:
        await communicator.disconnect()


async def receive_until(communicator: WebsocketCommunicator, last: str) -> list[dict]:
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
        frames.append(frame)
        if frame["type"] == last or frame["type"] == "error" and last != "error":
            return frames


async def ask(communicator: WebsocketCommunicator, text: str) -> list[dict]:
    await communicator.send_json_to({"type": "message", "text": text})
    return await receive_until(communicator, "done")


async def test_connecting_starts_a_conversation_with_the_public_bot_settings():
    async with connected() as ws:
        frame = await ws.receive_json_from(timeout=TIMEOUT)

    assert frame["type"] == "conversation"
    assert len(frame["id"]) >= 32
    assert frame["history"] == []
    assert set(frame["bot"]) >= {"name", "greeting", "title", "colors"}
    assert set(frame["bot"]["colors"]) == {"primary", "background", "text"}
    assert "system_prompt" not in frame["bot"]


async def test_a_message_streams_an_answer_with_sources(tidewater_kb, extractive):
    async with connected() as ws:
        conversation = await ws.receive_json_from(timeout=TIMEOUT)
        frames = await ask(ws, "How long do I have to return a bike?")

    types = [f["type"] for f in frames]
    assert types[0] == "start" and types[-2:] == ["sources", "done"]
    assert types.count("token") > 3
    assert frames[-1]["message_id"] == frames[0]["message_id"]
    assert frames[-1]["answered"] is True
    assert frames[-2]["items"][0]["n"] == 1
    answer = await Message.objects.aget(public_id=frames[0]["message_id"])
    assert answer.conversation_id == conversation["id"]
    assert (await Conversation.objects.aget(pk=conversation["id"])).channel == "widget"


async def test_a_conversation_resumes_with_its_history(tidewater_kb, extractive):
    async with connected() as ws:
        first = await ws.receive_json_from(timeout=TIMEOUT)
        frames = await ask(ws, "How long do I have to return a bike?")
        await ws.send_json_to({"type": "feedback", "message_id": frames[0]["message_id"], "rating": 1})
        await receive_until(ws, "feedback_ok")

    async with connected(f"/ws/chat/?conversation={first['id']}") as ws:
        resumed = await ws.receive_json_from(timeout=TIMEOUT)

    assert resumed["id"] == first["id"]
    visitor, assistant = resumed["history"]
    assert (visitor["role"], visitor["text"], visitor["answered"]) == (
        "visitor",
        "How long do I have to return a bike?",
        None,
    )
    assert assistant["id"] == frames[0]["message_id"]
    assert assistant["role"] == "assistant"
    assert assistant["answered"] is True
    assert assistant["feedback"] == 1
    assert assistant["sources"] == frames[-2]["items"]
    assert assistant["text"] == "".join(f["text"] for f in frames if f["type"] == "token")
    assert set(assistant) == {"id", "role", "text", "sources", "answered", "feedback", "created_at"}


async def test_an_unknown_conversation_id_starts_a_new_one():
    async with connected("/ws/chat/?conversation=not-a-real-id") as ws:
        frame = await ws.receive_json_from(timeout=TIMEOUT)

    assert frame["id"] != "not-a-real-id"
    assert frame["history"] == []


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("not json", "JSON"),
        ("[1, 2]", "JSON objects"),
        ('{"type": "shout", "text": "hi"}', "Unknown frame type"),
        ('{"type": "message"}', "`text` must be a string"),
        ('{"type": "feedback", "message_id": "x", "rating": 5}', "`rating` must be 1 or -1"),
        ('{"type": "lead", "email": "a@b.co", "consent": "yes"}', "`consent` must be true or false"),
    ],
)
async def test_a_malformed_frame_gets_bad_request_and_the_connection_stays_open(raw, fragment, extractive):
    async with connected() as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_to(text_data=raw)
        error = await ws.receive_json_from(timeout=TIMEOUT)
        still_answers = await ask(ws, "Hello!")

    assert error["type"] == "error" and error["code"] == "bad_request"
    assert fragment in error["message"]
    assert still_answers[-1]["type"] == "done"


async def test_a_binary_frame_is_a_bad_request():
    async with connected() as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_to(bytes_data=b"\x00\x01")
        error = await ws.receive_json_from(timeout=TIMEOUT)

    assert error["code"] == "bad_request"


async def test_a_message_over_the_limit_gets_too_long_and_the_connection_stays_open(settings, extractive):
    settings.CHAT_MAX_MESSAGE_CHARS = 100
    async with connected() as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to({"type": "message", "text": "y" * 101})
        error = await ws.receive_json_from(timeout=TIMEOUT)
        still_answers = await ask(ws, "Thanks!")

    assert (error["code"], error["max_chars"]) == ("too_long", 100)
    assert still_answers[-1]["type"] == "done"


async def test_too_many_messages_get_rate_limited_with_a_retry_after(extractive):
    async with connected() as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        for _ in range(20):
            assert (await ask(ws, "hello"))[-1]["type"] == "done"
        await ws.send_json_to({"type": "message", "text": "hello"})
        error = await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to({"type": "feedback", "message_id": "nope", "rating": 1})
        after = await ws.receive_json_from(timeout=TIMEOUT)

    assert error["code"] == "rate_limited"
    assert error["retry_after"] >= 1
    assert after["code"] == "not_found", "the connection is still served"


async def test_feedback_is_stored_and_acknowledged(tidewater_kb, extractive):
    async with connected() as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        frames = await ask(ws, "Can I ride my e-bike in the rain?")
        message_id = frames[0]["message_id"]
        await ws.send_json_to({"type": "feedback", "message_id": message_id, "rating": -1})
        ack = await ws.receive_json_from(timeout=TIMEOUT)

    assert ack == {"type": "feedback_ok", "message_id": message_id}
    answer = await Message.objects.aget(public_id=message_id)
    assert answer.feedback == -1 and answer.feedback_at is not None


async def test_feedback_on_another_conversations_message_is_not_found(tidewater_kb, extractive):
    async with connected() as first:
        await first.receive_json_from(timeout=TIMEOUT)
        frames = await ask(first, "Can I ride my e-bike in the rain?")
    async with connected() as second:
        await second.receive_json_from(timeout=TIMEOUT)
        await second.send_json_to({"type": "feedback", "message_id": frames[0]["message_id"], "rating": -1})
        error = await second.receive_json_from(timeout=TIMEOUT)

    assert error["code"] == "not_found"
    assert (await Message.objects.aget(public_id=frames[0]["message_id"])).feedback is None


async def test_the_contact_form_records_a_lead_with_the_consent_text(extractive):
    from chatbot.selectors import abot_settings_get
    from leads.models import Lead

    async with connected() as ws:
        conversation = await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to(
            {
                "type": "lead",
                "name": "Ana Ruiz",
                "email": "ana@brightside.io",
                "phone": "+44 20 7946 0958",
                "consent": True,
            }
        )
        captured = await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to({"type": "lead", "name": "Ana Ruiz", "email": "ANA@brightside.io", "consent": True})
        updated = await ws.receive_json_from(timeout=TIMEOUT)

    assert captured == {"type": "lead", "status": "captured"}
    assert updated == {"type": "lead", "status": "updated"}
    lead = await Lead.objects.aget(email="ana@brightside.io")
    assert lead.phone == "+442079460958"
    assert lead.source == "form"
    assert lead.consent_text == (await abot_settings_get()).consent_text
    assert await lead.conversations.filter(pk=conversation["id"]).aexists()


async def test_a_contact_form_without_consent_or_reachable_details_is_a_bad_request(extractive):
    from leads.models import Lead

    async with connected() as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to({"type": "lead", "name": "Ana", "email": "not-an-email", "consent": False})
        error = await ws.receive_json_from(timeout=TIMEOUT)

    assert error["code"] == "bad_request"
    assert set(error["fields"]) >= {"email", "consent"}
    assert not await Lead.objects.aexists()


async def test_two_visitors_at_once_each_get_their_own_answer(tidewater_kb, extractive):
    async with connected() as ana, connected() as ben:
        ana_id = (await ana.receive_json_from(timeout=TIMEOUT))["id"]
        ben_id = (await ben.receive_json_from(timeout=TIMEOUT))["id"]
        ana_frames, ben_frames = await asyncio.gather(
            ask(ana, "How long do I have to return a bike?"), ask(ben, "Can I ride my e-bike in the rain?")
        )

    ana_answer = await Message.objects.aget(public_id=ana_frames[0]["message_id"])
    ben_answer = await Message.objects.aget(public_id=ben_frames[0]["message_id"])
    assert ana_answer.conversation_id == ana_id and "30 days" in ana_answer.text
    assert ben_answer.conversation_id == ben_id and "IPX5" in ben_answer.text
    assert "".join(f["text"] for f in ana_frames if f["type"] == "token") == ana_answer.text


async def test_leaving_mid_answer_keeps_the_partial_answer(tidewater_kb, openai_llm):
    from testsupport.fake_openai import Reply

    # Two words, then nothing until the visitor has gone: the answer cannot finish first.
    openai_llm.script(Reply.stall("You can return any bike within thirty days [1].", after_chunks=2))
    async with connected() as ws:
        await ws.receive_json_from(timeout=TIMEOUT)
        await ws.send_json_to({"type": "message", "text": "How long do I have to return a bike?"})
        start = await ws.receive_json_from(timeout=TIMEOUT)
        first_token = await ws.receive_json_from(timeout=TIMEOUT)

    answer = await await_until(lambda: Message.objects.filter(public_id=start["message_id"]).afirst())
    assert answer.text.startswith(first_token["text"])
    assert answer.text != "You can return any bike within thirty days [1]."
    assert answer.error.startswith("interrupted")
