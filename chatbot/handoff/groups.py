"""
Channel-layer groups of the live handoff, and delivery through them.

- `visitor_group(id)`: the visitor sockets of one conversation (`/ws/chat/`), whichever
  process holds them; staff frames (`agent_*`) reach the visitor through it.
- `INBOX_GROUP`: every staff socket; inbox updates (new activity, waiting, taken, released).
- `watch_group(id)`: staff sockets with that conversation open; its live transcript.

Every message on the layer is `{"type": "handoff.frame", "frame": {...}}`: the
frame the socket sends as it is. A failed send is logged, never raised: the
message is already stored, and the reader finds it in the history.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

INBOX_GROUP = "handoff.inbox"
MESSAGE_TYPE = "handoff.frame"
# Retry delays (seconds) while the channel layer is unreachable.
RETRY_FIRST, RETRY_MAX = 0.2, 5.0
SEND_TIMEOUT = 5.0


def visitor_group(conversation_id: str) -> str:
    return f"handoff.chat.{conversation_id}"


def watch_group(conversation_id: str) -> str:
    return f"handoff.watch.{conversation_id}"


async def agroup_send(group: str, frame: dict) -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await asyncio.wait_for(layer.group_send(group, {"type": MESSAGE_TYPE, "frame": frame}), SEND_TIMEOUT)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - the layer is down: the frame is lost, the stored row is not
        logger.warning("could not send a %s frame to a handoff group: %r", frame.get("type"), exc)
        return False
    return True


async def agroups_send(groups: list[str], frame: dict) -> None:
    await asyncio.gather(*(agroup_send(group, frame) for group in groups))


class GroupSubscription:
    """
    One socket's channel and the groups it listens to, with its own receive
    loop instead of Channels' consumer machinery: Channels ends a consumer
    whose channel-layer receive fails, so a Redis restart would close every
    open WebSocket. Here a failed receive waits, joins the groups again (a
    restarted Redis has forgotten them) and goes on.
    """

    def __init__(self, on_frame: Callable[[dict], Awaitable[None]]) -> None:
        self.on_frame = on_frame
        self.layer = get_channel_layer()
        self.channel = ""
        self.groups: set[str] = set()
        self._task: asyncio.Task | None = None

    async def start(self, groups: list[str]) -> None:
        if self.layer is None:
            return
        self.channel = await self.layer.new_channel()
        for group in groups:
            await self.add(group)
        self._task = asyncio.create_task(self._receive_loop())

    async def add(self, group: str) -> None:
        self.groups.add(group)
        await self._join(group)

    async def discard(self, group: str) -> None:
        self.groups.discard(group)
        if self.layer is not None and self.channel:
            try:
                await asyncio.wait_for(self.layer.group_discard(group, self.channel), SEND_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the group expires on its own
                logger.warning("could not leave a handoff group: %r", exc)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for group in list(self.groups):
            await self.discard(group)

    async def _join(self, group: str) -> bool:
        if self.layer is None or not self.channel:
            return False
        try:
            await asyncio.wait_for(self.layer.group_add(group, self.channel), SEND_TIMEOUT)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - joined again after the next failed receive
            logger.warning("could not join a handoff group: %r", exc)
            return False
        return True

    async def _receive_loop(self) -> None:
        delay = RETRY_FIRST
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the layer is down: wait, join again, go on
                logger.warning("handoff channel receive failed; retrying in %.1fs: %r", delay, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                for group in list(self.groups):
                    await self._join(group)
                continue
            delay = RETRY_FIRST
            if message.get("type") != MESSAGE_TYPE or not isinstance(message.get("frame"), dict):
                continue
            try:
                await self.on_frame(message["frame"])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("handling a handoff frame failed")
