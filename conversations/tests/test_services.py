"""Storing messages, answers and feedback."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from conversations.models import Conversation, Message, new_conversation_id
from conversations.services import (
    conversation_question_record,
    message_answer_record,
    message_feedback_set,
)
from conversations.tests.factories import exchange

pytestmark = pytest.mark.django_db


def test_the_first_message_creates_the_conversation_and_later_ones_see_the_history():
    conversation_id = new_conversation_id()
    first = conversation_question_record(
        conversation_id=conversation_id, text="Hi?", origin="https://shop.example", history_turns=3
    )
    message_answer_record(
        conversation_id=conversation_id, question=first.message, public_id="m1", text="Hello!", answered=True
    )
    second = conversation_question_record(conversation_id=conversation_id, text="Prices?", history_turns=3)

    assert first.history == []
    assert [(t.role, t.text) for t in second.history] == [("visitor", "Hi?"), ("assistant", "Hello!")]
    conversation = Conversation.objects.get(pk=conversation_id)
    assert conversation.origin == "https://shop.example"
    assert conversation.last_message_at == second.message.created_at


def test_history_keeps_only_the_last_turns():
    conversation_id = new_conversation_id()
    for n in range(5):
        recorded = conversation_question_record(conversation_id=conversation_id, text=f"q{n}")
        message_answer_record(
            conversation_id=conversation_id, question=recorded.message, public_id=f"a{n}", text=f"a{n}", answered=True
        )
    recorded = conversation_question_record(conversation_id=conversation_id, text="q5", history_turns=2)

    assert [t.text for t in recorded.history] == ["q3", "a3", "q4", "a4"]


def test_an_answer_marks_its_question_answered_or_not():
    recorded = conversation_question_record(conversation_id=new_conversation_id(), text="Mexico?")
    message_answer_record(
        conversation_id=recorded.conversation.pk,
        question=recorded.message,
        public_id="x",
        text="Sorry",
        answered=False,
        confidence=0.12,
    )

    recorded.message.refresh_from_db()
    assert recorded.message.answered is False


def test_feedback_is_only_for_answers():
    question, answer = exchange(question="Price?", answered=True)

    with pytest.raises(Message.DoesNotExist):
        message_feedback_set(message_id=question.public_id, rating=1)
    with pytest.raises(ValidationError):
        message_feedback_set(message_id=answer.public_id, rating=3)
    assert message_feedback_set(message_id=answer.public_id, rating=-1).feedback == -1
