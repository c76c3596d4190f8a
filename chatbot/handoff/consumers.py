"""
The staff WebSocket (/ws/staff/): the live inbox, transcripts, take over, hand back.

Authenticated by the admin session (Channels' AuthMiddlewareStack around this
route only) and same-origin only: a page of another site, an anonymous
visitor or staff without `conversations.handle_conversation` get close code
4403 and no data. Frames: docs/protocol.md#live-handoff.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from chatbot.frames import BadFrame, error_frame
from chatbot.handoff import services
from chatbot.handoff.frames import StaffIn, staff_frame_parse
from chatbot.handoff.groups import INBOX_GROUP, GroupSubscription, watch_group
from chatbot.handoff.presence import PRESENCE_REFRESH, apresence_clear, apresence_refresh, awatch_set
from chatbot.handoff.selectors import conversation_holder, staff_can_handle, staff_inbox, staff_transcript
from conversations.selectors import conversation_get
from core.origins import origin_is_allowed

logger = logging.getLogger(__name__)

FORBIDDEN_CLOSE_CODE = 4403


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _same_origin(scope: dict) -> bool:
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    return bool(origin) and origin_is_allowed(origin=origin, host=host, allowed=settings.CSRF_TRUSTED_ORIGINS)


class StaffConsumer(AsyncWebsocketConsumer):
    # Groups are joined through GroupSubscription, which outlives a channel-layer outage.
    channel_layer_alias = None

    async def connect(self) -> None:
        await self.accept()
        user = self.scope.get("user")
        allowed = _same_origin(self.scope) and await database_sync_to_async(staff_can_handle)(user)
        if not allowed:
            await self.close(code=FORBIDDEN_CLOSE_CODE)
            return
        self.user = getattr(user, "_wrapped", user)  # the resolved user, not Channels' lazy wrapper
        self.watching: str | None = None
        self.subscription = GroupSubscription(self.send_frame)
        await self.subscription.start([INBOX_GROUP])
        await apresence_refresh(user_id=user.pk, watching=None)
        self._presence = asyncio.create_task(self._keep_presence())
        inbox = await database_sync_to_async(staff_inbox)(user_id=user.pk)
        await self.send_frame({"type": "inbox", "conversations": inbox, "me": user.pk})

    async def disconnect(self, code: int) -> None:
        presence = getattr(self, "_presence", None)
        if presence is None:
            return
        presence.cancel()
        try:
            await presence
        except asyncio.CancelledError:
            pass
        await self.subscription.stop()
        try:
            await apresence_clear(user_id=self.user.pk)
        except Exception as exc:  # noqa: BLE001 - it expires on its own
            logger.warning("could not clear a staff presence: %r", exc)

    async def _keep_presence(self) -> None:
        """Periodic, not a synchronisation: the presence keys expire unless refreshed."""
        while True:
            await asyncio.sleep(PRESENCE_REFRESH)
            try:
                await apresence_refresh(user_id=self.user.pk, watching=self.watching)
            except Exception as exc:  # noqa: BLE001 - the cache is down; tried again at the next refresh
                logger.warning("could not refresh a staff presence: %r", exc)

    async def send_frame(self, frame: Mapping[str, Any]) -> None:
        if frame.get("type") == "conversation_update":
            # One update for every staff socket: whose it is depends on who reads it.
            row = dict(frame["conversation"])
            row["held_by_me"] = frame.get("held_by_id") == self.user.pk and row.get("held_by") is not None
            frame = {"type": "conversation_update", "conversation": row}
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not hasattr(self, "subscription"):
            return
        try:
            frame = staff_frame_parse(text_data)
        except BadFrame as exc:
            await self.send_frame(error_frame("bad_request", str(exc)))
            return
        try:
            await self._act(frame)
        except services.HandoffRefused as refused:
            await self.send_frame(
                {
                    "type": "error",
                    "code": refused.code,
                    "message": refused.message,
                    "conversation": frame.conversation,
                    **refused.extra,
                }
            )

    async def _act(self, frame: StaffIn) -> None:
        conversation_id = frame.conversation
        if frame.action == "open":
            await self._open(conversation_id)
        elif frame.action == "close":
            await self._unwatch()
        elif frame.action == "take":
            taken = await services.astaff_take(conversation_id=conversation_id, user=self.user)
            await self.send_frame({"type": "taken", "conversation": conversation_id, "name": taken.name})
        elif frame.action == "release":
            await services.astaff_release(conversation_id=conversation_id, user=self.user)
            await self.send_frame({"type": "released", "conversation": conversation_id})
        elif frame.action == "message":
            await services.astaff_message(conversation_id=conversation_id, user=self.user, text=frame.text)
        elif frame.action == "typing":
            await services.astaff_typing(conversation_id=conversation_id, user=self.user)

    async def _open(self, conversation_id: str) -> None:
        conversation = await database_sync_to_async(conversation_get)(conversation_id=conversation_id)
        if conversation is None:
            raise services.HandoffRefused("not_found", "No conversation with this id.")
        await self._unwatch()
        self.watching = conversation.pk
        # Joined before the transcript is read: nothing said in between is missed (the page drops repeats by id).
        await self.subscription.add(watch_group(conversation.pk))
        await awatch_set(conversation_id=conversation.pk)
        messages = await database_sync_to_async(staff_transcript)(conversation_id=conversation.pk)
        holder = await database_sync_to_async(conversation_holder)(conversation_id=conversation.pk)
        await self.send_frame(
            {
                "type": "transcript",
                "conversation": conversation.pk,
                "messages": messages,
                "held_by": holder[1] if holder else None,
                "held_by_me": holder is not None and holder[0] == self.user.pk,
            }
        )

    async def _unwatch(self) -> None:
        if self.watching:
            await self.subscription.discard(watch_group(self.watching))
            self.watching = None
