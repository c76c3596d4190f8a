"""
At most WEBSOCKET_CONNECTIONS_PER_IP open WebSockets per client address,
counted in the cache across every web process (core.limits,
core.open_connections).

An ASGI wrapper around the WebSocket router, so that the place is taken
before any consumer runs and given back however the connection ends
(`finally`); a process that dies with connections open stops counting them
within two minutes. Like the origin check, a refusal is explicit: the socket
is accepted only to receive a `rate_limited` error frame and a close with
code 4429, which the widget answers by reconnecting with backoff.
"""

from __future__ import annotations

import asyncio
import json
import logging

from core.limits import (
    awebsocket_slot_keep,
    awebsocket_slot_release,
    awebsocket_slot_take,
    rate_request_from_scope,
)

logger = logging.getLogger(__name__)

RATE_LIMITED_CLOSE_CODE = 4429
# When to try again after a refusal: another of the address's connections must close first.
REFUSED_RETRY_AFTER = 30


class WebSocketConnectionCap:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        slot = await awebsocket_slot_take(client=rate_request_from_scope(scope))
        if slot.refused:
            logger.warning("WebSocket refused: the client's address has too many open")
            return await _refuse(receive, send)
        keeping = asyncio.create_task(awebsocket_slot_keep(slot=slot)) if slot.lease is not None else None
        try:
            return await self.application(scope, receive, send)
        finally:
            if keeping is not None:
                keeping.cancel()
                await asyncio.shield(awebsocket_slot_release(slot=slot))


async def _refuse(receive, send) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    frame = {  # the chat protocol's error frame (chatbot.frames.error_frame)
        "type": "error",
        "code": "rate_limited",
        "message": "Too many open connections from your network address.",
        "retry_after": REFUSED_RETRY_AFTER,
    }
    await send({"type": "websocket.send", "text": json.dumps(frame)})
    await send({"type": "websocket.close", "code": RATE_LIMITED_CLOSE_CODE, "reason": "too many connections"})
