"""
Open WebSockets are capped per client address: one more is accepted only to
be told why and closed with 4429; closing one frees its place. (Across
processes: tests/multiprocess/test_websocket_cap_across_processes.py; expiry
after a crash: core/tests/test_open_connections.py.)
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chatbot.asgi import application
from core.limits import WEBSOCKET_SLOT_SECONDS, open_websockets
from core.tests.clock import FakeClock

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10
IP = "203.0.113.9"


async def open_socket(ip: str = IP) -> tuple[WebsocketCommunicator, dict]:
    communicator = WebsocketCommunicator(application, "/ws/chat/")
    communicator.scope["client"] = (ip, 50123)
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    return communicator, await communicator.receive_json_from(timeout=TIMEOUT)


async def test_an_address_over_its_cap_is_told_why_and_closed_until_one_of_its_sockets_closes(settings, extractive):
    settings.WEBSOCKET_CONNECTIONS_PER_IP = 2
    first, _ = await open_socket()
    second, _ = await open_socket()

    third, refusal = await open_socket()
    closed = await third.receive_output(timeout=TIMEOUT)
    elsewhere, elsewhere_hello = await open_socket(ip="198.51.100.3")
    await first.disconnect()
    after_close, after_close_hello = await open_socket()

    assert refusal == {
        "type": "error",
        "code": "rate_limited",
        "message": "Too many open connections from your network address.",
        "retry_after": 30,
    }
    assert closed == {"type": "websocket.close", "code": 4429, "reason": "too many connections"}
    assert elsewhere_hello["type"] == "conversation", "another address has its own count"
    assert after_close_hello["type"] == "conversation", "a closed socket gives its place back"
    for communicator in (second, elsewhere, after_close):
        await communicator.disconnect()


async def test_a_socket_that_ends_on_the_server_side_gives_its_place_back_too(settings, extractive):
    settings.WEBSOCKET_CONNECTIONS_PER_IP = 1
    settings.RATE_LIMIT_RESUME_MISSES_PER_IP = "1/h"
    guesser, _ = await open_socket()
    await guesser.disconnect()
    # Refused by the consumer itself (too many unknown ids): closed by the server.
    for _ in range(2):
        communicator = WebsocketCommunicator(application, "/ws/chat/?conversation=guessed-id-000000000000")
        communicator.scope["client"] = (IP, 50123)
        await communicator.connect(timeout=TIMEOUT)
        await communicator.receive_json_from(timeout=TIMEOUT)
        await communicator.disconnect()

    again, hello = await open_socket()

    assert hello["type"] == "conversation"
    await again.disconnect()


async def until(condition, deadline: float = 30.0) -> bool:
    """Waits for `condition()` to hold, checking every 50 ms (an event, not a fixed sleep)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not await sync_to_async(condition)():
        if loop.time() > end:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_an_open_socket_keeps_its_place_slot_after_slot(settings, extractive, monkeypatch):
    # A fake clock 0.1 s before a slot ends, so the keep-alive task wakes up in about a second.
    clock = FakeClock(start=1_000_000 * WEBSOCKET_SLOT_SECONDS - 0.1)
    monkeypatch.setattr("core.limits.clock", clock)
    settings.WEBSOCKET_CONNECTIONS_PER_IP = 1
    communicator, _ = await open_socket()
    open_now = await sync_to_async(open_websockets)(IP)
    clock.advance(WEBSOCKET_SLOT_SECONDS + 1)  # two slots after the one it opened in: counted only if renewed

    renewed = await until(lambda: open_websockets(IP) == 1)
    refused, refusal = await open_socket()
    await refused.disconnect()
    await communicator.disconnect()
    released = await until(lambda: open_websockets(IP) == 0)

    assert open_now == 1
    assert renewed, "the open socket renewed its place into the next slot"
    assert refusal["code"] == "rate_limited"
    assert released
