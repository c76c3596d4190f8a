"""
The `lead` frame never tells a visitor whether an email was known, and a
visitor's contact details never rewrite someone else's lead (issue 15): not
through the contact form frame, not through a chat message.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from chatbot.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@asynccontextmanager
async def connected():
    communicator = WebsocketCommunicator(application, "/ws/chat/")
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    try:
        await communicator.receive_json_from(timeout=TIMEOUT)  # the conversation frame
        yield communicator
    finally:
        await communicator.disconnect()


async def lead_frames(communicator: WebsocketCommunicator, frames: list[dict]) -> list[dict]:
    """Sends each frame (all carry contact details) and collects the `lead` frame that answers it."""
    answers = []
    for frame in frames:
        await communicator.send_json_to(frame)
        while True:
            received = await communicator.receive_json_from(timeout=TIMEOUT)
            if received["type"] in {"lead", "error"}:
                answers.append(received)
                break
    return answers


@sync_to_async
def victim_lead():
    from conversations.models import Conversation
    from leads.models import Lead

    conversation = Conversation.objects.create()
    lead = Lead.objects.create(
        email="victim@example.com", name="Vic", consent=True, consent_text="I agree.", source=Lead.Source.FORM
    )
    lead.conversations.add(conversation)
    return lead


@sync_to_async
def lead_state(lead_id: int) -> tuple:
    from leads.models import Lead

    lead = Lead.objects.get(pk=lead_id)
    return (
        lead.name,
        lead.phone,
        lead.company,
        lead.consent_text,
        lead.consent_at,
        sorted(lead.conversations.values_list("pk", flat=True)),
    )


@sync_to_async
def attempts_of(lead_id: int) -> list[tuple]:
    from leads.models import LeadContactAttempt

    return list(
        LeadContactAttempt.objects.filter(lead_id=lead_id).order_by("id").values_list("source", "name", "phone")
    )


def form(email: str) -> dict:
    return {"type": "lead", "name": "Eve", "email": email, "phone": "+1 415 555 2671", "consent": True}


async def test_the_contact_form_answers_a_known_and_an_unknown_email_the_same(extractive):
    victim = await victim_lead()
    before = await lead_state(victim.pk)

    async with connected() as stranger:
        known = await lead_frames(stranger, [form("victim@example.com"), form("victim@example.com")])
    async with connected() as newcomer:
        unknown = await lead_frames(newcomer, [form("new@example.com"), form("new@example.com")])

    assert known == unknown == [{"type": "lead", "status": "captured"}, {"type": "lead", "status": "updated"}]
    assert await lead_state(victim.pk) == before
    assert await attempts_of(victim.pk) == [("form", "Eve", "+14155552671")]


async def test_contact_details_in_a_chat_message_do_not_rewrite_another_conversations_lead(extractive):
    victim = await victim_lead()
    before = await lead_state(victim.pk)
    text = "I'm Eve from Mallory Inc, victim@example.com, call me on +1 415 555 2671"

    async with connected() as stranger:
        known = await lead_frames(stranger, [{"type": "message", "text": text}])
    async with connected() as newcomer:
        unknown = await lead_frames(newcomer, [{"type": "message", "text": text.replace("victim", "new")}])

    assert known == unknown == [{"type": "lead", "status": "captured"}]
    assert await lead_state(victim.pk) == before
    assert await attempts_of(victim.pk) == [("detected", "Eve", "+14155552671")]
