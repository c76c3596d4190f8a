"""
A manual with running headers, footers and page numbers, ingested and asked
through the real pipeline: the quotes hold its sentences and list items, and
neither the page furniture nor list dashes.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command

from chatbot.llm.extractive import LEAD_IN
from chatbot.pipeline import answer_stream
from conversations.models import new_conversation_id
from knowledge.selectors import search
from knowledge.tests.samples import MANUAL_HEADER, manual_pdf_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def manual(tmp_path, extractive):
    (tmp_path / "owners-manual.pdf").write_bytes(manual_pdf_bytes())
    call_command("ingest", str(tmp_path), verbosity=0)
    search(query="warm up", k=1)


async def ask(text: str) -> str:
    frames = [frame async for frame in answer_stream(conversation_id=new_conversation_id(), text=text)]
    assert frames[-1]["answered"] is True
    return "".join(frame["text"] for frame in frames if frame["type"] == "token")


async def test_quotes_from_a_manual_carry_no_page_furniture_and_no_list_dashes(manual):
    freezing = await ask("Can I charge the battery when it is freezing?")
    cycles = await ask("How many charge cycles does the battery keep 80% of its capacity?")

    assert freezing == f"{LEAD_IN}\n\nNever charge it below freezing. [1]"
    assert cycles.startswith(f"{LEAD_IN}\n\nThe battery keeps 80% of its capacity after 92 full cycles.")
    for answer in (freezing, cycles):
        assert MANUAL_HEADER not in answer and "Edition 2024" not in answer and "page 3" not in answer
        assert not re.search(r"-\s*9\d\s*-", answer)
        assert not re.search(r"(^|\s)-\s", answer.removeprefix(LEAD_IN))


async def test_the_cited_page_is_the_body_text_page(manual):
    frames = [
        frame
        async for frame in answer_stream(
            conversation_id=new_conversation_id(), text="Can I charge the battery when it is freezing?"
        )
    ]

    sources = next(frame["items"] for frame in frames if frame["type"] == "sources")
    assert sources[0]["title"] == "Owner's manual > Charging (p. 2)"
    assert MANUAL_HEADER not in sources[0]["snippet"]
