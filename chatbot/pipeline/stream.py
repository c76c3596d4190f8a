"""The answer pipeline as the list of its steps: the frames of one answer, in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing

from django.utils.translation import gettext_noop

from chatbot.frames import ServerFrame, error_frame
from chatbot.llm import LLMStreamBroken
from chatbot.pipeline.admit import answer_refusal
from chatbot.pipeline.cite import cited_sources
from chatbot.pipeline.draft import Draft, Outcome, Reply
from chatbot.pipeline.intake import intake_run
from chatbot.pipeline.intent import intent_read
from chatbot.pipeline.lead import lead_outcome, lead_start
from chatbot.pipeline.replies import reply_stream
from chatbot.pipeline.retrieve import answer_confidence
from chatbot.pipeline.save import answer_save
from conversations.models import Conversation, new_message_id
from core.language import gettext_in
from core.limits import RateRequest
from core.structured_logging import bind_conversation

NOT_SAVED = gettext_noop("Your message could not be saved; please try again in a moment.")
INTERRUPTED = gettext_noop("The answer was interrupted; please ask again in a moment.")


async def answer_stream(
    *,
    conversation_id: str,
    text: str,
    channel: str = Conversation.Channel.WIDGET,
    origin: str = "",
    user_agent: str = "",
    client: RateRequest | None = None,
    admitted: bool = False,
    ui_language: str = "",
) -> AsyncGenerator[ServerFrame, None]:
    """
    The frames of one answer: `start`, `token`s, `sources`, `done`, then `lead` when the message
    carried contact details. A refused message gets one `error` frame (`answer_refusal`, skipped when
    the door has `admitted` it); a model failing after its first token, `error` (llm_unavailable)
    after the tokens, the partial answer saved. Fixed texts are in the visitor's language (intake).
    """
    received = time.perf_counter()
    bind_conversation(conversation_id)
    if not admitted and (
        refusal := await answer_refusal(conversation_id=conversation_id, text=text, client=client, language=ui_language)
    ):
        yield refusal
        return
    intent = intent_read((text or "").strip())
    draft = Draft(message_id=new_message_id(), received=received)
    yield {"type": "start", "message_id": draft.message_id}
    intake = await intake_run(
        conversation_id=conversation_id,
        intent=intent,
        channel=channel,
        origin=origin,
        user_agent=user_agent,
        ui_language=ui_language,
    )
    if intake is None:
        yield error_frame("server_error", gettext_in(ui_language, NOT_SAVED), message_id=draft.message_id)
        return
    lead_task = lead_start(conversation=intake.recorded.conversation, text=intent.text)
    confidence: float | None = None
    reply = Reply(Outcome.ERROR)
    try:
        results = await intake.results()
        confidence = answer_confidence(results) if intent.is_question else None
        replying = reply_stream(intent=intent, intake=intake, results=results, lead_task=lead_task, client=client)
        async with aclosing(replying) as events:
            async for event in events:
                if isinstance(event, Reply):
                    reply = event
                elif (frame := draft.take(event)) is not None:
                    yield frame
        lead = await lead_outcome(lead_task)
    except LLMStreamBroken as exc:
        # A broken answer says nothing about the knowledge base: the question is not an unanswered one.
        error = f"llm_unavailable: {exc.detail}"
        await answer_save(
            draft=draft, recorded=intake.recorded, outcome=Outcome.ERROR, confidence=confidence, error=error
        )
        yield error_frame("llm_unavailable", gettext_in(intake.language, INTERRUPTED), message_id=draft.message_id)
        return
    except (asyncio.CancelledError, GeneratorExit):
        # The visitor left mid-answer: keep what was said.
        error = draft.error or "interrupted: the visitor disconnected"
        saving = answer_save(
            draft=draft, recorded=intake.recorded, outcome=Outcome.ERROR, confidence=confidence, error=error
        )
        await asyncio.shield(saving)
        raise
    sources = cited_sources(draft.text, reply.passages) if reply.outcome is Outcome.ANSWERED else []
    # Stored before anything else is sent: a visitor who leaves now loses nothing.
    await answer_save(
        draft=draft, recorded=intake.recorded, outcome=reply.outcome, confidence=confidence, sources=sources
    )
    yield {"type": "sources", "items": sources}
    # Only a question the knowledge base did not cover is "not answered" in the frame.
    answered = reply.outcome is not Outcome.REFUSED
    yield {"type": "done", "message_id": draft.message_id, "answered": answered, "offer_contact": reply.offer_contact}
    if lead.status:
        yield {"type": "lead", "status": lead.status}
