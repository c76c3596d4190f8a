"""
The chat WebSocket (/ws/chat/): frames in, frames out (docs/protocol.md).

Thin on purpose: answers come from `chatbot.pipeline.answer_stream`, leads from
`leads.services`, feedback from `conversations.services`. Answers run as a
task, one at a time per connection and in the order asked, so that feedback
and contact-form frames are handled while an answer streams.

Every frame is counted in the same rate-limit buckets as the REST API
(core.limits), keyed by the client's IP from the scope and by the
conversation; a limited frame gets a `rate_limited` error with `retry_after`
and the connection stays open. Resuming a conversation by id counts as a read
of it; over the read limits (or after too many unknown ids from the address)
the connection gets `rate_limited` and is closed with 4429. Open WebSockets
per address are capped around the consumer (core.connection_cap). Log
lines carry the conversation id and a connection id (as the request id).

Live handoff (chatbot.handoff): each socket listens to its conversation's
channel-layer group, through which a staff member's frames (`agent_*`) arrive
from whichever process holds the staff socket. Before the pipeline, a message
goes through `visitor_message_route` (held by staff: stored and relayed, no
answer); the bot's answer is relayed to staff watching around the stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import aclosing
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.core.exceptions import ValidationError

from chatbot.frames import (
    BadFrame,
    ErrorFrame,
    FeedbackIn,
    LeadIn,
    MessageIn,
    ServerFrame,
    client_frame_parse,
    error_frame,
)
from chatbot.handoff.groups import GroupSubscription, visitor_group
from chatbot.handoff.relay import answer_relayed
from chatbot.handoff.selectors import conversation_holder
from chatbot.handoff.visitor import visitor_message_route
from chatbot.pipeline import answer_refusal, answer_stream
from chatbot.selectors import abot_settings_get
from conversations.models import Conversation, Message, new_conversation_id
from conversations.selectors import conversation_get, conversation_history
from conversations.services import conversation_ensure, message_feedback_set
from core.connection_cap import RATE_LIMITED_CLOSE_CODE
from core.language import gettext_in, language_default, language_supported
from core.limits import (
    FEEDBACK_PER_CONVERSATION,
    FEEDBACK_PER_IP,
    LEADS_PER_CONVERSATION,
    LEADS_PER_IP,
    RateRequest,
    alimits_hit,
    aresume_miss_record,
    aresume_refusal,
    rate_request_from_scope,
)
from core.structured_logging import bind_conversation, bind_request_id

logger = logging.getLogger(__name__)

# Messages waiting behind the one being answered; more is flooding.
MAX_QUEUED_MESSAGES = 5


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _validation_message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return " ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items())
    return " ".join(exc.messages)


@database_sync_to_async
def _resume(conversation_id: str) -> tuple[str, list, str | None] | None:
    """The conversation's id, history and the name of the staff member holding it (None: the bot answers)."""
    conversation = conversation_get(conversation_id=conversation_id)
    if conversation is None:
        return None
    holder = conversation_holder(conversation_id=conversation.pk) if conversation.assigned_to_id else None
    return conversation.pk, conversation_history(conversation_id=conversation.pk), holder[1] if holder else None


@database_sync_to_async
def _submit_lead(*, conversation_id: str, frame: LeadIn, consent_text: str, origin: str, user_agent: str) -> str:
    from leads.models import Lead
    from leads.services import lead_submit_form

    conversation = conversation_ensure(conversation_id=conversation_id, origin=origin, user_agent=user_agent)
    result = lead_submit_form(
        conversation=conversation,
        name=frame.name,
        email=frame.email,
        phone=frame.phone,
        consent=frame.consent,
        consent_text=consent_text,
        source=Lead.Source.FORM,
    )
    return result.status


@database_sync_to_async
def _set_feedback(*, conversation_id: str, frame: FeedbackIn) -> None:
    message_feedback_set(message_id=frame.message_id, rating=frame.rating, conversation_id=conversation_id)


def _rate_limited(retry_after: int, language: str) -> ErrorFrame:
    return error_frame(
        "rate_limited",
        gettext_in(language, "Too many requests in a short time; please slow down."),
        retry_after=retry_after,
    )


class ChatConsumer(AsyncWebsocketConsumer):
    conversation_id: str
    origin: str
    user_agent: str
    client: RateRequest
    language: str  # the widget's UI language (?lang=), for fixed texts when a message does not tell

    # Answers are sent by the process that holds the socket; only staff frames
    # (live handoff) come through the channel layer, by a GroupSubscription of
    # our own: Channels' would end the consumer when its channel-layer receive
    # fails, and open WebSockets must survive a Redis restart
    # (tests/faults/test_redis_restart.py).
    channel_layer_alias = None

    async def connect(self) -> None:
        await self.accept()
        bind_request_id(_header(self.scope, b"x-request-id"))
        self.client = rate_request_from_scope(self.scope)
        self.origin = _header(self.scope, b"origin")[:300]
        self.user_agent = _header(self.scope, b"user-agent")[:500]
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        requested = (query.get("conversation") or [""])[0]
        self.language = language_supported((query.get("lang") or [""])[0]) or language_default()
        self._answers: asyncio.Queue[str] = asyncio.Queue()
        retry_after = await aresume_refusal(client=self.client, conversation_id=requested) if requested else None
        if retry_after is not None:
            await self.send_frame(_rate_limited(retry_after, self.language))
            await self.close(code=RATE_LIMITED_CLOSE_CODE)
            return
        # Staff frames sent while the history is read arrive after it; those in it are dropped by id.
        self._agent_ids: set[str] = set()
        self._frames_early: list[dict] | None = []
        self._subscription = GroupSubscription(self._agent_frame)
        resumed = None
        if requested:
            await self._subscription.start([visitor_group(requested)])
            resumed = await _resume(requested)
            if not resumed:
                await aresume_miss_record(client=self.client)
                await self._subscription.stop()
        agent = None
        if resumed:
            self.conversation_id, history, agent = resumed
        else:
            # Not a row yet: the first message creates it, so idle connections leave nothing behind.
            self.conversation_id, history = new_conversation_id(), []
            await self._subscription.start([visitor_group(self.conversation_id)])
        self._agent_ids.update(item["id"] for item in history if item["role"] == "agent")
        bind_conversation(self.conversation_id)
        self._answering = asyncio.create_task(self._answer_loop())
        bot = (await abot_settings_get()).in_language(self.language)
        frame = {"type": "conversation", "id": self.conversation_id, "history": history, "bot": dict(bot.public())}
        if agent:
            frame["agent"] = {"name": agent}
        await self.send_frame(frame)
        early, self._frames_early = self._frames_early or [], None
        for frame in early:
            await self._agent_frame(frame)

    async def _agent_frame(self, frame: dict) -> None:
        """A staff frame from the conversation's group, to the visitor; an agent_message only once."""
        if self._frames_early is not None:
            self._frames_early.append(frame)
            return
        if frame.get("type") == "agent_message":
            if frame.get("id") in self._agent_ids:
                return
            self._agent_ids.add(frame.get("id", ""))
        await self.send_frame(frame)

    async def disconnect(self, code: int) -> None:
        subscription = getattr(self, "_subscription", None)
        if subscription is not None:
            await subscription.stop()
        answering = getattr(self, "_answering", None)
        if answering is not None:
            answering.cancel()
            try:
                await answering
            except asyncio.CancelledError:
                pass

    async def send_frame(self, frame: ServerFrame | dict) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = client_frame_parse(text_data)
        except BadFrame as exc:
            await self.send_frame(error_frame("bad_request", str(exc)))
            return
        if isinstance(frame, MessageIn):
            if self._answers.qsize() >= MAX_QUEUED_MESSAGES:
                await self.send_frame(
                    error_frame(
                        "rate_limited",
                        gettext_in(self.language, "Please wait for the answers to your last messages."),
                        retry_after=1,
                    )
                )
                return
            refusal = await answer_refusal(
                conversation_id=self.conversation_id, text=frame.text, client=self.client, language=self.language
            )
            if refusal is not None:
                await self.send_frame(refusal)
                return
            self._answers.put_nowait(frame.text)
        elif isinstance(frame, LeadIn):
            await self._lead(frame)
        elif isinstance(frame, FeedbackIn):
            await self._feedback(frame)

    async def _answer_loop(self) -> None:
        while True:
            text = await self._answers.get()
            try:
                routed = await visitor_message_route(
                    conversation_id=self.conversation_id,
                    text=text,
                    channel=Conversation.Channel.WIDGET,
                    origin=self.origin,
                    user_agent=self.user_agent,
                    ui_language=self.language,
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("handoff routing failed in conversation %s", self.conversation_id)
                routed = None
            if routed is not None:
                for routed_frame in routed.frames:
                    await self.send_frame(routed_frame)
                continue
            stream = answer_stream(
                conversation_id=self.conversation_id,
                text=text,
                channel=Conversation.Channel.WIDGET,
                origin=self.origin,
                user_agent=self.user_agent,
                client=self.client,
                admitted=True,
                ui_language=self.language,
            )
            frames = answer_relayed(conversation_id=self.conversation_id, text=text, frames=stream)
            try:
                # aclosing: a disconnect mid-answer closes the pipeline at once, which saves the partial answer.
                async with aclosing(frames):
                    async for frame in frames:
                        await self.send_frame(frame)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("answering failed in conversation %s", self.conversation_id)
                await self.send_frame(
                    error_frame("server_error", gettext_in(self.language, "Something went wrong; please try again."))
                )

    async def _lead(self, frame: LeadIn) -> None:
        retry_after = await alimits_hit(
            client=self.client, checks=[(LEADS_PER_IP, None), (LEADS_PER_CONVERSATION, self.conversation_id)]
        )
        if retry_after is not None:
            await self.send_frame(_rate_limited(retry_after, self.language))
            return
        # The consent wording stored is the one this visitor's widget showed.
        bot = (await abot_settings_get()).in_language(self.language)
        try:
            status = await _submit_lead(
                conversation_id=self.conversation_id,
                frame=frame,
                consent_text=bot.consent_text,
                origin=self.origin,
                user_agent=self.user_agent,
            )
        except ValidationError as exc:
            fields = {name: " ".join(messages) for name, messages in getattr(exc, "message_dict", {}).items()}
            await self.send_frame(error_frame("bad_request", _validation_message(exc), fields=fields))
            return
        await self.send_frame({"type": "lead", "status": status})

    async def _feedback(self, frame: FeedbackIn) -> None:
        retry_after = await alimits_hit(
            client=self.client, checks=[(FEEDBACK_PER_IP, None), (FEEDBACK_PER_CONVERSATION, self.conversation_id)]
        )
        if retry_after is not None:
            await self.send_frame(_rate_limited(retry_after, self.language))
            return
        try:
            await _set_feedback(conversation_id=self.conversation_id, frame=frame)
        except Message.DoesNotExist:
            await self.send_frame(
                error_frame(
                    "not_found", gettext_in(self.language, "No answer with this message_id in this conversation.")
                )
            )
            return
        await self.send_frame({"type": "feedback_ok", "message_id": frame.message_id})
