"""The conversations admin: transcripts and the filters staff ask for."""

from __future__ import annotations

import pytest

from conversations.tests.factories import ConversationFactory, exchange

pytestmark = pytest.mark.django_db

LIST = "/admin/conversations/conversation/"


@pytest.fixture
def conversations():
    from leads.models import Lead

    with_lead = ConversationFactory()
    exchange(conversation=with_lead, question="Can you call me?", answered=True)
    Lead.objects.create(email="ana@brightside.io").conversations.add(with_lead)
    unanswered = ConversationFactory()
    exchange(conversation=unanswered, question="Do you ship to Mexico?", answered=False)
    disliked = ConversationFactory()
    exchange(
        conversation=disliked, question="How much is the Trail X?", answer="$3,299 [1]", answered=True, feedback=-1
    )
    return {"lead": with_lead, "unanswered": unanswered, "disliked": disliked}


def listed(admin_client, query: str = "") -> set[str]:
    response = admin_client.get(LIST + query)
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_each_filter_finds_its_conversations(admin_client, conversations):
    assert listed(admin_client, "?has_lead=yes") == {conversations["lead"].pk}
    assert listed(admin_client, "?unanswered=yes") == {conversations["unanswered"].pk}
    assert listed(admin_client, "?negative_feedback=yes") == {conversations["disliked"].pk}
    assert listed(admin_client, "?has_lead=no") == {conversations["unanswered"].pk, conversations["disliked"].pk}
    assert len(listed(admin_client, "?created_at__gte=2000-01-01+00%3A00%3A00%2B00%3A00")) == 3
    assert listed(admin_client, "?created_at__gte=2999-01-01+00%3A00%3A00%2B00%3A00") == set()


def test_the_list_searches_message_text(admin_client, conversations):
    assert listed(admin_client, "?q=Mexico") == {conversations["unanswered"].pk}


def test_a_conversation_reads_as_a_transcript(admin_client):
    conversation = ConversationFactory()
    exchange(
        conversation=conversation,
        question="How much is the Trail X?",
        answer="It costs $3,299 [1].",
        answered=True,
        feedback=1,
        confidence=0.71,
        provider="openai",
        model="gpt-4o-mini",
        prompt_tokens=812,
        completion_tokens=9,
        time_to_first_token_ms=240,
        sources=[{"n": 1, "title": "Products > Trail X", "url": "/kb/sources/2/#chunk-5", "snippet": "..."}],
    )
    page = admin_client.get(f"{LIST}{conversation.pk}/change/").content.decode()

    question_at = page.index("How much is the Trail X?")
    assert question_at < page.index("It costs $3,299 [1].")
    assert 'href="/kb/sources/2/#chunk-5"' in page and "Products &gt; Trail X" in page
    assert "confidence 0.71" in page and "openai gpt-4o-mini" in page
    assert "tokens 812+9" in page and "first token 240 ms" in page and "👍" in page
    assert 'name="messages-0-text"' not in page, "the transcript is read-only"


def test_the_list_shows_the_first_question_and_flags(admin_client, conversations):
    page = admin_client.get(LIST).content.decode()

    assert "Do you ship to Mexico?" in page
    assert page.count('alt="True"') >= 3
