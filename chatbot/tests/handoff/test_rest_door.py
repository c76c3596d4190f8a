"""The REST door goes through the same handoff routing as the WebSocket: JSON and SSE."""

from __future__ import annotations

import pytest
from django.test import AsyncClient

from chatbot.tests.api.test_chat_api import sse_parse
from chatbot.tests.handoff.support import ask, astaff_create, receive_until, staff_socket, visitor_socket

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_held_conversation_streams_received_over_sse_and_no_answer(tidewater_kb, extractive):
    alice = await astaff_create()
    async with visitor_socket() as visitor, staff_socket(alice) as staff:
        await ask(visitor, "Do you ship to Canada?")
        conversation_id = visitor.conversation["id"]
        await staff.send_json_to({"type": "take", "conversation": conversation_id})
        await receive_until(staff, "taken")

        response = await AsyncClient().post(
            "/api/chat/",
            {"message": "Is anyone there?", "conversation_id": conversation_id},
            content_type="application/json",
            headers={"accept": "text/event-stream"},
        )
        frames = sse_parse(b"".join([chunk async for chunk in response.streaming_content]).decode())
        assert [frame["type"] for frame in frames] == ["conversation", "received"]
        assert (await receive_until(staff, "visitor_message"))[-1]["text"] == "Is anyone there?"


async def test_a_rest_visitor_asking_for_a_person_is_told_someone_will_join(tidewater_kb, extractive):
    alice = await astaff_create()
    async with staff_socket(alice) as staff:
        response = await AsyncClient().post(
            "/api/chat/", {"message": "I'd like to speak to a human"}, content_type="application/json"
        )
        body = response.json()
        assert (body["handoff"], body["offer_contact"]) == ("waiting", False)
        assert "join you" in body["answer"]
        waiting = (await receive_until(staff, "waiting"))[-1]
        assert waiting["conversation"]["id"] == body["conversation_id"]
