"""
A scripted bot server on loopback, speaking the widget's protocol.

For widget behaviour that the real answer pipeline cannot be made to produce
on demand (a chosen Markdown answer, hostile source URLs, a dropped socket at a
given moment, a refused origin), the browser tests point the real widget.js at
this peer instead of Django. It is the network edge of the widget, nothing
else: the HTTP page, `widget.js` itself (the real file), `GET /api/bot/`, and
`/ws/chat/` with the frames of docs/protocol.md.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

WIDGET_JS = Path(__file__).resolve().parents[2] / "chatbot" / "static" / "chatbot" / "widget.js"

DEFAULT_BOT = {
    "name": "Fake Bot",
    "title": "Fake Bot Help",
    "greeting": "Hello from the fake bot.",
    "colors": {"primary": "#7c3aed", "background": "#ffffff", "text": "#111827"},
    "consent_text": "I agree to be contacted (fake).",
}


@dataclass
class ScriptedAnswer:
    text: str
    sources: list[dict] = field(default_factory=list)
    answered: bool = True
    offer_contact: bool = False
    chunk: int = 6
    delay: float = 0.01
    first_token_delay: float = 0.0
    lead: str | None = None  # a `lead` frame after `done`: the message carried contact details


@dataclass
class FakeBot:
    port: int = 0
    bot: dict = field(default_factory=lambda: dict(DEFAULT_BOT))
    answers: dict[str, ScriptedAnswer] = field(default_factory=dict)
    refuse_origins: set[str] = field(default_factory=set)
    reject_connections: bool = False
    pages: dict[str, str] = field(default_factory=dict)
    history: dict[str, list[dict]] = field(default_factory=dict)
    received: list[dict] = field(default_factory=list)
    connections: list[dict] = field(default_factory=list)
    _open: set[ServerConnection] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def page(self, body: str = "", *, attrs: str = "") -> str:
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Host page</title></head>"
            f"<body>{body}<script src='{self.url}/static/chatbot/widget.js' {attrs} async></script></body></html>"
        )

    # --- HTTP ----------------------------------------------------------------------

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = request.path.split("?", 1)[0]
        if path == "/ws/chat/":
            return None
        if path == "/static/chatbot/widget.js":
            return _response(WIDGET_JS.read_bytes(), "text/javascript")
        if path == "/api/bot/":
            return _response(json.dumps(self.bot).encode(), "application/json", cors=True)
        if path.startswith("/kb/"):
            return _response(b"<!doctype html><title>Source</title><h1>Source page</h1>", "text/html")
        if path in self.pages:
            return _response(self.pages[path].encode(), "text/html")
        if path == "/":
            return _response(self.page().encode(), "text/html")
        return _response(b"not found", "text/plain", status=HTTPStatus.NOT_FOUND)

    # --- WebSocket ---------------------------------------------------------------------

    async def handler(self, ws: ServerConnection) -> None:
        origin = ws.request.headers.get("Origin", "")
        query = ws.request.path.partition("?")[2]
        params = dict(part.split("=", 1) for part in query.split("&") if "=" in part)
        asked = params.get("conversation")
        self.connections.append({"origin": origin, "conversation": asked, "lang": params.get("lang")})
        if self.reject_connections:
            await ws.close(1011, "not ready")
            return
        if origin in self.refuse_origins:
            await ws.send(
                json.dumps({"type": "error", "code": "origin_not_allowed", "message": f"{origin} is not allowed"})
            )
            await ws.close(4403, "origin not allowed")
            return
        conversation = asked if asked in self.history else secrets.token_urlsafe(12)
        self.history.setdefault(conversation, [])
        self._open.add(ws)
        try:
            await ws.send(
                json.dumps(
                    {
                        "type": "conversation",
                        "id": conversation,
                        "bot": self.bot,
                        "history": self.history[conversation],
                    }
                )
            )
            async for raw in ws:
                frame = json.loads(raw)
                self.received.append(frame)
                await self._handle(ws, conversation, frame)
        finally:
            self._open.discard(ws)

    async def _handle(self, ws: ServerConnection, conversation: str, frame: dict) -> None:
        if frame.get("type") == "message":
            await self._answer(ws, conversation, frame["text"])
        elif frame.get("type") == "feedback":
            await ws.send(json.dumps({"type": "feedback_ok", "message_id": frame["message_id"]}))
        elif frame.get("type") == "lead":
            if str(frame.get("email", "")).endswith("@refused.example"):
                await ws.send(
                    json.dumps(
                        {"type": "error", "code": "bad_request", "message": "That address is not accepted here."}
                    )
                )
            else:
                await ws.send(json.dumps({"type": "lead", "status": "captured"}))

    async def _answer(self, ws: ServerConnection, conversation: str, text: str) -> None:
        answer = self.answers.get(text, ScriptedAnswer(text=f"You asked: {text}"))
        message_id = secrets.token_urlsafe(8)
        self.history[conversation].append(
            {
                "id": secrets.token_urlsafe(8),
                "role": "visitor",
                "text": text,
                "sources": [],
                "answered": None,
                "feedback": None,
                "created_at": "2026-01-01T00:00:00Z",
            }
        )
        await ws.send(json.dumps({"type": "start", "message_id": message_id}))
        await asyncio.sleep(answer.first_token_delay)
        for start in range(0, len(answer.text), answer.chunk):
            await ws.send(json.dumps({"type": "token", "text": answer.text[start : start + answer.chunk]}))
            await asyncio.sleep(answer.delay)
        await ws.send(json.dumps({"type": "sources", "items": answer.sources}))
        self.history[conversation].append(
            {
                "id": message_id,
                "role": "assistant",
                "text": answer.text,
                "sources": answer.sources,
                "answered": answer.answered,
                "feedback": None,
                "created_at": "2026-01-01T00:00:01Z",
            }
        )
        await ws.send(
            json.dumps(
                {
                    "type": "done",
                    "message_id": message_id,
                    "answered": answer.answered,
                    "offer_contact": answer.offer_contact,
                }
            )
        )
        if answer.lead:
            await ws.send(json.dumps({"type": "lead", "status": answer.lead}))

    async def drop_all(self) -> None:
        for ws in list(self._open):
            await ws.close(1012, "restarting")


def _response(body: bytes, content_type: str, *, status: HTTPStatus = HTTPStatus.OK, cors: bool = False) -> Response:
    headers = Headers({"Content-Type": content_type, "Content-Length": str(len(body)), "Cache-Control": "no-store"})
    if cors:
        headers["Access-Control-Allow-Origin"] = "*"
    return Response(status.value, status.phrase, headers, body)


class FakeBotServer:
    """Runs a FakeBot in a thread with its own event loop; `call` runs a coroutine there."""

    def __init__(self, bot: FakeBot) -> None:
        self.bot = bot
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self._ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        self.server = await serve(
            self.bot.handler, "127.0.0.1", self.bot.port, process_request=self.bot.process_request
        )
        self.bot.port = self.server.sockets[0].getsockname()[1]

    def __enter__(self) -> FakeBot:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake bot server did not start")
        return self.bot

    def call(self, coroutine) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def __exit__(self, *exc) -> None:
        async def stop() -> None:
            self.server.close()
            await self.server.wait_closed()

        self.call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
