"""Rows of visitor traffic on a chosen day, as the pipeline stores them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.tests.factories import ConversationFactory, MessageFactory
from leads.models import Lead


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


def conversation_on(day: dt.date, *, channel: str = Conversation.Channel.WIDGET, handed: bool = False) -> Conversation:
    conversation = ConversationFactory(channel=channel)
    Conversation.objects.filter(pk=conversation.pk).update(
        created_at=at(day), handed_over_at=at(day, 13) if handed else None
    )
    conversation.refresh_from_db()
    return conversation


def exchange_on(
    day: dt.date,
    *,
    question: str = "Do you ship to Canada?",
    answered: bool | None = True,
    conversation: Conversation | None = None,
    feedback: int | None = None,
    first_token_ms: int | None = 400,
    tokens: tuple[int, int] | None = (800, 100),
    sources: list[dict] | None = None,
) -> tuple[Message, Message]:
    conversation = conversation or conversation_on(day)
    asked = MessageFactory(conversation=conversation, text=question, answered=answered)
    answer = MessageFactory(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        text="An answer [1].",
        reply_to=asked,
        answered=answered,
        feedback=feedback,
        time_to_first_token_ms=first_token_ms,
        prompt_tokens=tokens[0] if tokens else None,
        completion_tokens=tokens[1] if tokens else None,
        sources=sources or [],
    )
    Message.objects.filter(pk__in=[asked.pk, answer.pk]).update(created_at=at(day))
    return asked, answer


def staff_reply_on(day: dt.date, *, conversation: Conversation) -> Message:
    reply = MessageFactory(conversation=conversation, role=Message.Role.AGENT, text="A colleague here.")
    Message.objects.filter(pk=reply.pk).update(created_at=at(day, 14))
    return reply


def lead_on(day: dt.date, *, status: str = Lead.Status.NEW, email: str = "") -> Lead:
    lead = Lead.objects.create(name="Ana", email=email or f"ana{Lead.objects.count()}@example.com", status=status)
    Lead.objects.filter(pk=lead.pk).update(created_at=at(day))
    return lead
