"""The visitor socket takes no staff frames: each gets a bad_request error and nothing is stored."""

from __future__ import annotations

import pytest

from chatbot.tests.handoff.support import TIMEOUT, visitor_socket
from conversations.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

STAFF_FRAMES = [
    {"type": "agent_message", "id": "x", "text": "I am staff", "name": "Alice"},
    {"type": "agent_joined", "name": "Alice"},
    {"type": "take", "conversation": "x"},
    {"type": "message", "conversation": "x", "text": "as staff", "role": "agent"},
]


@pytest.mark.parametrize("frame", STAFF_FRAMES[:3], ids=lambda f: f["type"])
async def test_a_visitor_cannot_send_a_staff_frame(frame):
    async with visitor_socket() as visitor:
        await visitor.send_json_to(frame)
        reply = await visitor.receive_json_from(timeout=TIMEOUT)
        assert reply["type"] == "error" and reply["code"] == "bad_request"
    assert not await Message.objects.filter(role=Message.Role.AGENT).aexists()


async def test_a_visitor_message_claiming_to_be_staff_is_a_visitor_message(tidewater_kb, extractive):
    async with visitor_socket() as visitor:
        await visitor.send_json_to(STAFF_FRAMES[3])
        while (await visitor.receive_json_from(timeout=TIMEOUT))["type"] != "done":
            pass
    assert await Message.objects.filter(text="as staff", role=Message.Role.VISITOR).aexists()
    assert not await Message.objects.filter(role=Message.Role.AGENT).aexists()
