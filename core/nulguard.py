"""
NUL characters refused at the door, for HTTP and WebSocket alike.

PostgreSQL cannot store a NUL (0x00) in text, nor compare one: a NUL anywhere
it reaches a query fails the whole request with a DataError (an HTTP 500 for
`GET /api/conversations/ab%00cd/` or an admin search, a WebSocket dropped for a
resumed conversation id). No legitimate URL, query string or header carries
one, so `NulRefusal` (ASGI, wrapping the whole application in
`chatbot.asgi`) refuses them before any view runs: HTTP gets a 400
`{"code": "bad_request", ...}`, a WebSocket handshake is accepted, told the
same in an `error` frame and closed with `CLOSE_CODE`.

Bodies are checked where they are parsed: JSON by `core.safejson` (REST and
WebSocket frames), forms by the NUL validator that Django and DRF put on
every text field.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

MESSAGE = "NUL characters (%00) are not allowed in URLs or headers."
CLOSE_CODE = 4400


def scope_has_nul(scope: Scope) -> bool:
    """A NUL in the path, the (percent-decoded) query string or any header value."""
    if "\x00" in scope.get("path", ""):
        return True
    if b"\x00" in unquote_to_bytes(scope.get("query_string", b"")):
        return True
    return any(b"\x00" in name or b"\x00" in value for name, value in scope.get("headers", []))


class NulRefusal:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not scope_has_nul(scope):
            await self.app(scope, receive, send)
            return
        error = {"code": "bad_request", "message": MESSAGE}
        if scope["type"] == "http":
            body = json.dumps(error).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps({"type": "error", **error})})
        await send({"type": "websocket.close", "code": CLOSE_CODE, "reason": "bad request"})
