"""
Writes of the live handoff, and what each staff action tells whom.

A staff message is stored before any frame about it is sent: a visitor who
is away finds it in the history on return. Taking a conversation is one
conditional UPDATE (free, or already mine), so two staff members cannot both
hold it; the second is told who has it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from channels.db import database_sync_to_async
from django.db import transaction
from django.utils import timezone

from chatbot.handoff.groups import INBOX_GROUP, agroup_send, agroups_send, visitor_group
from chatbot.handoff.selectors import conversation_holder, staff_display_name, staff_inbox
from conversations.models import Conversation, Message


class HandoffRefused(Exception):
    """A staff action that cannot be done: `code` for the error frame, and a message."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def _not_found() -> HandoffRefused:
    return HandoffRefused("not_found", "No conversation with this id.")


def _not_holding(conversation_id: str) -> HandoffRefused:
    holder = conversation_holder(conversation_id=conversation_id)
    if holder is None:
        return HandoffRefused("not_held", "Take the conversation over first.")
    return HandoffRefused("conflict", f"{holder[1]} is handling this conversation.", held_by=holder[1])


@dataclass(frozen=True)
class Taken:
    name: str  # the staff member's display name, as the visitor sees it
    already: bool  # they held it already (a reload): nobody is told again


def conversation_take(*, conversation_id: str, user) -> Taken:
    """The conversation is `user`'s until released; refused (conflict, with who) when someone else holds it."""
    name = staff_display_name(user)
    if Conversation.objects.filter(pk=conversation_id, assigned_to=user).exists():
        return Taken(name=name, already=True)
    now = timezone.now()
    with transaction.atomic():
        taken = Conversation.objects.filter(pk=conversation_id, assigned_to__isnull=True).update(
            assigned_to=user, assigned_at=now, handoff_requested_at=None
        )
        if not taken:
            if not Conversation.objects.filter(pk=conversation_id).exists():
                raise _not_found()
            raise _not_holding(conversation_id)
        # The first take-over is kept for insights ("handed to a person").
        Conversation.objects.filter(pk=conversation_id, handed_over_at__isnull=True).update(handed_over_at=now)
    return Taken(name=name, already=False)


def conversation_release(*, conversation_id: str, user) -> str:
    """Hands the conversation back to the bot; only its holder can."""
    released = Conversation.objects.filter(pk=conversation_id, assigned_to=user).update(
        assigned_to=None, assigned_at=None
    )
    if not released:
        if not Conversation.objects.filter(pk=conversation_id).exists():
            raise _not_found()
        raise _not_holding(conversation_id)
    return staff_display_name(user)


def agent_message_create(*, conversation_id: str, user, text: str) -> Message:
    """A staff member's message, stored with its author; only the holder may write."""
    with transaction.atomic():
        if not Conversation.objects.filter(pk=conversation_id, assigned_to=user).exists():
            if not Conversation.objects.filter(pk=conversation_id).exists():
                raise _not_found()
            raise _not_holding(conversation_id)
        message = Message.objects.create(
            conversation_id=conversation_id, role=Message.Role.AGENT, text=text, author=user
        )
        Conversation.objects.filter(pk=conversation_id).update(last_message_at=message.created_at)
    return message


def agent_typing_check(*, conversation_id: str, user) -> str:
    if not Conversation.objects.filter(pk=conversation_id, assigned_to=user).exists():
        raise (
            _not_holding(conversation_id) if Conversation.objects.filter(pk=conversation_id).exists() else _not_found()
        )
    return staff_display_name(user)


# --- Staff actions, with the frames they send ------------------------------------------------


async def ainbox_update(conversation_id: str, **extra: object) -> None:
    """The conversation's inbox row, as it now is, to every staff socket (each works out `held_by_me`)."""
    rows = await database_sync_to_async(staff_inbox)(user_id=None, conversation_id=conversation_id)
    if rows:
        await agroups_send([INBOX_GROUP], {"type": "conversation_update", "conversation": rows[0], **extra})


async def astaff_take(*, conversation_id: str, user) -> Taken:
    taken = await database_sync_to_async(conversation_take)(conversation_id=conversation_id, user=user)
    if not taken.already:
        await agroups_send([visitor_group(conversation_id)], {"type": "agent_joined", "name": taken.name})
        await ainbox_update(conversation_id, held_by_id=user.pk)
    return taken


async def astaff_release(*, conversation_id: str, user) -> None:
    name = await database_sync_to_async(conversation_release)(conversation_id=conversation_id, user=user)
    await agroups_send([visitor_group(conversation_id)], {"type": "agent_left", "name": name})
    await ainbox_update(conversation_id)


async def astaff_message(*, conversation_id: str, user, text: str) -> Message:
    message = await database_sync_to_async(agent_message_create)(conversation_id=conversation_id, user=user, text=text)
    name = staff_display_name(user)
    to_visitor = {"type": "agent_message", "id": message.public_id, "text": text, "name": name}
    await asyncio.gather(
        agroup_send(visitor_group(conversation_id), to_visitor),
        agroup_send(
            INBOX_GROUP,
            {
                "type": "agent_message",
                "conversation": conversation_id,
                "id": message.public_id,
                "text": text,
                "name": name,
                "created_at": message.created_at.isoformat(),
            },
        ),
    )
    return message


async def astaff_typing(*, conversation_id: str, user) -> None:
    name = await database_sync_to_async(agent_typing_check)(conversation_id=conversation_id, user=user)
    await agroups_send([visitor_group(conversation_id)], {"type": "agent_typing", "name": name})
