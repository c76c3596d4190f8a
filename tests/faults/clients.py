"""
A chat client for fault and multi-process tests: the `websockets` library
speaking the widget's protocol (docs/protocol.md), resuming its conversation
on every reconnect as the widget does.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

TIMEOUT = 30.0


@dataclass
class Answer:
    frames: list[dict] = field(default_factory=list)

    @property
    def message_id(self) -> str | None:
        for frame in self.frames:
            if frame.get("message_id"):
                return frame["message_id"]
        return None

    @property
    def text(self) -> str:
        return "".join(frame["text"] for frame in self.frames if frame["type"] == "token")

    @property
    def last(self) -> dict:
        return self.frames[-1] if self.frames else {}

    @property
    def done(self) -> bool:
        return self.last.get("type") == "done"

    def kinds(self) -> list[str]:
        """Frame types in order, runs of tokens collapsed to one."""
        kinds: list[str] = []
        for frame in self.frames:
            if not (kinds and kinds[-1] == "token" == frame["type"]):
                kinds.append(frame["type"])
        return kinds


class ChatClient:
    """One visitor: a conversation over one WebSocket at a time."""

    def __init__(self, base_ws_url: str, *, timeout: float = TIMEOUT) -> None:
        self.base_ws_url = base_ws_url
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        self.conversation_id: str | None = None
        self.history: list[dict] = []
        self.refused: list[str] = []  # why each attempt of `open_with_retry` failed

    @property
    def url(self) -> str:
        url = f"{self.base_ws_url}/ws/chat/"
        return f"{url}?conversation={self.conversation_id}" if self.conversation_id else url

    async def open(self, base_ws_url: str | None = None) -> dict:
        """Connects (resuming the conversation once it has an id) and reads the `conversation` frame."""
        if base_ws_url:
            self.base_ws_url = base_ws_url
        self.ws = await connect(self.url, open_timeout=self.timeout, ping_interval=None, max_queue=None)
        frame = await self.recv()
        assert frame["type"] == "conversation", frame
        if self.conversation_id is not None:
            assert frame["id"] == self.conversation_id, "the conversation was not resumed"
        self.conversation_id = frame["id"]
        self.history = frame["history"]
        return frame

    async def open_with_retry(self, *, deadline: float = 30.0, base_ws_url: str | None = None) -> dict:
        """Reconnects with backoff, as the widget does, until the server takes the connection again."""
        delay = 0.1
        loop = asyncio.get_running_loop()
        give_up = loop.time() + deadline
        while True:
            try:
                return await self.open(base_ws_url)
            except (OSError, InvalidHandshake, InvalidStatus, ConnectionClosed, TimeoutError) as refusal:
                self.refused.append(repr(refusal))
                if loop.time() > give_up:
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)

    async def recv(self) -> dict:
        assert self.ws is not None
        return json.loads(await asyncio.wait_for(self.ws.recv(), self.timeout))

    async def send(self, frame: dict) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def ask(self, text: str) -> Answer:
        """Sends a message and reads its frames up to `done` or an `error`."""
        await self.send({"type": "message", "text": text})
        return await self.read_answer()

    async def read_answer(self) -> Answer:
        answer = Answer()
        while True:
            frame = await self.recv()
            if frame["type"] in ("lead", "feedback_ok") and not answer.frames:
                continue  # the tail of the previous exchange
            answer.frames.append(frame)
            if frame["type"] in ("done", "error"):
                return answer

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await self.ws.close()
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.ws = None


async def db_call(function, *args, **kwargs):
    """
    Runs an ORM read in a worker thread and closes that thread's database
    connection afterwards: an open one would keep the test database from
    being dropped at the end of the run.
    """
    from django.db import connections

    def call():
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(call)


class StaffClient:
    """A staff member's socket on /ws/staff/, logged in by an admin session cookie, from the server's own origin."""

    def __init__(self, base_ws_url: str, *, session_cookie: str, timeout: float = TIMEOUT) -> None:
        self.base_ws_url = base_ws_url
        self.session_cookie = session_cookie
        self.timeout = timeout
        self.ws: ClientConnection | None = None
        self.inbox: dict = {}

    async def open(self) -> dict:
        origin = self.base_ws_url.replace("ws://", "http://").replace("wss://", "https://")
        self.ws = await connect(
            f"{self.base_ws_url}/ws/staff/",
            open_timeout=self.timeout,
            ping_interval=None,
            max_queue=None,
            origin=origin,
            additional_headers={"Cookie": f"sessionid={self.session_cookie}"},
        )
        self.inbox = await self.recv()
        assert self.inbox["type"] == "inbox", self.inbox
        return self.inbox

    async def recv(self) -> dict:
        assert self.ws is not None
        return json.loads(await asyncio.wait_for(self.ws.recv(), self.timeout))

    async def send(self, frame: dict) -> None:
        assert self.ws is not None
        await self.ws.send(json.dumps(frame))

    async def recv_until(self, kind: str, **match: object) -> dict:
        """The next frame of type `kind` (with these fields), skipping others; an error frame fails."""
        while True:
            frame = await self.recv()
            if frame["type"] == kind and all(frame.get(key) == value for key, value in match.items()):
                return frame
            assert frame["type"] != "error" or kind == "error", frame

    async def take(self, conversation_id: str) -> dict:
        await self.send({"type": "take", "conversation": conversation_id})
        return await self.recv_until("taken", conversation=conversation_id)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None
