"""
The bot's texts in the widget's language, through both doors: GET /api/bot/?lang=
and the WebSocket's `conversation` frame (/ws/chat/?lang=), and the consent
wording stored with a lead is the one that visitor was shown.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from chatbot.asgi import application
from chatbot.models import DEFAULT_CONSENT, DEFAULT_GREETING, BotSettings
from chatbot.selectors import abot_settings_get
from core.language import gettext_in

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@pytest.fixture
def api():
    return APIClient()


def test_the_default_texts_come_in_the_requested_language(api):
    body = api.get("/api/bot/", {"lang": "fr-CA"}).json()

    assert body["greeting"] == gettext_in("fr", DEFAULT_GREETING)
    assert body["greeting"].startswith("Bonjour")
    assert body["title"] == "Discutez avec nous"
    assert body["consent_text"] == gettext_in("fr", DEFAULT_CONSENT) != DEFAULT_CONSENT


def test_without_a_language_or_with_one_without_a_catalogue_the_texts_are_the_sites(api, settings):
    assert api.get("/api/bot/").json()["greeting"] == DEFAULT_GREETING
    assert api.get("/api/bot/", {"lang": "it"}).json()["greeting"] == DEFAULT_GREETING
    settings.LANGUAGE_CODE = "nl"

    assert api.get("/api/bot/", {"lang": "it"}).json()["title"] == "Chat met ons"


def test_texts_staff_wrote_are_sent_as_written(api):
    BotSettings(greeting="Welkom bij Tidewater!", widget_title="Ask Tidewater").save()

    body = api.get("/api/bot/", {"lang": "de"}).json()

    assert body["greeting"] == "Welkom bij Tidewater!"
    assert body["title"] == "Ask Tidewater"
    assert body["consent_text"] == gettext_in("de", DEFAULT_CONSENT), "the fields left at their default still follow"


async def test_the_conversation_frame_follows_the_widgets_language_and_so_does_the_stored_consent(extractive):
    from leads.models import Lead

    communicator = WebsocketCommunicator(application, "/ws/chat/?lang=de")
    ok, _ = await communicator.connect(timeout=TIMEOUT)
    assert ok
    try:
        conversation = await communicator.receive_json_from(timeout=TIMEOUT)
        await communicator.send_json_to({"type": "lead", "name": "Jonas", "email": "jonas@example.de", "consent": True})
        captured = await communicator.receive_json_from(timeout=TIMEOUT)
        await communicator.send_json_to({"type": "message", "text": "  "})
        refused = await communicator.receive_json_from(timeout=TIMEOUT)
    finally:
        await communicator.disconnect()

    assert conversation["bot"]["greeting"] == gettext_in("de", DEFAULT_GREETING)
    assert conversation["bot"]["greeting"].startswith("Hallo!")
    assert captured == {"type": "lead", "status": "captured"}
    lead = await Lead.objects.aget(email="jonas@example.de")
    assert lead.consent_text == conversation["bot"]["consent_text"] == gettext_in("de", DEFAULT_CONSENT)
    assert refused["message"] == "Die Nachricht ist leer."


def test_the_chat_api_takes_the_widgets_language_for_what_a_message_does_not_tell(api, tidewater_kb, extractive):
    body = api.post("/api/chat/", {"message": "Commuter 2?", "lang": "es"}, format="json").json()

    assert body["answer"].startswith("Lo siento")
    assert body["answered"] is False


async def test_a_saved_bot_setting_is_compared_with_its_default_after_trimming():
    await sync_to_async(BotSettings(greeting=DEFAULT_GREETING + "\n").save)()

    bot = await abot_settings_get()

    assert bot.in_language("nl").greeting == gettext_in("nl", DEFAULT_GREETING)
