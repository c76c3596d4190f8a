"""The visitor's language through the real answer pipeline: fixed texts in it, a chat model told it."""

from __future__ import annotations

from pathlib import Path

import pytest
from asgiref.sync import sync_to_async

from chatbot.llm.extractive import LEAD_IN
from chatbot.models import DEFAULT_FALLBACK, DEFAULT_LEAD_THANKS, BotSettings
from chatbot.pipeline import answer_stream
from chatbot.smalltalk import THANKS_REPLY
from chatbot.tests.support import TIDEWATER_FAQS, knowledge_base_load
from conversations.models import Message, new_conversation_id
from core.language import gettext_in
from testsupport.fake_openai import Reply

pytestmark = pytest.mark.django_db(transaction=True)

PRODUCTS = Path(__file__).resolve().parents[2] / "sample_kb" / "products.md"
# The local embedding model is English-only: a French question is matched
# through the names it shares with the English page (the product's).
FRENCH_PRICE_QUESTION = "Quel est le prix du Tidewater Trail X ?"


@pytest.fixture
def products_kb(transactional_db):
    return knowledge_base_load(faqs=TIDEWATER_FAQS, documents=[("Tidewater e-bike range", PRODUCTS.read_text())])


async def frames_for(text: str, conversation_id: str | None = None, **kwargs) -> list[dict]:
    conversation_id = conversation_id or new_conversation_id()
    return [frame async for frame in answer_stream(conversation_id=conversation_id, text=text, **kwargs)]


def text_of(frames: list[dict]) -> str:
    return "".join(f["text"] for f in frames if f["type"] == "token")


async def visitor_languages(conversation_id: str) -> list[str]:
    return await sync_to_async(list)(
        Message.objects.filter(conversation_id=conversation_id, role="visitor")
        .order_by("created_at", "id")
        .values_list("language", flat=True)
    )


@pytest.mark.parametrize(
    ("language", "question", "expected_start"),
    [
        ("fr", "Quelle est la capitale de l'Australie ?", "Désolé, je n'ai pas trouvé"),
        ("es", "¿Cuál es la capital de Australia?", "Lo siento, no he encontrado"),
        ("de", "Was ist die Hauptstadt von Australien?", "Das habe ich in unserer Wissensdatenbank"),
        ("nl", "Wat is de hoofdstad van Australië?", "Sorry, dat heb ik niet kunnen vinden"),
    ],
)
async def test_a_question_the_knowledge_base_does_not_cover_gets_the_fallback_in_its_language(
    tidewater_kb, extractive, language, question, expected_start
):
    conversation_id = new_conversation_id()
    frames = await frames_for(question, conversation_id)

    assert text_of(frames).startswith(expected_start)
    assert text_of(frames) == gettext_in(language, DEFAULT_FALLBACK)
    assert frames[-1]["answered"] is False and frames[-1]["offer_contact"] is True
    assert await visitor_languages(conversation_id) == [language]


async def test_an_english_question_still_gets_the_english_fallback(tidewater_kb, extractive):
    frames = await frames_for("What is the capital of Australia?")

    assert text_of(frames) == DEFAULT_FALLBACK


async def test_a_fallback_that_staff_rewrote_is_sent_as_written(tidewater_kb, extractive):
    await sync_to_async(BotSettings(fallback_message="Posez la question à Ana, elle sait tout.").save)()

    frames = await frames_for("¿Cuál es la capital de Australia?")

    assert text_of(frames) == "Posez la question à Ana, elle sait tout."


async def test_a_french_question_gets_a_french_lead_in_with_the_english_quote_and_its_source(products_kb, extractive):
    frames = await frames_for(FRENCH_PRICE_QUESTION)

    text = text_of(frames)
    lead_in, _, quotes = text.partition("\n\n")
    assert lead_in == "Notre base de connaissances est en anglais\u00a0; voici ce qu'elle dit, cité mot pour mot\u00a0:"
    assert "$3,299" in quotes
    assert frames[-1]["answered"] is True
    assert frames[-2]["items"][0]["title"].startswith("Tidewater e-bike range")


async def test_an_english_question_gets_no_language_note(products_kb, extractive):
    frames = await frames_for("What is the price of the Tidewater Trail X?")

    assert text_of(frames).startswith(LEAD_IN + "\n\nPrice: $3,299")


async def test_a_chat_model_is_told_the_visitors_language_by_name(products_kb, openai_llm):
    openai_llm.script(Reply.stream("Le Trail X coûte 3 299 $ [1]."))

    frames = await frames_for(FRENCH_PRICE_QUESTION)

    system = openai_llm.completion_requests()[0].body["messages"][0]["content"]
    assert "Reply in French, the language of the visitor's latest message" in system
    assert text_of(frames) == "Le Trail X coûte 3 299 $ [1]."


async def test_a_short_follow_up_is_answered_in_the_conversations_language(tidewater_kb, extractive):
    conversation_id = new_conversation_id()
    await frames_for("Quelle est la capitale de l'Australie ?", conversation_id)

    frames = await frames_for("Commuter 2?", conversation_id)

    assert text_of(frames) == gettext_in("fr", DEFAULT_FALLBACK)
    assert await visitor_languages(conversation_id) == ["fr", ""]


async def test_the_widgets_language_is_used_when_a_message_does_not_tell(tidewater_kb, extractive):
    frames = await frames_for("Commuter 2?", ui_language="de")

    assert text_of(frames) == gettext_in("de", DEFAULT_FALLBACK)
    assert text_of(frames) != DEFAULT_FALLBACK


async def test_the_message_language_wins_over_the_widgets(tidewater_kb, extractive):
    frames = await frames_for("¿Cuál es la capital de Australia?", ui_language="de")

    assert text_of(frames) == gettext_in("es", DEFAULT_FALLBACK)


async def test_thanks_are_answered_in_the_visitors_language(extractive):
    frames = await frames_for("danke schön")

    assert text_of(frames) == gettext_in("de", THANKS_REPLY) == "Gern geschehen! Kann ich Ihnen sonst noch helfen?"


async def test_contact_details_left_in_french_are_thanked_in_french(tidewater_kb, extractive):
    frames = await frames_for("Je m'appelle Jean Dupont, mon e-mail est jean.dupont@example.com")

    assert text_of(frames) == gettext_in("fr", DEFAULT_LEAD_THANKS)
    assert text_of(frames).startswith("Merci")
    assert frames[-1] == {"type": "lead", "status": "captured"}


async def test_an_error_message_follows_the_widgets_language(extractive):
    frames = await frames_for("   ", ui_language="es")

    assert frames == [{"type": "error", "code": "bad_request", "message": "El mensaje está vacío."}]
