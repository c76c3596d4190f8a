"""A visitor asking for a person, a quote, a demo or a call back, in en/fr/de/es."""

import pytest

from leads.selectors import visitor_wants_contact

ASKS = [
    "Can I speak to a human please?",
    "I'd like to talk with someone from sales",
    "Could you call me back tomorrow morning?",
    "Can I get a quote for 12 cargo bikes?",
    "Do you offer a demo for fleet managers?",
    "I want to book a test ride",
    "Je voudrais parler à un conseiller",
    "Pouvez-vous me rappeler demain ?",
    "J'aimerais un devis pour 5 vélos",
    "Ich möchte mit einem Mitarbeiter sprechen",
    "Bitte um Rückruf",
    "Können Sie mir ein Angebot schicken?",
    "Quisiera hablar con una persona",
    "¿Me pueden llamar mañana?",
    "Necesito un presupuesto para mi empresa",
    "¿Hacéis demostración del modelo Orbit?",
]
DOES_NOT_ASK = [
    "What is the range of the Orbit 500?",
    "How long does the battery take to charge?",
    "Do you deliver to Portland?",
    "Quelle est l'autonomie du vélo ?",
    "Wie schwer ist das Fahrrad?",
    "¿Cuánto pesa la bicicleta?",
    "",
]


@pytest.mark.parametrize("text", ASKS)
def test_it_notices_a_visitor_asking_for_contact(text):
    assert visitor_wants_contact(text) is True


@pytest.mark.parametrize("text", DOES_NOT_ASK)
def test_it_leaves_ordinary_questions_alone(text):
    assert visitor_wants_contact(text) is False
