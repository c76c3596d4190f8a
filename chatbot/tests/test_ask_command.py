"""`manage.py ask`: the answer in the terminal."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from chatbot.management.commands.ask import Command as AskCommand
from conversations.models import Conversation, Message, new_conversation_id, new_message_id

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_prints_the_answer_and_its_sources(tidewater_kb, extractive):
    out = StringIO()
    call_command("ask", "Do you ship to Canada?", stdout=out)

    printed = out.getvalue()
    assert "We deliver to all 50 US states and to Canada" in printed
    assert "Sources:\n  [1] Do you ship to Canada?  /kb/faqs/" in printed
    conversation = Conversation.objects.get()
    assert conversation.channel == "cli"
    assert f"conversation {conversation.pk}" in printed


def test_json_mode_prints_one_protocol_frame_per_line(tidewater_kb, extractive):
    out = StringIO()
    call_command("ask", "Do", "you", "ship", "to", "Canada?", "--json", stdout=out)

    frames = [json.loads(line) for line in out.getvalue().splitlines()]
    assert frames[0]["type"] == "start" and frames[-1]["type"] == "done"
    assert Message.objects.get(role="visitor").text == "Do you ship to Canada?"


def test_it_continues_a_conversation(tidewater_kb, extractive):
    call_command("ask", "Do you ship to Canada?", stdout=StringIO())
    conversation = Conversation.objects.get()
    call_command("ask", "Can I ride in the rain?", "--conversation", conversation.pk, stdout=StringIO())

    assert Message.objects.filter(conversation=conversation).count() == 4


def test_new_conversation_and_message_ids_never_begin_with_a_dash():
    # One token in 64 begins with "-": 4,000 ids without one cannot be luck.
    ids = [new_conversation_id() for _ in range(2000)] + [new_message_id() for _ in range(2000)]

    assert not [value for value in ids if value.startswith("-")]
    assert {value[0] for value in ids} >= {"_", "A", "z", "0"}, "the first character is still random"


@pytest.mark.parametrize(
    "arguments",
    [
        lambda stored: ["--conversation", stored],
        lambda stored: [f"--conversation={stored}"],
    ],
    ids=["separate-value", "attached-value"],
)
def test_it_continues_a_stored_conversation_whose_id_begins_with_a_dash(tidewater_kb, extractive, arguments):
    stored = Conversation.objects.create(id="-Ab3dash-first-id-made-before-the-rule", channel="cli")

    call_command("ask", "Do you ship to Canada?", *arguments(stored.pk), stdout=StringIO())
    AskCommand(stdout=StringIO()).run_from_argv(
        ["manage.py", "ask", "Can I ride in the rain?", *arguments(stored.pk), "--json"]
    )

    assert Conversation.objects.get().pk == stored.pk
    assert Message.objects.filter(conversation=stored).count() == 4


def test_an_unknown_conversation_or_a_refused_message_is_an_error(settings, extractive):
    with pytest.raises(CommandError, match="No conversation"):
        call_command("ask", "hi", "--conversation", "nope", stdout=StringIO())
    settings.CHAT_MAX_MESSAGE_CHARS = 5
    with pytest.raises(CommandError, match="too_long"):
        call_command("ask", "a long question", stdout=StringIO())
