"""Who may open /ws/staff/: staff with conversations.handle_conversation, from the admin's own origin."""

from __future__ import annotations

import json

import pytest

from chatbot.tests.handoff.support import (
    TIMEOUT,
    asession_cookie,
    astaff_create,
    staff_communicator,
    staff_socket,
)
from conversations.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)


async def refused(communicator) -> None:
    """Closed with 4403, with at most an error frame before: no data."""
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    while True:
        output = await communicator.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            break
        assert json.loads(output["text"])["type"] == "error", output
    assert output["code"] == 4403
    await communicator.wait(timeout=TIMEOUT)


async def test_an_anonymous_socket_is_refused_with_4403_and_no_data():
    await refused(staff_communicator(cookie=None))


async def test_staff_without_the_permission_are_refused():
    user = await astaff_create(username="bob", allowed=False)
    await refused(staff_communicator(cookie=await asession_cookie(user)))


async def test_a_non_staff_user_with_the_permission_is_refused():
    user = await astaff_create(username="carol", staff=False)
    await refused(staff_communicator(cookie=await asession_cookie(user)))


async def test_another_origin_is_refused_even_with_a_valid_session():
    user = await astaff_create()
    await refused(staff_communicator(cookie=await asession_cookie(user), origin="https://evil.example"))


async def test_a_socket_without_an_origin_is_refused():
    user = await astaff_create()
    await refused(staff_communicator(cookie=await asession_cookie(user), origin=None))


async def test_staff_with_the_permission_get_the_inbox():
    user = await astaff_create()
    await Conversation.objects.acreate(id="c-held-by-nobody")
    async with staff_socket(user) as staff:
        assert staff.inbox["me"] == user.pk
        assert isinstance(staff.inbox["conversations"], list)


async def test_a_malformed_staff_frame_gets_an_error_frame_and_the_socket_stays_open():
    user = await astaff_create()
    async with staff_socket(user) as staff:
        await staff.send_to(text_data="{not json")
        frame = await staff.receive_json_from(timeout=TIMEOUT)
        assert frame["type"] == "error" and frame["code"] == "bad_request"
        await staff.send_json_to({"type": "take"})
        frame = await staff.receive_json_from(timeout=TIMEOUT)
        assert frame["code"] == "bad_request" and "conversation" in frame["message"]
        await staff.send_json_to({"type": "take", "conversation": "no-such-conversation"})
        frame = await staff.receive_json_from(timeout=TIMEOUT)
        assert frame["code"] == "not_found"
