"""Telling staff, by email and webhook, that a visitor waits for a person (live handoff, chatbot.handoff)."""

from __future__ import annotations

import logging

from django.conf import settings

from conversations.models import Conversation, Message
from leads.models import LeadNotification
from leads.notify import NotificationError, notification_targets, waiting_visitor_send

logger = logging.getLogger(__name__)


def handoff_waiting_notify(*, conversation_id: str) -> str:
    """The task body: one message per configured channel, with the visitor's request."""
    conversation = Conversation.objects.filter(pk=conversation_id, handoff_requested_at__isnull=False).first()
    if conversation is None or conversation.handoff_requested_at is None or conversation.assigned_to_id:
        return "nothing to do"  # taken already, or erased
    text = (
        Message.objects.filter(conversation=conversation, role=Message.Role.VISITOR)
        .order_by("-created_at", "-id")
        .values_list("text", flat=True)
        .first()
    ) or ""
    targets = notification_targets()
    channels = []
    if targets.emails:
        channels.append(LeadNotification.Channel.EMAIL)
    if targets.webhook_url and settings.LEADS_WEBHOOK_SECRET:
        channels.append(LeadNotification.Channel.WEBHOOK)
    outcome = "sent"
    requested = int(conversation.handoff_requested_at.timestamp())
    for channel in channels:
        try:
            waiting_visitor_send(
                channel=channel,
                conversation_id=conversation.pk,
                text=text,
                delivery_id=f"waiting-{conversation.pk[:12]}-{requested}-{channel}",
            )
        except NotificationError as error:
            logger.warning("waiting-visitor notification by %s failed: %s", channel, error)
            outcome = "failed"
    return outcome if channels else "no channel"
