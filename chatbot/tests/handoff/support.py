"""Staff and visitor sockets for the live-handoff tests, on the project's ASGI application."""

from __future__ import annotations

from contextlib import asynccontextmanager

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from chatbot.asgi import application

TIMEOUT = 10
HOST = "testserver"
ORIGIN = "http://testserver"


def staff_create(*, username: str = "alice", first_name: str = "Alice", allowed: bool = True, staff: bool = True):
    user = get_user_model().objects.create_user(username=username, password="pw", first_name=first_name, is_staff=staff)
    if allowed:
        user.user_permissions.add(
            Permission.objects.get(codename="handle_conversation", content_type__app_label="conversations")
        )
    return user


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


astaff_create = sync_to_async(staff_create)
asession_cookie = sync_to_async(session_cookie)


def staff_communicator(*, cookie: str | None, origin: str | None = ORIGIN, host: str = HOST) -> WebsocketCommunicator:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    return WebsocketCommunicator(application, "/ws/staff/", headers=headers)


@asynccontextmanager
async def staff_socket(user):
    """A staff member's socket, connected, past its `inbox` frame (returned as `.inbox`)."""
    communicator = staff_communicator(cookie=await asession_cookie(user))
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    try:
        communicator.inbox = await communicator.receive_json_from(timeout=TIMEOUT)
        assert communicator.inbox["type"] == "inbox", communicator.inbox
        yield communicator
    finally:
        await communicator.disconnect()


@asynccontextmanager
async def visitor_socket(conversation_id: str | None = None):
    """A visitor's widget socket, past its `conversation` frame (returned as `.conversation`)."""
    path = f"/ws/chat/?conversation={conversation_id}" if conversation_id else "/ws/chat/"
    communicator = WebsocketCommunicator(
        application, path, headers=[(b"host", HOST.encode()), (b"origin", ORIGIN.encode())]
    )
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    try:
        communicator.conversation = await communicator.receive_json_from(timeout=TIMEOUT)
        assert communicator.conversation["type"] == "conversation"
        yield communicator
    finally:
        await communicator.disconnect()


async def receive_until(communicator: WebsocketCommunicator, kind: str, *, skip: tuple[str, ...] = ()) -> list[dict]:
    """Frames up to the first of type `kind` (included); fails on an unexpected error frame."""
    frames = []
    while True:
        frame = await communicator.receive_json_from(timeout=TIMEOUT)
        if frame["type"] in skip:
            continue
        frames.append(frame)
        if frame["type"] == kind:
            return frames
        assert frame["type"] != "error" or kind == "error", frame


async def ask(visitor: WebsocketCommunicator, text: str, *, until: str = "done") -> list[dict]:
    await visitor.send_json_to({"type": "message", "text": text})
    return await receive_until(visitor, until, skip=("lead",))
