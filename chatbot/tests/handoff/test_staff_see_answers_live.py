"""Staff with a conversation open see the bot's answer as the visitor does; the inbox moves and flags live."""

from __future__ import annotations

import pytest

from chatbot.tests.handoff.support import ask, astaff_create, receive_until, staff_socket, visitor_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_open_conversation_streams_the_answer_to_staff(tidewater_kb, extractive):
    alice = await astaff_create()
    async with visitor_socket() as visitor, staff_socket(alice) as staff:
        await ask(visitor, "Do you ship to Canada?")
        conversation_id = visitor.conversation["id"]
        await staff.send_json_to({"type": "open", "conversation": conversation_id})
        await receive_until(staff, "transcript")

        frames = await ask(visitor, "How long do I have to return a bike?")
        relayed = []
        while not relayed or relayed[-1]["type"] != "done":
            frame = (await receive_until(staff, "answer"))[-1]
            assert frame["conversation"] == conversation_id
            relayed.append(frame["frame"])

    visitor_text = "".join(f["text"] for f in frames if f["type"] == "token")
    assert "".join(f["text"] for f in relayed if f["type"] == "token") == visitor_text
    assert relayed[0] == frames[0] and relayed[-1] == frames[-1]


async def test_the_inbox_hears_of_new_messages_and_flags_unanswered_ones(tidewater_kb, extractive):
    alice = await astaff_create()
    async with staff_socket(alice) as staff, visitor_socket() as visitor:
        await ask(visitor, "Do you sell submarines for the moon?")
        moved = (await receive_until(staff, "visitor_message"))[-1]
        assert (moved["conversation"], moved["text"]) == (
            visitor.conversation["id"],
            "Do you sell submarines for the moon?",
        )
        update = (await receive_until(staff, "conversation_update"))[-1]
        assert update["conversation"]["unanswered"] is True
