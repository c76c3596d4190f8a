"""The `extractive` provider: quotes the best passages, cited, and says so; streams like a model."""

from __future__ import annotations

from chatbot.llm import (
    AnswerRequest,
    ExtractiveProvider,
    Passage,
    TextDelta,
    provider_get,
)
from chatbot.llm.extractive import INTRO, extractive_answer, quote_passage

RETURNS = Passage(
    n=1, title="Returns policy > Refunds", url="/kb/sources/1/", confidence=0.71,
    text=(
        "## Refunds\nWe want you to love your bike. You can return any Tidewater bike within 30 days of delivery "
        "for a full refund. The bike must have been ridden less than 50 miles. Refunds reach your card within "
        "5 business days. Gift cards cannot be refunded."
    ),
)
SHIPPING = Passage(
    n=2, title="Shipping > Delivery times", url="/kb/sources/2/", confidence=0.69,
    text=(
        "| Destination | Bikes | Parts and accessories |\n|---|---|---|\n"
        "| West Coast (WA, OR, CA) | 2-4 business days | 1-3 business days |\n"
        "| Canada | 6-10 business days | 4-8 business days |"
    ),
)
WEAK = Passage(n=3, title="Company", url="/kb/sources/3/", confidence=0.40, text="We were founded in 2012 in Portland.")


def test_it_is_the_default_without_an_api_key(settings):
    settings.LLM_PROVIDER = "extractive"
    assert isinstance(provider_get(), ExtractiveProvider)


def test_it_quotes_the_sentences_that_answer_the_question_word_for_word():
    quote = quote_passage(RETURNS.text, "Can I return my bike for a refund?")

    assert quote.startswith("You can return any Tidewater bike within 30 days of delivery for a full refund.")
    assert quote in " ".join(RETURNS.text.splitlines()[1:])
    assert "Gift cards" not in quote, "at most a few sentences from the best one"


def test_it_keeps_a_table_rows_header():
    quote = quote_passage(SHIPPING.text, "How long does delivery to Canada take?")

    assert quote.splitlines() == [
        "| Destination | Bikes | Parts and accessories |",
        "| Canada | 6-10 business days | 4-8 business days |",
    ]


def test_it_says_it_quotes_the_knowledge_base_and_cites_each_quote():
    answer = extractive_answer("How long does delivery to Canada take, and can I return the bike?",
                               [RETURNS, SHIPPING, WEAK])

    assert answer.startswith(INTRO)
    assert "quoted" in INTRO and "knowledge base" in INTRO
    assert "[1]" in answer and "[2]" in answer
    assert "[3]" not in answer, "a much weaker passage is left out"


async def test_it_streams_in_small_chunks():
    request = AnswerRequest(question="Can I return my bike?", passages=(RETURNS,), messages=())
    chunks = [event.text async for event in ExtractiveProvider().stream(request) if isinstance(event, TextDelta)]

    assert len(chunks) > 5
    assert "".join(chunks) == extractive_answer("Can I return my bike?", [RETURNS])
