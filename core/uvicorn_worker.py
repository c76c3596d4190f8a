"""
Uvicorn's HTTP protocol with a deadline for the request headers, and the
Gunicorn worker that uses it:

    gunicorn chatbot.asgi:application -k core.uvicorn_worker.UvicornWorker
    uvicorn chatbot.asgi:application --http core.uvicorn_worker:HeadersDeadlineHttpToolsProtocol

Uvicorn has no such deadline: its keep-alive timeout covers only the time
between requests and every byte received resets it, so a client that opens
connections and sends a request slowly, or not at all, holds them open for
ever (200 half-open WebSocket upgrades were still open after 20 s). Here a
connection must complete its request headers within REQUEST_HEADERS_TIMEOUT
seconds of opening, or of starting its next request when kept alive, or it
is closed. Once the headers are in nothing changes: request bodies,
responses and open WebSockets take as long as they need.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker as BaseUvicornWorker


def _headers_timeout() -> float:
    # Read when a connection opens: Django's settings are set up by then (the app is loaded).
    from django.conf import settings

    return float(getattr(settings, "REQUEST_HEADERS_TIMEOUT", 0) or 0)


class HeadersDeadlineHttpToolsProtocol(HttpToolsProtocol):
    _headers_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._headers_deadline_start()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._headers_deadline is None:
            self._headers_deadline_start()

    def on_headers_complete(self) -> None:
        self._headers_deadline_cancel()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_deadline_cancel()
        super().connection_lost(exc)

    def _headers_deadline_start(self) -> None:
        timeout = _headers_timeout()
        if timeout > 0:
            self._headers_deadline = self.loop.call_later(timeout, self._headers_too_slow)

    def _headers_deadline_cancel(self) -> None:
        if self._headers_deadline is not None:
            self._headers_deadline.cancel()
            self._headers_deadline = None

    def _headers_too_slow(self) -> None:
        self._headers_deadline = None
        if not self.transport.is_closing():
            self.logger.debug("closing a connection that did not send its request headers in time")
            self.transport.close()


class UvicornWorker(BaseUvicornWorker):
    """uvicorn_worker.UvicornWorker, with the request headers deadline."""

    CONFIG_KWARGS = {**BaseUvicornWorker.CONFIG_KWARGS, "http": HeadersDeadlineHttpToolsProtocol}
