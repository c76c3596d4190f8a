"""
A staff member takes a conversation over, writes, and hands it back, on the
embedded defaults (one process, the in-memory channel layer): the bot is
silent meanwhile, the visitor sees the staff member's frames.
"""

from __future__ import annotations

import pytest

from chatbot.tests.handoff.support import TIMEOUT, ask, astaff_create, receive_until, staff_socket, visitor_socket
from conversations.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)


async def test_staff_take_over_write_and_hand_back(tidewater_kb, extractive):
    alice = await astaff_create()
    async with visitor_socket() as visitor, staff_socket(alice) as staff:
        answer = await ask(visitor, "Do you ship to Canada?")
        assert answer[0]["type"] == "start"
        conversation_id = visitor.conversation["id"]

        await staff.send_json_to({"type": "open", "conversation": conversation_id})
        transcript = await receive_until(staff, "transcript")
        assert [m["role"] for m in transcript[-1]["messages"]] == ["visitor", "assistant"]

        await staff.send_json_to({"type": "take", "conversation": conversation_id})
        assert (await receive_until(staff, "taken"))[-1]["name"] == "Alice"
        assert await visitor.receive_json_from(timeout=TIMEOUT) == {"type": "agent_joined", "name": "Alice"}

        await staff.send_json_to({"type": "typing", "conversation": conversation_id})
        assert await visitor.receive_json_from(timeout=TIMEOUT) == {"type": "agent_typing", "name": "Alice"}

        await staff.send_json_to({"type": "message", "conversation": conversation_id, "text": "Hi, I'm Alice."})
        frame = await visitor.receive_json_from(timeout=TIMEOUT)
        assert (frame["type"], frame["text"], frame["name"]) == ("agent_message", "Hi, I'm Alice.", "Alice")
        stored = await Message.objects.select_related("author").aget(public_id=frame["id"])
        assert (stored.role, stored.author.username) == (Message.Role.AGENT, "alice")

        # While she holds it the bot is silent: the message is stored and relayed to staff.
        held = await ask(visitor, "Great, can you check my order?", until="received")
        assert [f["type"] for f in held] == ["received"]
        relayed = await receive_until(staff, "visitor_message")
        assert relayed[-1]["text"] == "Great, can you check my order?"
        assert await visitor.receive_nothing(timeout=0.3)
        assert await Message.objects.filter(conversation_id=conversation_id, role="assistant").acount() == 1

        await staff.send_json_to({"type": "release", "conversation": conversation_id})
        await receive_until(staff, "released")
        assert await visitor.receive_json_from(timeout=TIMEOUT) == {"type": "agent_left", "name": "Alice"}
        again = await ask(visitor, "Do you ship to Canada?")
        assert [f["type"] for f in again][0] == "start"

    conversation = await Conversation.objects.aget(pk=conversation_id)
    assert conversation.assigned_to_id is None and conversation.handed_over_at is not None


async def test_a_second_staff_member_is_told_who_holds_it(tidewater_kb, extractive):
    alice = await astaff_create()
    bob = await astaff_create(username="bob", first_name="Bob")
    async with visitor_socket() as visitor, staff_socket(alice) as first, staff_socket(bob) as second:
        await ask(visitor, "Do you ship to Canada?")
        conversation_id = visitor.conversation["id"]
        await first.send_json_to({"type": "take", "conversation": conversation_id})
        await receive_until(first, "taken")

        await second.send_json_to({"type": "take", "conversation": conversation_id})
        refusal = await receive_until(second, "error")
        assert (refusal[-1]["code"], refusal[-1]["held_by"]) == ("conflict", "Alice")
        await second.send_json_to({"type": "message", "conversation": conversation_id, "text": "Me too"})
        assert (await receive_until(second, "error"))[-1]["code"] == "conflict"

    conversation = await Conversation.objects.select_related("assigned_to").aget(pk=conversation_id)
    assert conversation.assigned_to.username == "alice"
    assert not await Message.objects.filter(text="Me too").aexists()


async def test_staff_must_take_a_conversation_before_writing(tidewater_kb, extractive):
    alice = await astaff_create()
    async with visitor_socket() as visitor, staff_socket(alice) as staff:
        await ask(visitor, "Do you ship to Canada?")
        await staff.send_json_to({"type": "message", "conversation": visitor.conversation["id"], "text": "Hello"})
        assert (await receive_until(staff, "error"))[-1]["code"] == "not_held"
        assert await visitor.receive_nothing(timeout=0.3)
