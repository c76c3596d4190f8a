"""
The security measures that settings alone do not express.

`RequestBodyLimit` (ASGI, wraps the HTTP application in `chatbot.asgi`):
Django's ASGI handler reads a whole request body into a spooled temporary
file before any middleware runs, and multipart files are not covered by
DATA_UPLOAD_MAX_MEMORY_SIZE at all, so without this an anonymous POST of any
size to any URL fills the disk. A body declared (Content-Length) or streamed
(chunked) over the limit gets a 413 with a JSON explanation at once. The
limit is REQUEST_MAX_BYTES, except under /api/, which takes no files: there
it is DATA_UPLOAD_MAX_MEMORY_SIZE (DRF's parsers read the stream and skip
Django's own check of that setting). Single files are then held to
UPLOAD_MAX_BYTES by the knowledge admin.

`ProbeMiddleware`: `/healthz` and `/readyz` answer before the ALLOWED_HOSTS
check and the HTTPS redirect, because orchestrators probe from inside the
container over plain HTTP with `Host: 127.0.0.1`; under the production
settings those probes would otherwise get a 400 or a 301 and the container
would be marked unhealthy.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from asgiref.sync import async_to_sync, iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


API_PREFIX = "/api/"


def body_limit(path: str) -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE if path.startswith(API_PREFIX) else settings.REQUEST_MAX_BYTES


def too_large_body(limit: int) -> dict:
    return {
        "code": "too_large",
        "message": f"The request body is over the {_human(limit)} limit.",
        "max_bytes": limit,
    }


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    return f"{size / 1024:g} KB"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class RequestBodyLimit:
    """ASGI middleware: a 413 for any HTTP request body over `body_limit(path)`."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(send, limit)
            return

        received = 0
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    await self._refuse(send, limit)
                    # Django stops reading and sends nothing (RequestAborted).
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited_receive, guarded_send)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = json.dumps(too_large_body(limit)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class ProbeMiddleware:
    """Serves GET /healthz and /readyz ahead of the host check and the HTTPS redirect."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    @staticmethod
    def _probe(request: HttpRequest) -> Callable | None:
        if request.method not in ("GET", "HEAD"):
            return None
        from core import health

        return {"/healthz": health.healthz, "/readyz": health.readyz}.get(request.path_info)

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        view = self._probe(request)
        if view is None:
            return self.get_response(request)
        return async_to_sync(view)(request) if iscoroutinefunction(view) else view(request)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        view = self._probe(request)
        if view is None:
            return await self.get_response(request)
        if iscoroutinefunction(view):
            return await view(request)
        return view(request)  # healthz does no I/O
