"""
Requests understood as requests, through the real pipeline on the sample
knowledge base: asking for a person gets the business's contact channels and
the offer to be contacted; asking for a quote, a demo or a call back is
acknowledged, contact details are taken or asked for, and the request is the
lead's interest.
"""

from __future__ import annotations

import pytest

from chatbot.contact_channels import CHANNELS_LEAD_IN
from chatbot.models import BotSettings
from chatbot.pipeline import REQUEST_ACK, answer_stream
from chatbot.tests.support import module_transactional_db
from conversations.models import Message, new_conversation_id
from core.language import gettext_in
from leads.models import Lead

transactional_db = pytest.fixture(scope="module")(module_transactional_db)

QUOTE = "I'd like a quote for 10 bikes for my delivery company, my email is {email}"


async def frames_for(text: str, conversation_id: str | None = None) -> list[dict]:
    return [frame async for frame in answer_stream(conversation_id=conversation_id or new_conversation_id(), text=text)]


def text_of(frames: list[dict]) -> str:
    return "".join(frame["text"] for frame in frames if frame["type"] == "token")


def kinds(frames: list[dict]) -> list[str]:
    return [
        kind
        for i, kind in enumerate(f["type"] for f in frames)
        if not (kind == "token" and frames[i - 1]["type"] == "token")
    ]


async def test_asking_for_a_real_person_gets_the_phone_email_and_hours_and_the_offer(kb_db):
    frames = await frames_for("Can I talk to a real person?")

    bot = await BotSettings.objects.aget()
    text = text_of(frames)
    assert "+1 503-555-0142" in text and "Monday to Friday, 8 am to 5 pm Pacific time" in text
    assert "support@tidewaterbikes.example" in text
    assert text.endswith(bot.contact_prompt)
    assert bot.fallback_message not in text
    sources = frames[-2]["items"]
    assert [source["title"] for source in sources] == ["About Tidewater Bikes > Customer support"]
    assert frames[-1]["answered"] is True and frames[-1]["offer_contact"] is True


async def test_a_quote_request_with_an_email_is_acknowledged_and_recorded_as_the_lead_interest(kb_db):
    conversation_id = new_conversation_id()
    await frames_for("Do you ship to Canada?", conversation_id)
    email = "ops@quickdrop.example"

    frames = await frames_for(QUOTE.format(email=email), conversation_id)

    bot = await BotSettings.objects.aget()
    text = text_of(frames)
    assert kinds(frames) == ["start", "token", "sources", "done", "lead"]
    assert text.startswith(f"{REQUEST_ACK} {bot.lead_thanks_message}")
    assert "Freight" not in text and "$149" not in text
    assert "fleet" in text.lower()
    assert frames[-2]["offer_contact"] is False
    lead = await Lead.objects.aget(email=email)
    assert lead.interest == "I'd like a quote for 10 bikes for my delivery company"
    question = await Message.objects.filter(conversation_id=conversation_id, role="visitor").order_by("-id").afirst()
    assert question.answered is not False, "a request is not a gap in the knowledge base"


async def test_a_quote_request_without_details_is_answered_then_acknowledged_with_the_contact_offer(kb_db):
    frames = await frames_for("Can I get a quote for 12 cargo bikes?")

    bot = await BotSettings.objects.aget()
    assert text_of(frames).endswith(f"{REQUEST_ACK} {bot.contact_prompt}")
    assert frames[-1]["offer_contact"] is True
    assert [frame["type"] for frame in frames[-2:]] == ["sources", "done"]


async def test_a_call_back_request_the_knowledge_base_does_not_cover_is_not_refused(kb_db):
    conversation_id = new_conversation_id()
    frames = await frames_for("Could you call me back tomorrow morning?", conversation_id)

    bot = await BotSettings.objects.aget()
    assert text_of(frames) == f"{REQUEST_ACK} {bot.contact_prompt}"
    assert frames[-1]["answered"] is True and frames[-1]["offer_contact"] is True
    question = await Message.objects.filter(conversation_id=conversation_id, role="visitor").afirst()
    assert question.answered is None


async def test_asking_for_a_person_with_a_phone_number_thanks_instead_of_offering(kb_db):
    frames = await frames_for("I want to talk to a human, call me on +1 415 555 2671")

    bot = await BotSettings.objects.aget()
    assert text_of(frames).endswith(bot.lead_thanks_message)
    assert "+1 503-555-0142" in text_of(frames)
    assert frames[-2]["offer_contact"] is False
    assert frames[-1] == {"type": "lead", "status": "captured"}


async def test_a_person_request_in_french_gets_the_channels_under_a_french_lead_in(kb_db):
    frames = await frames_for("Bonjour, je voudrais parler à un conseiller s'il vous plaît")

    text = text_of(frames)
    assert text.startswith(gettext_in("fr", CHANNELS_LEAD_IN) + "\n\n")
    assert "+1 503-555-0142" in text
    assert frames[-1]["offer_contact"] is True
