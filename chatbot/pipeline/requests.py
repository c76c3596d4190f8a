"""
Requests and the replies with no answer in them: asking for a person, for a
quote or a call back, contact details left, a question the knowledge base does
not cover.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext_noop

from chatbot.contact_channels import CHANNELS_LEAD_IN, contact_channels_find
from chatbot.pipeline.draft import Canned, Outcome, Reply
from chatbot.pipeline.lead import LeadStep
from chatbot.selectors import BotConfig
from core.language import gettext_in
from knowledge.types import SearchResult
from leads.selectors import RequestKind

# Said to a visitor who asks for a quote, a demo or a call back, before the bot's contact prompt or thanks.
REQUEST_ACK = gettext_noop("Our team can help with that.")


def request_ack(*, bot: BotConfig, lead: LeadStep, language: str) -> str:
    """The acknowledgement of a request, then thanks for the contact details it came with, else the contact offer."""
    closing = bot.lead_thanks_message if lead.status else bot.contact_prompt
    return f"{gettext_in(language, REQUEST_ACK)} {closing}"


def unanswered_reply(
    *, bot: BotConfig, text: str, lead: LeadStep, request: RequestKind | None, language: str
) -> Canned:
    """
    The reply when the knowledge base does not cover the message: the fallback,
    which offers to take contact details. A message that only leaves contact
    details is thanked, and is not a question; nor is a request for a quote, a
    demo or a call back, which is acknowledged (and was thanked already when it
    came with contact details).
    """
    if request is not None:
        text_said = "" if lead.status else request_ack(bot=bot, lead=lead, language=language)
        outcome = Outcome.REQUEST
    elif lead.status:
        text_said = bot.lead_thanks_message
        outcome = Outcome.REFUSED if "?" in text else Outcome.CONTACT
    else:
        text_said, outcome = bot.fallback_message, Outcome.REFUSED
    return Canned(text_said, Reply(outcome=outcome, offer_contact=lead.status is None))


def person_reply(*, bot: BotConfig, results: Sequence[SearchResult], lead: LeadStep, language: str) -> Canned:
    """
    A visitor asks to talk to a person: the contact channels the knowledge
    base lists (phone, email, opening hours; cited), then the offer to be
    contacted, or the thanks when the message already left contact details.
    With a staff member available the request never gets here: the live
    handoff (chatbot.handoff.visitor) takes it before the pipeline.
    """
    channels = contact_channels_find(results)
    closing = bot.lead_thanks_message if lead.status else bot.contact_prompt
    text = closing
    if channels.text:
        text = f"{gettext_in(language, CHANNELS_LEAD_IN)}\n\n{channels.text}\n\n{closing}"
    outcome = Outcome.ANSWERED if channels.text else Outcome.REQUEST
    return Canned(text, Reply(outcome=outcome, passages=tuple(channels.passages), offer_contact=lead.status is None))
