"""
Waiting for events and conditions in tests, never for a fixed time.

The suite runs on busy machines (two cores shared by several runs): a test
that sleeps a fixed time and then asserts fails when the machine is slow. A
test waits instead for the thing it needs (a request reached a fake, a row
changed state, a client gave up) with a generous deadline that only matters
when the thing never happens.
"""

from __future__ import annotations

import asyncio
import inspect
import select
import socket
import threading
import time
from collections.abc import Awaitable, Callable

DEADLINE = 60.0  # seconds; long enough for a starved machine, short enough to report a real hang


def wait_until(
    condition: Callable[[], object],
    *,
    timeout: float = DEADLINE,
    interval: float = 0.05,
    describe: Callable[[], object] | str = "",
) -> None:
    """Polls `condition` until it is true; fails the test after `timeout` seconds, with `describe()`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            detail = describe() if callable(describe) else describe
            raise AssertionError(f"condition not met within {timeout:g}s: {detail}")
        time.sleep(interval)


async def await_until(
    condition: Callable[[], object | Awaitable[object]],
    *,
    timeout: float = DEADLINE,
    interval: float = 0.05,
    describe: Callable[[], object] | str = "",
) -> object:
    """
    `wait_until` for async tests, without blocking the event loop: calls (and
    awaits, when it is a coroutine function) `condition` until it gives a true
    value, and returns that value.
    """

    async def check() -> object:
        value = condition()
        return await value if inspect.isawaitable(value) else value

    deadline = time.monotonic() + timeout
    while not (value := await check()):
        if time.monotonic() > deadline:
            detail = describe() if callable(describe) else describe
            raise AssertionError(f"condition not met within {timeout:g}s: {detail}")
        await asyncio.sleep(interval)
    return value


def client_gone(connection: socket.socket, *, timeout: float, stopping: threading.Event | None = None) -> bool:
    """
    Waits until the client closes `connection` (it gave up on the answer, as on
    a timeout), up to `timeout` seconds or until `stopping` is set. True when
    the client left: a fake's "hang" then lasts exactly as long as the client's
    own timeout, whatever the machine's speed.
    """
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0 and not (stopping and stopping.is_set()):
        try:
            readable, _, _ = select.select([connection], [], [], min(0.05, remaining))
            if readable and connection.recv(1, socket.MSG_PEEK) == b"":
                return True
        except (OSError, ValueError):  # reset by the client, or already closed
            return True
        if readable:  # bytes, not a close: not expected from a client waiting for its answer
            time.sleep(0.05)
    return False
