"""
Limits that only a real server process shows: Gunicorn with the project's
Uvicorn worker drops connections that never finish their request headers
(half-open WebSocket upgrades), caps open WebSockets per address, believes
X-Forwarded-For from the trusted proxy only, and refuses to start several
workers without a shared cache.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from testsupport.processes import BASE_DIR, RunningProcess, child_environment, free_port, server_process

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

HALF_OPEN = 100
# Far longer than REQUEST_HEADERS_TIMEOUT below: only a server that never drops them fails.
WAIT_FOR_CLOSE = 60


@pytest.fixture(scope="module")
def server(django_db_setup) -> Iterator[RunningProcess]:
    env = {
        "LLM_PROVIDER": "extractive",
        "REQUEST_HEADERS_TIMEOUT": "1",
        "WEBSOCKET_CONNECTIONS_PER_IP": "2",
        "RATE_LIMIT_MESSAGES_PER_IP": "2/h",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    with server_process("gunicorn", env=env) as running:
        yield running


def closed_by_server(sock: socket.socket) -> bool:
    """Waits for the server to end the connection (EOF or reset); False if it is still open after the wait."""
    sock.settimeout(WAIT_FOR_CLOSE)
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_connections_that_never_finish_their_request_headers_are_dropped(server):
    upgrade = (
        b"GET /ws/chat/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\n"
    )  # the blank line that ends the headers never comes
    half_open = []
    for n in range(HALF_OPEN):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        if n % 2 == 0:
            sock.sendall(upgrade)
        half_open.append(sock)

    try:
        dropped = [closed_by_server(sock) for sock in half_open]
        healthy = requests.get(f"{server.url}/healthz", timeout=20)
    finally:
        for sock in half_open:
            sock.close()

    assert dropped.count(True) == HALF_OPEN, f"{dropped.count(False)} half-open connections still open"
    assert healthy.status_code == 200


async def test_an_open_websocket_is_not_cut_by_the_headers_deadline(server):
    async with connect(f"{server.ws_url}/ws/chat/", ping_interval=None) as ws:
        hello = json.loads(await asyncio.wait_for(ws.recv(), 20))
        # Half-open neighbours are dropped after the deadline; this socket finished its handshake.
        neighbour = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        neighbour_dropped = await asyncio.to_thread(closed_by_server, neighbour)
        neighbour.close()
        await ws.send(json.dumps({"type": "feedback", "message_id": "none", "rating": 1}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 20))

    assert hello["type"] == "conversation"
    assert neighbour_dropped
    assert reply["type"] == "error" and reply["code"] == "not_found", "the socket outlived the deadline"


async def let_in(url: str):
    """A socket that got its `conversation` frame; retried while an earlier test's socket still holds a place."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + WAIT_FOR_CLOSE
    while True:
        ws = await connect(url)
        if json.loads(await asyncio.wait_for(ws.recv(), 20))["type"] == "conversation":
            return ws
        await ws.close()
        assert loop.time() < give_up, "the server never gave the places back"
        await asyncio.sleep(0.1)


async def test_websockets_over_the_per_address_cap_are_refused_with_4429(server):
    first = await let_in(f"{server.ws_url}/ws/chat/")
    second = await let_in(f"{server.ws_url}/ws/chat/")
    async with connect(f"{server.ws_url}/ws/chat/") as third:
        refusal = json.loads(await asyncio.wait_for(third.recv(), 20))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(third.recv(), 20)
    await asyncio.gather(first.close(), second.close())

    assert refusal["code"] == "rate_limited"
    assert closed.value.rcvd.code == 4429


def test_x_forwarded_for_from_the_trusted_proxy_names_the_client(server):
    def chat(visitor: str) -> int:
        return requests.post(
            f"{server.url}/api/chat/", json={"message": "hello"}, timeout=30, headers={"X-Forwarded-For": visitor}
        ).status_code

    first = [chat("203.0.113.10") for _ in range(3)]
    other_visitor = chat("203.0.113.11")

    assert first == [200, 200, 429], "the limit counts the visitor the proxy names"
    assert other_visitor == 200, "not everyone behind the proxy shares one bucket"


@pytest.mark.parametrize("how", ["WEB_CONCURRENCY", "-w"])
def test_gunicorn_refuses_to_start_several_workers_without_a_shared_cache(how):
    command = [sys.executable, "-m", "gunicorn", "chatbot.asgi:application", "-b", f"127.0.0.1:{free_port()}"]
    env = child_environment(REDIS_URL="")
    if how == "-w":
        command += ["-w", "2"]
    else:
        env["WEB_CONCURRENCY"] = "2"

    started = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)

    assert started.returncode != 0
    assert "chatbot.E002" in started.stderr and "REDIS_URL" in started.stderr
