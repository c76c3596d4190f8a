"""The interest recorded with a lead: the request the visitor made, not whatever they asked before it."""

import pytest

from leads.selectors import conversation_interest
from leads.tests.factories import ConversationFactory, MessageFactory

pytestmark = pytest.mark.django_db

QUOTE_WITH_EMAIL = "I'd like a quote for 10 bikes for my delivery company, my email is ana@brightside.io"


def test_a_request_that_carries_the_contact_details_is_the_interest_itself():
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Do you ship to Canada?")
    MessageFactory(conversation=conversation, text=QUOTE_WITH_EMAIL)

    interest = conversation_interest(conversation=conversation, current_text=QUOTE_WITH_EMAIL)

    assert interest == "I'd like a quote for 10 bikes for my delivery company"


def test_details_alone_take_the_latest_request_over_later_questions():
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Can I get a quote for 12 cargo bikes?")
    MessageFactory(conversation=conversation, text="Do you deliver to Toronto?")
    MessageFactory(conversation=conversation, text="I'm Ana, ana@brightside.io")

    interest = conversation_interest(conversation=conversation, current_text="I'm Ana, ana@brightside.io")

    assert interest == "Can I get a quote for 12 cargo bikes?"


def test_call_me_back_with_a_number_keeps_the_question_asked_before():
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Do you do fleet pricing for 20 cargo bikes?")
    text = "Please call me back on +44 20 7946 0958"
    MessageFactory(conversation=conversation, text=text)

    assert conversation_interest(conversation=conversation, current_text=text) == (
        "Do you do fleet pricing for 20 cargo bikes?"
    )
