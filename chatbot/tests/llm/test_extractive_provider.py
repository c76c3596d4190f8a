"""
The `extractive` provider: the lines that answer, from whichever passage holds
them, quoted word for word and cited, lists as lists and table rows as a table
under their column names; streamed like a model.
"""

from __future__ import annotations

import re

from chatbot.llm import AnswerRequest, ExtractiveProvider, Passage, TextDelta, provider_get
from chatbot.llm.extractive import LEAD_IN, extractive_answer, passage_units

COMMUTER = Passage(
    n=1,
    title="Tidewater e-bike range > Tidewater Commuter 2",
    url="/kb/sources/1/#chunk-2",
    confidence=0.52,
    text=(
        "The Commuter 2 is our city bike for daily rides to work.\n\n"
        "- Price: $2,399\n- Motor: 250 W mid-drive, 65 Nm torque\n"
        "- Battery: 500 Wh, range 40-70 miles depending on assist level\n- Charging time: 4.5 hours from empty\n"
        "- Weight: 48 lb (21.8 kg)\n- Frame sizes: S, M, L; step-through and high-step"
    ),
)
SHIPPING_COSTS = Passage(
    n=2,
    title="Shipping and delivery > Shipping costs",
    url="/kb/sources/2/#chunk-5",
    confidence=0.55,
    text=(
        "- Bikes ship free to any address in the contiguous US.\n- Alaska, Hawaii and Canada: a flat $149 per bike.\n"
        "- Parts and accessories ship free on orders over $75; below that, shipping is $8.95."
    ),
)
DELIVERY_TIMES = Passage(
    n=3,
    title="Shipping and delivery > Delivery times",
    url="/kb/sources/2/#chunk-4",
    confidence=0.61,
    text=(
        "Destination: West Coast (WA, OR, CA) | Bikes: 2-4 business days | Parts and accessories: 1-3 business days\n"
        "Destination: Canada | Bikes: 6-10 business days | Parts and accessories: 4-8 business days\n\n"
        "Orders placed before 1 pm Pacific time on a business day leave the warehouse the same day."
    ),
)
RAIN_FAQ = Passage(
    n=4,
    title="Can I ride my e-bike in the rain?",
    url="/kb/faqs/2/",
    confidence=0.58,
    source_type="faq",
    text=(
        "Can I ride my e-bike in the rain?\nYes. All Tidewater bikes are rated IPX5 and can be ridden in rain. "
        "Do not use a pressure washer and do not submerge the motor or battery."
    ),
)
# A chunk that continues a section repeats the end of the previous one, list items run together.
CONTINUED = Passage(
    n=5,
    title="Care and maintenance guide > Battery care (p. 1)",
    url="/kb/sources/3/#chunk-9",
    confidence=0.5,
    text=(
        "Never charge a battery below freezing; let a cold battery warm up for an hour first. "
        "- Use only the Tidewater charger that came with the bike or the Tidewater fast charger."
    ),
)


def test_it_is_the_default_without_an_api_key(settings):
    settings.LLM_PROVIDER = "extractive"
    assert isinstance(provider_get(), ExtractiveProvider)


def test_it_leads_with_the_line_that_answers_even_when_other_lines_share_more_words():
    answer = extractive_answer("How much does the Commuter 2 weigh?", [SHIPPING_COSTS, COMMUTER])

    assert answer == f"{LEAD_IN}\n\nWeight: 48 lb (21.8 kg) [1]"


def test_a_lead_in_that_reads_like_a_person_not_a_search_engine():
    answer = extractive_answer("How heavy is the Commuter 2?", [COMMUTER])

    assert answer.startswith(LEAD_IN + "\n\n")
    assert len(LEAD_IN) < 30
    assert "quoted" not in answer and "knowledge base" not in answer


def test_it_picks_the_right_passage_not_the_first_one():
    answer = extractive_answer(
        "How many days does delivery to Canada take?", [SHIPPING_COSTS, COMMUTER, DELIVERY_TIMES]
    )

    assert "[3]" in answer and "[1]" not in answer
    assert answer.index("[3]") < answer.find("[2]") if "[2]" in answer else True


def test_a_table_row_comes_with_its_column_names_as_a_markdown_table():
    answer = extractive_answer("How long does delivery to Canada take?", [DELIVERY_TIMES])

    assert answer.split("\n\n")[1].splitlines() == [
        "| Destination | Bikes | Parts and accessories |",
        "|---|---|---|",
        "| Canada | 6-10 business days | 4-8 business days [3] |",
    ]


def test_list_items_that_answer_together_are_a_markdown_list_and_one_item_is_a_plain_line():
    answer = extractive_answer("What does shipping cost?", [SHIPPING_COSTS])
    items = [line for line in answer.splitlines() if line.startswith("- ")]

    assert len(items) >= 2
    assert all(line[2:] in SHIPPING_COSTS.text for line in items[:-1])
    assert answer.rstrip().endswith("[2]")

    single = extractive_answer("How much does the Commuter 2 weigh?", [COMMUTER])
    assert "- " not in single


def test_a_list_item_run_into_a_sentence_is_its_own_line_without_its_dash():
    units = passage_units(CONTINUED)

    assert [(unit.kind, unit.text) for unit in units] == [
        ("sentence", "Never charge a battery below freezing; let a cold battery warm up for an hour first."),
        ("item", "Use only the Tidewater charger that came with the bike or the Tidewater fast charger."),
    ]
    answer = extractive_answer("Which charger can I use?", [CONTINUED])
    assert not re.search(r"\S\s+-\s+\S", answer), answer


def test_an_faq_that_matches_is_given_whole_without_a_lead_in():
    answer = extractive_answer("is it ok to cycle when it is raining", [COMMUTER, RAIN_FAQ])

    assert answer == (
        "Yes. All Tidewater bikes are rated IPX5 and can be ridden in rain. "
        "Do not use a pressure washer and do not submerge the motor or battery. [4]"
    )


def test_every_quoted_line_is_word_for_word_from_its_cited_passage():
    passages = [SHIPPING_COSTS, COMMUTER, DELIVERY_TIMES, RAIN_FAQ, CONTINUED]
    by_number = {passage.n: passage for passage in passages}
    for question in (
        "What is the range of the Commuter 2?",
        "Do you ship to Alaska?",
        "Can I ride in the rain?",
        "Where do parcels to Canada take?",
    ):
        answer = extractive_answer(question, passages)
        for block in answer.split("\n\n")[1:] if answer.startswith(LEAD_IN) else answer.split("\n\n"):
            cited = [int(n) for n in re.findall(r"\[(\d)\]", block)]
            assert cited, block
            source = by_number[cited[-1]].text
            for line in block.splitlines():
                text = re.sub(r"\s*\[\d\]", "", line).strip().removeprefix("- ").strip("| ")
                if text.startswith("---"):
                    continue
                cells = [cell.strip() for cell in text.split(" | ")]
                assert all(cell in source for cell in cells), (question, cells, source)


async def test_it_streams_in_small_chunks():
    request = AnswerRequest(question="How much does the Commuter 2 weigh?", passages=(COMMUTER,), messages=())
    chunks = [event.text async for event in ExtractiveProvider().stream(request) if isinstance(event, TextDelta)]

    assert len(chunks) > 3
    assert "".join(chunks) == extractive_answer("How much does the Commuter 2 weigh?", [COMMUTER])
