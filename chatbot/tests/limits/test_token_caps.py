"""
The LLM token caps: per conversation and per UTC day. Past a cap the
extractive provider answers instead (no model call, no cost), and the
stored answer says why.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from chatbot.limits import llm_tokens_used
from conversations.models import Message
from testsupport.fake_openai import Reply

pytestmark = pytest.mark.django_db(transaction=True)

RETURNS = "How long do I have to return a bike?"
RAIN = "Can I ride my e-bike in the rain?"
CANADA = "Do you ship to Canada?"


@pytest.fixture
def api():
    return APIClient()


def ask(api, message: str, conversation_id: str = ""):
    body = {"message": message, **({"conversation_id": conversation_id} if conversation_id else {})}
    return api.post("/api/chat/", body, format="json")


def costing(prompt_tokens: int, completion_tokens: int) -> Reply:
    return Reply(kind="stream", text="Returns are accepted within 30 days of delivery [1].",
                 usage=(prompt_tokens, completion_tokens))


def stored(body: dict) -> Message:
    return Message.objects.get(public_id=body["message_id"])


def test_past_the_conversation_cap_the_extractive_provider_answers(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_CONVERSATION = 100
    openai_llm.script(costing(80, 30), costing(80, 30))

    first = ask(api, RETURNS).json()
    capped = ask(api, RAIN, first["conversation_id"])
    other_conversation = ask(api, CANADA).json()

    assert capped.status_code == 200
    assert stored(first).provider == "openai"
    message = stored(capped.json())
    assert message.provider == "extractive"
    assert "token cap reached: 110 of 100" in message.error and "LLM_TOKENS_PER_CONVERSATION" in message.error
    assert capped.json()["answered"] is True and capped.json()["sources"], "the visitor still gets a grounded answer"
    assert stored(other_conversation).provider == "openai", "other conversations keep the model"
    assert len(openai_llm.completion_requests()) == 2
    assert llm_tokens_used(conversation_id=first["conversation_id"]) == (110, 220)


def test_the_daily_cap_counts_every_conversation(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_DAY = 150
    openai_llm.script(costing(80, 30), costing(80, 30))

    answers = [ask(api, question).json() for question in (RETURNS, RAIN, CANADA)]

    assert [stored(a).provider for a in answers] == ["openai", "openai", "extractive"]
    assert "LLM_TOKENS_PER_DAY" in stored(answers[2]).error
    assert len(openai_llm.completion_requests()) == 2


def test_tokens_are_estimated_when_the_model_reports_none(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_CONVERSATION = 1
    openai_llm.script(Reply.cut("Returns are accepted within thirty days of delivery", after_chunks=3))

    broken = ask(api, RETURNS)
    conversation_id = broken.json()["conversation_id"]
    used, _ = llm_tokens_used(conversation_id=conversation_id)
    after = ask(api, RAIN, conversation_id).json()

    assert broken.status_code == 503 and stored(broken.json()).prompt_tokens is None, "no usage was reported"
    assert used > 50, "the prompt and the partial answer were estimated"
    assert stored(after).provider == "extractive"


def test_a_cap_of_zero_is_no_cap(api, settings, tidewater_kb, openai_llm):
    settings.LLM_TOKENS_PER_CONVERSATION = 0
    settings.LLM_TOKENS_PER_DAY = 0
    openai_llm.script(costing(10_000_000, 10), costing(10_000_000, 10))

    first = ask(api, RETURNS).json()
    second = ask(api, RAIN, first["conversation_id"]).json()

    assert [stored(first).provider, stored(second).provider] == ["openai", "openai"]
