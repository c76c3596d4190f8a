"""
A visitor message, before the answer pipeline: does the bot answer it?

Both doors (the WebSocket consumer and the REST/SSE view) call
`visitor_message_route` first; it returns None when the bot answers (the
pipeline runs as ever), else what to send the visitor instead:

- the conversation is held by a staff member: the message is stored (and its
  contact details become a lead, as always), relayed to staff, and the visitor
  gets `received`, no answer;
- the visitor asks for a person and one is available (someone with the
  permission online, within office hours): the message is stored, the
  conversation marked waiting, staff told (inbox, browser notification,
  email/webhook), and the visitor told someone will join, as an answer's frames.

Otherwise (nobody online, or outside office hours) the pipeline answers a
request for a person with the contact channels and the contact offer, as before.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from chatbot.handoff.groups import INBOX_GROUP, agroup_send
from chatbot.handoff.selectors import conversation_holder, staff_available, staff_inbox
from conversations.models import Conversation, new_message_id
from conversations.services import RecordedQuestion, conversation_question_record, message_answer_record
from core.language import gettext_in, language_default, language_supported
from leads.selectors import visitor_request

logger = logging.getLogger(__name__)

WAITING_REPLY = gettext_noop("A member of our team will join you here in a moment.")


@dataclass
class HandoffRoute:
    kind: Literal["held", "waiting"]
    message_id: str  # held: the visitor's message; waiting: the reply
    frames: list[dict] = field(default_factory=list)
    text: str = ""  # waiting: the reply
    lead: str | None = None


def _lead_status(recorded: RecordedQuestion, text: str) -> str | None:
    from leads.services import lead_capture_from_message

    try:
        result = lead_capture_from_message(conversation=recorded.conversation, text=text)
    except Exception:
        logger.exception("lead capture failed during a handoff")
        return None
    return result.status if result else None


def _route_decide(*, conversation_id: str, person: bool) -> Literal["held", "waiting"] | None:
    if conversation_holder(conversation_id=conversation_id) is not None:
        return "held"
    if person and staff_available():
        return "waiting"
    return None


def _store(
    *, kind: str, conversation_id: str, text: str, language: str, channel: str, origin: str, user_agent: str
) -> HandoffRoute:
    recorded = conversation_question_record(
        conversation_id=conversation_id, text=text, channel=channel, origin=origin, user_agent=user_agent
    )
    lead = _lead_status(recorded, text)
    if kind == "held":
        return HandoffRoute(kind="held", message_id=recorded.message.public_id, lead=lead)
    language = recorded.language or language_supported(language) or language_default()
    reply = gettext_in(language, WAITING_REPLY)
    with transaction.atomic():
        answer = message_answer_record(
            conversation_id=conversation_id,
            question=recorded.message,
            public_id=new_message_id(),
            text=reply,
            answered=None,
            provider="handoff",
        )
        Conversation.objects.filter(pk=conversation_id, handoff_requested_at__isnull=True).update(
            handoff_requested_at=timezone.now()
        )
        transaction.on_commit(lambda: _notify_enqueue(conversation_id))
    return HandoffRoute(kind="waiting", message_id=answer.public_id, text=reply, lead=lead)


def _notify_enqueue(conversation_id: str) -> None:
    from leads.tasks import handoff_waiting_notify

    try:
        handoff_waiting_notify.enqueue(conversation_id)
    except Exception:
        logger.exception("could not enqueue the waiting-visitor notification")


async def visitor_message_route(
    *,
    conversation_id: str,
    text: str,
    channel: str = Conversation.Channel.WIDGET,
    origin: str = "",
    user_agent: str = "",
    ui_language: str = "",
) -> HandoffRoute | None:
    """None: the bot answers. Else the message is handled here (see the module docstring)."""
    text = (text or "").strip()
    kind = await database_sync_to_async(_route_decide)(
        conversation_id=conversation_id, person=visitor_request(text) == "person"
    )
    if kind is None:
        return None
    route = await database_sync_to_async(_store)(
        kind=kind,
        conversation_id=conversation_id,
        text=text,
        language=ui_language,
        channel=channel,
        origin=origin,
        user_agent=user_agent,
    )
    if kind == "held":
        route.frames = [{"type": "received", "message_id": route.message_id}]
        staff_frame = {"type": "visitor_message", "conversation": conversation_id, "id": route.message_id}
        await agroup_send(INBOX_GROUP, {**staff_frame, "text": text, "created_at": timezone.now().isoformat()})
    else:
        route.frames = [
            {"type": "start", "message_id": route.message_id},
            {"type": "token", "text": route.text},
            {"type": "sources", "items": []},
            {"type": "done", "message_id": route.message_id, "answered": True, "offer_contact": False},
        ]
        rows = await database_sync_to_async(staff_inbox)(user_id=None, conversation_id=conversation_id)
        await agroup_send(
            INBOX_GROUP, {"type": "waiting", "conversation": rows[0] if rows else {"id": conversation_id}, "text": text}
        )
    if route.lead:
        route.frames.append({"type": "lead", "status": route.lead})
    return route
