"""
Privacy: erasing a person, and deleting leads. Either way the lead's Google
Sheet row is removed through the outbox (`SheetRowDeletion`), so a Sheets
outage delays the removal but cannot lose it.

The export of everything held about a person is a read
(`leads.selectors.lead_export`); the retention purge of old conversations is
the conversations app's (`conversations.services.conversations_purge`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from leads.models import Lead
from leads.services.sync import sheet_row_deletion_queue

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeadErasure:
    lead_id: int
    conversations: int
    messages: int
    contact_attempts: int
    notifications: int
    sheet_row_deletion_id: int

    def describe(self) -> str:
        return (
            f"Erased lead {self.lead_id} with {self.conversations} conversation(s), {self.messages} "
            f"message(s), {self.contact_attempts} contact attempt(s) and {self.notifications} "
            f"notification(s); its Google Sheet row is queued for removal "
            f"(deletion #{self.sheet_row_deletion_id})."
        )


def lead_erase(*, lead: Lead, actor: AbstractBaseUser) -> LeadErasure:
    """
    Erases a person: the lead, its conversations with their messages, its
    notifications and contact attempts, the conversations those attempts came
    from unless another lead holds them, and the person's name or email in
    earlier admin history. One transaction, audited in admin history as a
    deletion by `actor`.
    """
    from django.contrib.admin.models import DELETION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from conversations.models import Conversation, Message

    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        conversation_ids = _erased_conversation_ids(lead=locked)
        counts = {
            "conversations": len(conversation_ids),
            "messages": Message.objects.filter(conversation__in=conversation_ids).count(),
            "contact_attempts": locked.contact_attempts.count(),
            "notifications": locked.notifications.count(),
        }
        deletion = sheet_row_deletion_queue(lead=locked)
        content_type = ContentType.objects.get_for_model(Lead)
        erased_repr = f"Lead {locked.pk} (erased)"
        LogEntry.objects.filter(content_type=content_type, object_id=str(locked.pk)).update(object_repr=erased_repr)
        erasure = LeadErasure(lead_id=locked.pk, sheet_row_deletion_id=deletion.pk, **counts)
        LogEntry.objects.create(
            user_id=actor.pk,
            content_type=content_type,
            object_id=str(locked.pk),
            object_repr=erased_repr,
            action_flag=DELETION,
            change_message=erasure.describe(),
        )
        Conversation.objects.filter(pk__in=conversation_ids).delete()
        locked.delete()
    logger.info("lead %s erased by user %s", erasure.lead_id, actor.pk)
    return erasure


def _erased_conversation_ids(*, lead: Lead) -> set[str]:
    """The lead's own conversations, and those its contact attempts came from that no other lead holds."""
    own = set(lead.conversations.values_list("pk", flat=True))
    attempted_from = set(lead.contact_attempts.exclude(conversation=None).values_list("conversation", flat=True))
    held_elsewhere = set(
        Lead.conversations.through.objects.filter(conversation__in=attempted_from)
        .exclude(lead=lead)
        .values_list("conversation", flat=True)
    )
    return own | (attempted_from - held_elsewhere)


def leads_delete(*, leads: Iterable[Lead]) -> int:
    """
    Deletes leads (admin's plain delete) and queues the removal of their rows
    from the Google Sheet; their conversations stay (erasure removes those).
    """
    with transaction.atomic():
        locked = list(Lead.objects.select_for_update().filter(pk__in=[lead.pk for lead in leads]))
        for lead in locked:
            sheet_row_deletion_queue(lead=lead)
        Lead.objects.filter(pk__in=[lead.pk for lead in locked]).delete()
    return len(locked)
