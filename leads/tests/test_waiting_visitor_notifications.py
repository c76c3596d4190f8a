"""Staff are told by email and a signed webhook that a visitor waits for a person (live handoff)."""

import hashlib
import hmac
import json

import pytest
from django.core import mail
from django.utils import timezone

from leads.services import handoff_waiting_notify
from leads.tests.factories import ConversationFactory, MessageFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-crm"


@pytest.fixture
def waiting():
    conversation = ConversationFactory(handoff_requested_at=timezone.now())
    MessageFactory(conversation=conversation, text="Can I talk to a person about a fleet order?")
    return conversation


@pytest.fixture
def both_channels(settings, webhook_receiver):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LEADS_NOTIFY_EMAILS = ["sales@tidewater.test"]
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on loopback
    settings.LEADS_WEBHOOK_URL = webhook_receiver.url
    settings.LEADS_WEBHOOK_SECRET = SECRET
    settings.LEADS_WEBHOOK_TIMEOUT = 2
    return webhook_receiver


def test_a_waiting_visitor_is_emailed_and_posted_to_the_webhook(both_channels, waiting):
    assert handoff_waiting_notify(conversation_id=waiting.pk) == "sent"

    [email] = mail.outbox
    assert email.subject == "A visitor is waiting for a person"
    assert "fleet order" in email.body and f"staffinbox/#{waiting.pk}" in email.body
    [delivery] = both_channels.received
    expected = "sha256=" + hmac.new(SECRET.encode(), delivery["body"], hashlib.sha256).hexdigest()
    assert delivery["headers"]["X-Signature"] == expected
    payload = json.loads(delivery["body"])
    assert payload["event"] == "conversation.waiting"
    assert payload["conversation"]["id"] == waiting.pk
    assert "fleet order" in payload["conversation"]["message"]


def test_a_conversation_taken_meanwhile_sends_nothing(both_channels, waiting):
    waiting.assigned_to = UserFactory(username="alice")
    waiting.save()
    assert handoff_waiting_notify(conversation_id=waiting.pk) == "nothing to do"
    assert mail.outbox == [] and both_channels.received == []


def test_a_webhook_failure_is_reported_and_not_raised(both_channels, waiting):
    both_channels.statuses = [500]
    assert handoff_waiting_notify(conversation_id=waiting.pk) == "failed"
    assert len(mail.outbox) == 1
