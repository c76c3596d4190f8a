"""Each visitor message is stored with its language; short ones take the conversation's."""

from __future__ import annotations

import pytest

from conversations.models import Message, new_conversation_id
from conversations.services import conversation_question_record

pytestmark = pytest.mark.django_db


def ask(conversation_id: str, text: str):
    return conversation_question_record(conversation_id=conversation_id, text=text)


def test_a_message_is_stored_with_the_language_it_is_written_in():
    recorded = ask(new_conversation_id(), "¿Hacen envíos a Canadá?")

    assert recorded.language == "es"
    assert Message.objects.get(pk=recorded.message.pk).language == "es"


def test_a_message_too_short_to_tell_takes_the_conversations_language_and_stores_none():
    conversation_id = new_conversation_id()
    ask(conversation_id, "Livrez-vous au Canada ?")

    recorded = ask(conversation_id, "Commuter 2")

    assert recorded.language == "fr"
    assert Message.objects.get(pk=recorded.message.pk).language == "", "staff see what was detected, not assumed"


def test_the_first_message_too_short_to_tell_has_no_language():
    recorded = ask(new_conversation_id(), "Trail X")

    assert recorded.language == ""


def test_a_weak_guess_does_not_move_the_conversation_to_another_language():
    conversation_id = new_conversation_id()
    ask(conversation_id, "How long is the warranty on the battery?")

    # On their own these read as French and Italian (about 0.6); in an English conversation they stay English.
    assert ask(conversation_id, "bon voyage rental?").language == "en"
    assert ask(conversation_id, "a la carte accessories?").language == "en"


def test_a_visitor_who_changes_language_is_followed():
    conversation_id = new_conversation_id()
    ask(conversation_id, "Do you ship to Canada?")

    recorded = ask(conversation_id, "Quels sont vos horaires d'ouverture ?")

    assert recorded.language == "fr"
    assert ask(conversation_id, "ok").language == "fr"
