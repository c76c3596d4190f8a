"""
Extractive answers over the sample knowledge base, through the real pipeline:
the line that answers leads, under a short lead-in, from the right section.
"""

from __future__ import annotations

import pytest

from chatbot.llm.extractive import LEAD_IN
from chatbot.pipeline import answer_stream
from chatbot.tests.support import module_transactional_db
from conversations.models import new_conversation_id

transactional_db = pytest.fixture(scope="module")(module_transactional_db)


async def ask(text: str) -> tuple[str, list[dict], dict]:
    frames = [frame async for frame in answer_stream(conversation_id=new_conversation_id(), text=text)]
    answer = "".join(frame["text"] for frame in frames if frame["type"] == "token")
    sources = next(frame["items"] for frame in frames if frame["type"] == "sources")
    return answer, sources, frames[-1]


async def test_the_commuter_2_weight_is_quoted_not_its_price_or_motor(kb_db):
    answer, sources, done = await ask("How much does the Commuter 2 weigh?")

    assert done["answered"] is True
    assert answer == f"{LEAD_IN}\n\nWeight: 48 lb (21.8 kg) [1]"
    assert sources[0]["title"] == "Tidewater e-bike range > Tidewater Commuter 2"
    assert "$2,399" not in answer and "Motor" not in answer


async def test_a_document_answer_has_a_short_natural_lead_in(kb_db):
    answer, _, _ = await ask("What psi should the Trail X tyres be?")

    assert answer.startswith(LEAD_IN + "\n\n")
    assert "22 to 30 psi" in answer
    assert "quoted directly" not in answer and "knowledge base says" not in answer


async def test_the_cited_section_is_the_one_that_answers_not_the_first_retrieved(kb_db):
    answer, sources, _ = await ask("how heavy is the trail x")

    assert "Weight: 52 lb (23.6 kg)" in answer.splitlines()[2]
    assert sources[0]["title"] == "Tidewater e-bike range > Tidewater Trail X"


async def test_a_table_row_is_quoted_with_its_header_as_a_table(kb_db):
    answer, sources, _ = await ask("How many days does delivery to Canada take?")

    assert "| Destination | Bikes | Parts and accessories |\n|---|---|---|\n| Canada | 6-10 business days |" in answer
    assert sources[0]["title"] == "Shipping and delivery > Delivery times"


async def test_a_matching_faq_is_its_curated_answer_whole(kb_db):
    answer, sources, _ = await ask("Can I take my battery on a plane?")

    assert answer == (
        "No. E-bike batteries are larger than the 100 Wh airline limit, so they cannot be carried on "
        "commercial flights. [1]"
    )
    assert sources[0]["title"] == "Can I take the battery on a plane?"
