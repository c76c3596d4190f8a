"""
A visitor asks for a person: with a staff member online within office hours,
they are told someone will join and staff are told (inbox, email); otherwise
the contact offer as before.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from chatbot.models import BotSettings
from chatbot.selectors import bot_settings_cache_clear
from chatbot.tests.handoff.support import ask, astaff_create, receive_until, staff_socket, visitor_socket
from conversations.models import Conversation

pytestmark = pytest.mark.django_db(transaction=True)

PERSON = "Can I talk to a person please?"


@pytest.fixture
def notify_by_email(settings):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.LEADS_NOTIFY_EMAILS = ["sales@example.com"]
    mail.outbox = []
    return mail.outbox


def answer_text(frames: list[dict]) -> str:
    return "".join(frame["text"] for frame in frames if frame["type"] == "token")


async def test_with_staff_online_the_visitor_is_told_someone_will_join(tidewater_kb, extractive, notify_by_email):
    alice = await astaff_create()
    async with staff_socket(alice) as staff, visitor_socket() as visitor:
        frames = await ask(visitor, PERSON)
        assert "join you" in answer_text(frames)
        assert frames[-1]["offer_contact"] is False
        waiting = (await receive_until(staff, "waiting"))[-1]
        assert waiting["text"] == PERSON and waiting["conversation"]["waiting"] is True
    conversation = await Conversation.objects.aget(pk=visitor.conversation["id"])
    assert conversation.handoff_requested_at is not None
    assert [m.subject for m in notify_by_email] == ["A visitor is waiting for a person"]
    assert PERSON in notify_by_email[0].body


async def test_with_nobody_online_the_visitor_gets_the_contact_offer(tidewater_kb, extractive, notify_by_email):
    async with visitor_socket() as visitor:
        frames = await ask(visitor, PERSON)
    assert "join you" not in answer_text(frames)
    assert frames[-1]["offer_contact"] is True
    assert (await Conversation.objects.aget(pk=visitor.conversation["id"])).handoff_requested_at is None
    assert notify_by_email == []


def _closed_all_week() -> None:
    bot, _ = BotSettings.objects.get_or_create(pk=BotSettings.SINGLETON_PK)
    bot.office_days = ""
    bot.save()
    bot_settings_cache_clear()


async def test_outside_office_hours_the_visitor_gets_the_contact_offer(tidewater_kb, extractive):
    await sync_to_async(_closed_all_week)()
    alice = await astaff_create()
    async with staff_socket(alice), visitor_socket() as visitor:
        frames = await ask(visitor, PERSON)
    assert frames[-1]["offer_contact"] is True
    assert "join you" not in answer_text(frames)


async def test_staff_without_the_permission_online_do_not_count(tidewater_kb, extractive):
    await astaff_create(username="bob", allowed=False)
    async with visitor_socket() as visitor:
        frames = await ask(visitor, PERSON)
    assert frames[-1]["offer_contact"] is True
