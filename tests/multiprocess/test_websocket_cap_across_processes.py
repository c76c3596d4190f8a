"""
The cap on open WebSockets per address counts in Redis, so it holds across
web processes: sockets held on one process count against a new one on the
other, and closing one on either frees a place everywhere.
"""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from testsupport.processes import server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TIMEOUT = 30


@pytest.fixture
def two_servers(tidewater_kb):
    env = {"LLM_PROVIDER": "extractive", "WEBSOCKET_CONNECTIONS_PER_IP": "2"}
    with server_process("gunicorn", env=env) as first, server_process("gunicorn", env=env) as second:
        yield first, second


async def first_frame(ws) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def refused_with(ws) -> int | None:
    """The close code of a refused socket (after its error frame), or None if it was let in."""
    frame = await first_frame(ws)
    if frame["type"] != "error":
        return None
    try:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    except ConnectionClosed as closed:
        return closed.rcvd.code
    return None


async def test_the_per_address_websocket_cap_holds_across_processes(two_servers):
    first, second = two_servers
    on_first = await connect(f"{first.ws_url}/ws/chat/")
    on_second = await connect(f"{second.ws_url}/ws/chat/")
    hellos = [await first_frame(ws) for ws in (on_first, on_second)]

    refused_on_first = await refused_with(await connect(f"{first.ws_url}/ws/chat/"))
    refused_on_second = await refused_with(await connect(f"{second.ws_url}/ws/chat/"))
    await on_second.close()
    # The other process gives the place back once its consumer has ended: wait for that, not a fixed time.
    loop = asyncio.get_running_loop()
    give_up = loop.time() + TIMEOUT
    while True:
        after_close = await connect(f"{first.ws_url}/ws/chat/")
        after_close_hello = await first_frame(after_close)
        if after_close_hello["type"] == "conversation" or loop.time() > give_up:
            break
        await after_close.close()
        await asyncio.sleep(0.1)
    await asyncio.gather(on_first.close(), after_close.close())

    assert [hello["type"] for hello in hellos] == ["conversation", "conversation"]
    assert refused_on_first == 4429 and refused_on_second == 4429
    assert after_close_hello["type"] == "conversation", "a socket closed on one process frees a place on the other"
