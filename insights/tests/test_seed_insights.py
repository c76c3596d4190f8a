"""`manage.py seed_insights`: a busy site's history, exactly the counts asked for, its days rolled up."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conversations.models import Conversation, Message
from insights.models import InsightsDay

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_adds_the_conversations_and_messages_asked_for_and_rolls_their_days_up(client, analyst):
    out = StringIO()

    call_command("seed_insights", "--conversations", "300", "--messages", "2500", "--days", "10", "--json", stdout=out)

    figures = json.loads(out.getvalue())
    assert (figures["conversations"], figures["messages"]) == (300, 2500)
    assert Conversation.objects.count() == 300
    assert Message.objects.count() == 2500
    assert Message.objects.filter(role=Message.Role.AGENT).exists(), "some conversations were handed over"
    assert InsightsDay.objects.count() == figures["days_rolled_up"] >= 10
    totals = client.get(reverse("insights:insights"), {"period": "30"}).context["report"].totals
    assert totals["conversations"] == 300
    assert totals["visitor_messages"] == Message.objects.filter(role=Message.Role.VISITOR).count()


def test_it_refuses_fewer_messages_than_a_question_and_answer_per_conversation():
    with pytest.raises(CommandError, match="at least twice"):
        call_command("seed_insights", "--conversations", "10", "--messages", "5")
