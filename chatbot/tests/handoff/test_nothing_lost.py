"""
Nothing lost: a staff message is stored before it is sent; a visitor who
comes back gets what was said while away, none twice; REST clients read staff
messages in the conversation's history; a staff member who reloads keeps the
conversation.
"""

from __future__ import annotations

import pytest
from django.test import AsyncClient

from chatbot.tests.handoff.support import TIMEOUT, ask, astaff_create, receive_until, staff_socket, visitor_socket
from conversations.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_returning_visitor_gets_what_was_said_while_away_none_twice(tidewater_kb, extractive):
    alice = await astaff_create()
    async with visitor_socket() as visitor:
        await ask(visitor, "Do you ship to Canada?")
        conversation_id = visitor.conversation["id"]
    async with staff_socket(alice) as staff:
        await staff.send_json_to({"type": "take", "conversation": conversation_id})
        await receive_until(staff, "taken")
        for text in ("Are you still there?", "I can help with your order."):
            await staff.send_json_to({"type": "message", "conversation": conversation_id, "text": text})
            await receive_until(staff, "agent_message")

        async with visitor_socket(conversation_id) as back:
            history = back.conversation["history"]
            staff_items = [
                (item["role"], item["text"], item.get("name")) for item in history if item["role"] == "agent"
            ]
            assert staff_items == [
                ("agent", "Are you still there?", "Alice"),
                ("agent", "I can help with your order.", "Alice"),
            ]
            assert back.conversation["agent"] == {"name": "Alice"}
            # Only what comes next arrives as frames.
            await staff.send_json_to({"type": "message", "conversation": conversation_id, "text": "Welcome back."})
            frame = await back.receive_json_from(timeout=TIMEOUT)
            assert (frame["type"], frame["text"]) == ("agent_message", "Welcome back.")
            assert await back.receive_nothing(timeout=0.3)


async def test_rest_clients_see_staff_messages_and_are_not_answered_while_held(tidewater_kb, extractive):
    alice = await astaff_create()
    async with visitor_socket() as visitor, staff_socket(alice) as staff:
        await ask(visitor, "Do you ship to Canada?")
        conversation_id = visitor.conversation["id"]
        await staff.send_json_to({"type": "take", "conversation": conversation_id})
        await receive_until(staff, "taken")
        await staff.send_json_to({"type": "message", "conversation": conversation_id, "text": "Alice here."})
        await receive_until(staff, "agent_message")

        client = AsyncClient()
        history = (await client.get(f"/api/conversations/{conversation_id}/")).json()["history"]
        assert {"role": "agent", "text": "Alice here.", "name": "Alice"}.items() <= history[-1].items()

        response = await client.post(
            "/api/chat/",
            {"message": "Thanks Alice", "conversation_id": conversation_id},
            content_type="application/json",
        )
        body = response.json()
        assert (body["handoff"], body["answer"]) == ("held", "")
        assert (await receive_until(staff, "visitor_message"))[-1]["text"] == "Thanks Alice"


async def test_a_staff_member_who_reloads_keeps_the_conversation(tidewater_kb, extractive):
    alice = await astaff_create()
    async with visitor_socket() as visitor:
        await ask(visitor, "Do you ship to Canada?")
        conversation_id = visitor.conversation["id"]
        async with staff_socket(alice) as staff:
            await staff.send_json_to({"type": "take", "conversation": conversation_id})
            await receive_until(staff, "taken")
        async with staff_socket(alice) as reloaded:
            row = next(r for r in reloaded.inbox["conversations"] if r["id"] == conversation_id)
            assert (row["held_by"], row["held_by_me"]) == ("Alice", True)
            await reloaded.send_json_to({"type": "open", "conversation": conversation_id})
            transcript = (await receive_until(reloaded, "transcript"))[-1]
            assert transcript["held_by_me"] is True
            await reloaded.send_json_to({"type": "message", "conversation": conversation_id, "text": "Still me."})
            await receive_until(reloaded, "agent_message")
        frames = await receive_until(visitor, "agent_message")
        assert frames[-1]["text"] == "Still me."
    assert (await Conversation.objects.aget(pk=conversation_id)).assigned_to_id == alice.pk
