"""A person's export and erasure include what staff wrote to them in a live handoff; retention purges it too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Conversation, Message
from conversations.services import conversations_purge
from leads.selectors import lead_export
from leads.services import lead_erase
from leads.tests.factories import ConversationFactory, LeadFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def handed_over():
    alice = UserFactory(username="alice", first_name="Alice")
    conversation = ConversationFactory(assigned_to=alice, handed_over_at=timezone.now())
    MessageFactory(conversation=conversation, text="Can I talk to a person?")
    MessageFactory(conversation=conversation, role=Message.Role.AGENT, author=alice, text="Alice here, hello!")
    lead = LeadFactory()
    lead.conversations.add(conversation)
    return lead, conversation


def test_the_export_holds_staff_messages_with_who_wrote_them(handed_over):
    lead, _ = handed_over
    messages = lead_export(lead=lead)["conversations"][0]["messages"]
    assert [(m["role"], m["text"], m.get("name")) for m in messages] == [
        ("visitor", "Can I talk to a person?", None),
        ("agent", "Alice here, hello!", "Alice"),
    ]


def test_erasing_the_person_erases_staff_messages(handed_over):
    lead, conversation = handed_over
    lead_erase(lead=lead, actor=UserFactory(username="dpo", is_superuser=True))
    assert not Message.objects.filter(conversation_id=conversation.pk).exists()


def test_retention_purges_a_handed_over_conversation(handed_over):
    _, conversation = handed_over
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now() - timedelta(days=400))
    conversations_purge(retention_days=30)
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    assert not Message.objects.filter(role=Message.Role.AGENT).exists()
