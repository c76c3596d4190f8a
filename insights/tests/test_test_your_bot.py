"""Test your bot: a question's decision trace in admin, with nothing stored as a visitor conversation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from conversations.models import Conversation, Message
from insights.trace import bot_trace
from leads.models import Lead
from testsupport.fake_openai import Reply

pytestmark = pytest.mark.django_db(transaction=True)


def ask(client, question: str):
    return client.post(reverse("insights:test_bot"), {"question": question})


def test_the_trace_shows_ranks_figures_the_decision_and_the_answer(client, tester, tidewater_kb, extractive):
    response = ask(client, "Can I ride my e-bike in the rain?")

    assert response.status_code == 200
    trace = response.context["trace"]
    assert trace.decision["answer"] is True
    best = trace.passages[0]
    assert best["title"] == "Can I ride my e-bike in the rain?"
    assert best["dense_rank"] == 1 and best["keyword_rank"] == 1
    assert 0 < best["similarity"] <= 1
    assert trace.decision["threshold"] == 0.5
    assert trace.answer.provider == "extractive" and trace.answer.text
    assert set(trace.timings_ms) == {"search", "decision", "prompt", "answer"}
    assert trace.prompt_messages[0]["role"] == "system"
    assert "Can I ride my e-bike in the rain?" in trace.prompt_messages[-1]["content"]
    page = response.content.decode()
    assert 'id="trace-passages"' in page
    assert f"Answers ({trace.decision['reason']})" in page


def test_nothing_is_stored_not_even_contact_details(client, tester, tidewater_kb, extractive):
    ask(client, "Can I ride my e-bike in the rain? Call me on ana@example.com")

    assert Conversation.objects.count() == 0
    assert Message.objects.count() == 0
    assert Lead.objects.count() == 0


def test_a_question_the_knowledge_base_does_not_cover_is_refused_without_a_model(
    client, tester, tidewater_kb, openai_llm
):
    response = ask(client, "What is the capital of Australia?")

    trace = response.context["trace"]
    assert trace.decision["answer"] is False
    assert trace.decision["reason"].startswith("below_")
    assert trace.answer is None
    assert "couldn't find that" in trace.reply_without_model
    assert openai_llm.completion_requests() == [], "no model is called for a refusal"


def test_a_chat_model_answer_shows_its_tokens_and_prompt(tidewater_kb, openai_llm):
    reply = Reply.stream("Yes, the bikes are rated IPX5 [1].")
    openai_llm.script(Reply(kind=reply.kind, text=reply.text, usage=(321, 12)))

    trace = bot_trace(question="Can I ride my e-bike in the rain?")

    assert trace.answer.provider == "openai" and trace.answer.model == "fake-gpt"
    assert trace.answer.text == "Yes, the bikes are rated IPX5 [1]."
    assert (trace.answer.prompt_tokens, trace.answer.completion_tokens) == (321, 12)
    assert trace.answer.first_token_ms is not None
    [request] = openai_llm.completion_requests()
    assert request.body["messages"] == trace.prompt_messages


def test_an_empty_question_is_an_error_on_the_page(client, tester):
    response = ask(client, "   ")

    assert response.status_code == 200
    assert response.context["trace"] is None
    assert "Type a question" in response.content.decode()
