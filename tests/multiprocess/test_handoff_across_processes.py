"""
Live handoff across two web processes on PostgreSQL + Redis: the visitor's
WebSocket on one Gunicorn, the staff member's on the other. Staff frames reach
the visitor through the Redis channel layer; the visitor's messages and the
bot's streamed answer reach staff the same way; presence is in Redis.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from conversations.models import Conversation, Message
from tests.faults.clients import ChatClient, StaffClient, db_call
from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def staff_session() -> str:
    alice = get_user_model().objects.create_user(username="alice", first_name="Alice", password="pw", is_staff=True)
    alice.user_permissions.add(
        Permission.objects.get(codename="handle_conversation", content_type__app_label="conversations")
    )
    client = Client()
    client.force_login(alice)
    return client.cookies["sessionid"].value


@pytest.fixture
def two_servers(tidewater_kb):
    env = {"LLM_PROVIDER": "extractive", "WEB_CONCURRENCY": "1"}
    with server_process("gunicorn", env=env) as first, server_process("gunicorn", env=env) as second:
        yield first, second


async def test_visitor_and_staff_on_different_processes_talk_live(two_servers):
    visitor_server, staff_server = two_servers
    staff = StaffClient(staff_server.ws_url, session_cookie=await db_call(staff_session))
    visitor = ChatClient(visitor_server.ws_url)
    await staff.open()
    await visitor.open()
    try:
        # Alice is online (presence in Redis, written by the other process): someone will join.
        answer = await visitor.ask("Can I talk to a person please?")
        assert "join you" in answer.text and answer.last["offer_contact"] is False
        waiting = await staff.recv_until("waiting")
        assert waiting["conversation"]["id"] == visitor.conversation_id

        await staff.send({"type": "open", "conversation": visitor.conversation_id})
        await staff.recv_until("transcript", conversation=visitor.conversation_id)
        await staff.take(visitor.conversation_id)
        assert await visitor.recv() == {"type": "agent_joined", "name": "Alice"}

        await staff.send({"type": "message", "conversation": visitor.conversation_id, "text": "Hello from Alice"})
        frame = await visitor.recv()
        assert (frame["type"], frame["text"], frame["name"]) == ("agent_message", "Hello from Alice", "Alice")

        await visitor.send({"type": "message", "text": "Hi Alice, my order is late."})
        assert (await visitor.recv())["type"] == "received"
        relayed = await staff.recv_until("visitor_message", conversation=visitor.conversation_id)
        assert relayed["text"] == "Hi Alice, my order is late."

        await staff.send({"type": "release", "conversation": visitor.conversation_id})
        assert await visitor.recv() == {"type": "agent_left", "name": "Alice"}

        # The bot answers again, and Alice, who has it open, sees the answer stream in.
        answer = await visitor.ask("Do you ship to Canada?")
        assert answer.done
        streamed = []
        while True:
            frame = await staff.recv_until("answer", conversation=visitor.conversation_id)
            streamed.append(frame["frame"])
            if frame["frame"]["type"] == "done":
                break
        assert "".join(f["text"] for f in streamed if f["type"] == "token") == answer.text
    finally:
        await visitor.close()
        await staff.close()

    roles = await db_call(
        lambda: list(
            Message.objects.filter(conversation_id=visitor.conversation_id)
            .order_by("id")
            .values_list("role", flat=True)
        )
    )
    assert roles == ["visitor", "assistant", "agent", "visitor", "visitor", "assistant"]
    conversation = await db_call(Conversation.objects.get, pk=visitor.conversation_id)
    assert conversation.handed_over_at is not None and conversation.assigned_to_id is None
    for server in two_servers:
        assert "Traceback" not in server.log(), server.log()[-3000:]
