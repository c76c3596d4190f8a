"""The answer service: retrieve, decide, prompt, stream, cite, store."""

from __future__ import annotations

from contextlib import aclosing

import pytest
from asgiref.sync import sync_to_async

from chatbot.models import BotSettings
from chatbot.pipeline import answer_stream
from conversations.models import Conversation, Message, new_conversation_id
from testsupport.fake_openai import Reply

pytestmark = pytest.mark.django_db(transaction=True)

IN_SCOPE = "How long do I have to return a bike?"
OUT_OF_SCOPE = "What is the capital of France?"


async def frames_for(text: str, conversation_id: str | None = None) -> list[dict]:
    return [frame async for frame in answer_stream(conversation_id=conversation_id or new_conversation_id(), text=text)]


def kinds(frames: list[dict]) -> list[str]:
    collapsed: list[str] = []
    for frame in frames:
        if not (collapsed and collapsed[-1] == frame["type"] == "token"):
            collapsed.append(frame["type"])
    return collapsed


def text_of(frames: list[dict]) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "token")


def messages_of(conversation_id: str) -> list[Message]:
    return list(Message.objects.filter(conversation_id=conversation_id).order_by("created_at", "id"))


async def test_it_answers_from_the_knowledge_base_with_cited_sources(tidewater_kb, extractive):
    conversation_id = new_conversation_id()
    frames = await frames_for(IN_SCOPE, conversation_id)

    assert kinds(frames) == ["start", "token", "sources", "done"]
    assert "within 30 days of delivery" in text_of(frames)
    sources = frames[-2]["items"]
    assert [s["n"] for s in sources] == [1]
    assert sources[0]["title"] == IN_SCOPE
    assert sources[0]["url"].startswith("/kb/faqs/")
    assert "30 days" in sources[0]["snippet"]
    done = frames[-1]
    assert done == {"type": "done", "message_id": frames[0]["message_id"], "answered": True, "offer_contact": False}

    question, answer = await sync_to_async(messages_of)(conversation_id)
    assert (question.role, question.text, question.answered) == ("visitor", IN_SCOPE, True)
    assert answer.public_id == done["message_id"]
    assert answer.text == text_of(frames)
    assert answer.sources == sources
    assert answer.reply_to_id == question.pk
    assert answer.provider == "extractive"
    assert answer.confidence > 0.5
    assert answer.time_to_first_token_ms is not None and answer.duration_ms >= answer.time_to_first_token_ms


async def test_below_the_threshold_no_model_is_called_and_the_question_is_marked_unanswered(tidewater_kb, openai_llm):
    conversation_id = new_conversation_id()
    frames = await frames_for(OUT_OF_SCOPE, conversation_id)

    bot = await BotSettings.objects.aget()
    assert text_of(frames) == bot.fallback_message
    assert frames[-2] == {"type": "sources", "items": []}
    assert frames[-1]["answered"] is False
    assert frames[-1]["offer_contact"] is True
    assert openai_llm.completion_requests() == []
    question, answer = await sync_to_async(messages_of)(conversation_id)
    assert question.answered is False and answer.answered is False
    assert answer.confidence < 0.3  # the best similarity, stored with the answer


async def test_the_threshold_and_the_fallback_message_are_bot_settings(tidewater_kb, extractive):
    await sync_to_async(BotSettings(confidence_threshold=0.99, fallback_message="Ask Ana, she knows.").save)()
    frames = await frames_for(IN_SCOPE)

    assert text_of(frames) == "Ask Ana, she knows."
    assert frames[-1]["answered"] is False


async def test_with_a_model_only_the_passages_it_cites_become_sources(tidewater_kb, openai_llm):
    openai_llm.script(Reply.stream("You can also check the warranty [2]. Returns are free [2]."))
    frames = await frames_for("Can I return my bike, and what about the warranty?")

    prompt = openai_llm.completion_requests()[0].body["messages"][-1]["content"]
    assert '<passage n="2"' in prompt
    assert [s["n"] for s in frames[-2]["items"]] == [2]
    assert frames[-1]["answered"] is True


async def test_a_model_reply_of_no_answer_becomes_the_fallback_and_an_unanswered_question(tidewater_kb, openai_llm):
    openai_llm.script(Reply.stream("NO_ANSWER"))
    conversation_id = new_conversation_id()
    frames = await frames_for("How long do I have to return a bike that I bought as a gift?", conversation_id)

    bot = await BotSettings.objects.aget()
    assert text_of(frames) == bot.fallback_message
    assert "NO_ANSWER" not in text_of(frames)
    assert frames[-1]["answered"] is False
    question, _ = await sync_to_async(messages_of)(conversation_id)
    assert question.answered is False


async def test_it_stores_provider_model_token_counts_and_time_to_first_token(tidewater_kb, openai_llm):
    openai_llm.script(Reply(kind="stream", text="Within 30 days [1].", usage=(812, 7)))
    conversation_id = new_conversation_id()
    await frames_for(IN_SCOPE, conversation_id)

    _, answer = await sync_to_async(messages_of)(conversation_id)
    assert (answer.provider, answer.model) == ("openai", "fake-gpt")
    assert (answer.prompt_tokens, answer.completion_tokens) == (812, 7)
    assert answer.time_to_first_token_ms is not None
    assert answer.sources[0]["n"] == 1


async def test_a_stream_cut_half_way_ends_with_llm_unavailable_and_keeps_the_partial_answer(tidewater_kb, openai_llm):
    openai_llm.script(Reply.cut("You can return it within thirty days [1] if", after_chunks=4))
    conversation_id = new_conversation_id()
    frames = await frames_for(IN_SCOPE, conversation_id)

    assert kinds(frames) == ["start", "token", "error"]
    error = frames[-1]
    assert error["code"] == "llm_unavailable"
    assert error["message_id"] == frames[0]["message_id"]
    question, answer = await sync_to_async(messages_of)(conversation_id)
    assert answer.text == text_of(frames) == "You can return it "
    assert answer.error.startswith("llm_unavailable")
    assert question.answered is None, "a broken answer is not a gap in the knowledge base"


async def test_when_the_model_cannot_start_the_knowledge_base_is_quoted_instead(tidewater_kb, openai_llm):
    openai_llm.script(Reply.error(500), Reply.error(502), Reply.error(503))
    conversation_id = new_conversation_id()
    frames = await frames_for(IN_SCOPE, conversation_id)

    assert text_of(frames).startswith("You can return any Tidewater bike within 30 days of delivery")
    assert frames[-1]["answered"] is True
    assert len(openai_llm.completion_requests()) == 3
    _, answer = await sync_to_async(messages_of)(conversation_id)
    assert answer.provider == "extractive"
    assert "llm_unavailable" in answer.error


async def test_the_prompt_carries_the_conversation_so_far(tidewater_kb, openai_llm):
    conversation_id = new_conversation_id()
    openai_llm.script(Reply.stream("Within 30 days [1]."), Reply.stream("Yes, free within the US [1]."))
    await frames_for(IN_SCOPE, conversation_id)
    await frames_for("Is return shipping free for a bike?", conversation_id)

    second = openai_llm.completion_requests()[1].body["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert IN_SCOPE in second[1]["content"]
    assert second[2]["content"] == "Within 30 days [1]."


@pytest.mark.parametrize("text", ["", "   \n "])
async def test_an_empty_message_is_a_bad_request(text, extractive):
    frames = await frames_for(text)

    assert frames == [{"type": "error", "code": "bad_request", "message": "The message is empty."}]


async def test_a_message_over_the_limit_is_refused_and_not_stored(settings, extractive):
    settings.CHAT_MAX_MESSAGE_CHARS = 50
    conversation_id = new_conversation_id()
    frames = await frames_for("x" * 51, conversation_id)

    assert [f["code"] for f in frames] == ["too_long"]
    assert frames[0]["max_chars"] == 50
    assert not await Conversation.objects.filter(pk=conversation_id).aexists()


async def test_a_conversation_over_its_message_rate_is_told_when_to_come_back(extractive):
    conversation_id = new_conversation_id()
    for _ in range(20):
        frames = await frames_for("hello", conversation_id)
        assert frames[-1]["type"] == "done"
    frames = await frames_for("hello", conversation_id)

    assert [f["code"] for f in frames] == ["rate_limited"]
    assert 1 <= frames[0]["retry_after"] <= 60
    assert await Message.objects.filter(conversation_id=conversation_id, role="visitor").acount() == 20


async def test_a_greeting_is_answered_with_the_bot_greeting_and_is_not_a_question(openai_llm):
    conversation_id = new_conversation_id()
    frames = await frames_for("Hi there!", conversation_id)

    bot = await BotSettings.objects.aget()
    assert text_of(frames) == bot.greeting
    assert frames[-1]["answered"] is True, "a greeting is not an unanswered question"
    assert frames[-1]["offer_contact"] is False
    assert openai_llm.requests == []
    question, _ = await sync_to_async(messages_of)(conversation_id)
    assert question.answered is None


async def test_contact_details_become_a_lead_and_are_thanked_for(tidewater_kb, extractive):
    from leads.models import Lead

    conversation_id = new_conversation_id()
    frames = await frames_for("I'm Ana from Brightside, mail me at ana@brightside.io", conversation_id)

    bot = await BotSettings.objects.aget()
    assert kinds(frames) == ["start", "token", "sources", "done", "lead"]
    assert frames[-1] == {"type": "lead", "status": "captured"}
    assert text_of(frames) == bot.lead_thanks_message
    assert frames[-2]["offer_contact"] is False
    assert frames[-2]["answered"] is True
    lead = await Lead.objects.aget(email="ana@brightside.io")
    assert await lead.conversations.filter(pk=conversation_id).aexists()
    question, _ = await sync_to_async(messages_of)(conversation_id)
    assert question.answered is None, "leaving contact details is not an unanswered question"


async def test_asking_for_a_person_adds_the_offer_to_take_contact_details(tidewater_kb, extractive):
    frames = await frames_for("What warranty do the bikes have? Can someone call me back about it?")

    bot = await BotSettings.objects.aget()
    assert frames[-1]["answered"] is True
    assert frames[-1]["offer_contact"] is True
    assert text_of(frames).endswith(bot.contact_prompt)


async def test_a_visitor_who_leaves_mid_answer_keeps_what_was_said(tidewater_kb, openai_llm):
    openai_llm.script(Reply.stall("You can return any bike within thirty days of delivery [1].", after_chunks=3))
    conversation_id = new_conversation_id()
    received = []
    stream = answer_stream(conversation_id=conversation_id, text=IN_SCOPE)
    async with aclosing(stream):
        async for frame in stream:
            if frame["type"] == "token":
                received.append(frame["text"])
                if len(received) == 2:
                    break

    question, answer = await sync_to_async(messages_of)(conversation_id)
    assert answer.text == "".join(received)
    assert answer.error.startswith("interrupted")
    assert question.answered is None


async def test_asking_for_a_person_where_the_knowledge_base_lists_no_channels_offers_contact(tidewater_kb, extractive):
    conversation_id = new_conversation_id()
    frames = await frames_for("Can I speak to a human?", conversation_id)

    bot = await BotSettings.objects.aget()
    assert text_of(frames) == bot.contact_prompt
    assert frames[-2] == {"type": "sources", "items": []}
    assert frames[-1]["answered"] is True and frames[-1]["offer_contact"] is True
    question, _ = await sync_to_async(messages_of)(conversation_id)
    assert question.answered is None, "asking for a person is not a gap in the knowledge base"
