"""What a visitor asks of the team: a person, a call back, or a quote (a demo, a test ride, a price for a quantity)."""

import pytest

from leads.selectors import visitor_request

KINDS = [
    ("Can I talk to a real person?", "person"),
    ("I'd like to speak with someone from sales", "person"),
    ("Je voudrais parler à un conseiller", "person"),
    ("Quisiera hablar con una persona", "person"),
    ("Could you call me back tomorrow morning?", "call_back"),
    ("Please get in touch with me", "call_back"),
    ("Bitte um Rückruf", "call_back"),
    ("I'd like a quote for 10 bikes for my delivery company", "quote"),
    ("What would 20 bikes cost?", "quote"),
    ("How much for 12 cargo bikes?", "quote"),
    ("Price for 8 e-bikes delivered to Denver", "quote"),
    ("Do you offer a demo for fleet managers?", "quote"),
    ("J'aimerais un devis pour 5 vélos", "quote"),
    ("Necesito un presupuesto para mi empresa", "quote"),
    ("How much does the Commuter 2 cost?", None),
    ("Volume discount for 25 bikes", None),
    ("It cost me 20 dollars to ship a part", None),
    ("What is the range of the Orbit 500?", None),
    ("", None),
]


@pytest.mark.parametrize(("text", "kind"), KINDS)
def test_it_tells_a_person_a_call_back_and_a_quote_from_a_question(text, kind):
    assert visitor_request(text) == kind
