"""
The pipeline decides whether the knowledge base answers with the best
similarity among the passages a prompt would get, not the first-ranked one's.
"""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command

from chatbot.pipeline import MAX_PROMPT_PASSAGES, answer_confidence, answer_stream, passages_from_results
from conversations.models import new_conversation_id
from knowledge.tests.samples import SAMPLE_KB
from knowledge.types import SearchResult


def result(n: int, confidence: float) -> SearchResult:
    return SearchResult(
        chunk_id=n,
        text=f"passage {n}",
        source_type="document",
        source_id=n,
        source_identifier=f"doc{n}.md",
        title=f"Doc {n}",
        heading_path="",
        page=None,
        url=f"/kb/sources/{n}/",
        score=1 / (60 + n),
        confidence=confidence,
        dense_rank=n,
        keyword_rank=None,
    )


def test_the_best_passage_decides_even_when_fusion_ranks_it_third():
    assert answer_confidence([result(1, 0.39), result(2, 0.30), result(3, 0.51)]) == 0.51


def test_only_passages_that_would_reach_the_prompt_count():
    results = [result(n, 0.2) for n in range(1, MAX_PROMPT_PASSAGES + 1)] + [result(99, 0.9)]

    assert answer_confidence(results) == 0.2
    assert answer_confidence([]) == 0.0


def test_a_weak_passage_in_the_middle_does_not_hide_a_strong_one_after_it():
    passages = passages_from_results([result(1, 0.40), result(2, 0.10), result(3, 0.55)])

    assert [(p.n, p.title, p.confidence) for p in passages] == [(1, "Doc 1", 0.40), (2, "Doc 3", 0.55)]


@pytest.mark.django_db(transaction=True)
async def test_a_question_whose_answer_ranks_below_a_weaker_faq_is_answered(settings):
    settings.LLM_PROVIDER = "extractive"
    await sync_to_async(call_command)("ingest", str(SAMPLE_KB), verbosity=0)

    frames = [
        frame
        async for frame in answer_stream(
            conversation_id=new_conversation_id(), text="How long is the warranty on the battery?"
        )
    ]

    assert frames[-1]["type"] == "done" and frames[-1]["answered"] is True
    sources = next(frame["items"] for frame in frames if frame["type"] == "sources")
    assert any("Warranty" in source["title"] for source in sources)
