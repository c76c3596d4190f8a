"""Retrieve: the hybrid search, and the passages the prompt gets from its results."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from chatbot.llm import Passage
from knowledge.answerability import aanswer_search
from knowledge.types import SearchResult

logger = logging.getLogger(__name__)

SEARCH_K = 8
MAX_PROMPT_PASSAGES = 6
# Passages much weaker than the best one add noise, not grounding.
PASSAGE_FLOOR_RATIO = 0.5


async def search_results(query: str) -> list[SearchResult]:
    """The knowledge base's best passages for `query`; none when the search fails (logged)."""
    try:
        return await aanswer_search(query=query, k=SEARCH_K)
    except Exception:
        logger.exception("knowledge search failed; answering as if nothing matched")
        return []


def answer_confidence(results: Sequence[SearchResult]) -> float:
    """
    The best similarity among the passages the prompt would get, stored with
    the answer. Whether to answer is `knowledge.answerability.answer_decide`'s call.
    """
    return max((result.confidence for result in results[:MAX_PROMPT_PASSAGES]), default=0.0)


def passages_from_results(results: Sequence[SearchResult]) -> list[Passage]:
    """Numbers the search results [1]..[n] for the prompt, leaving out the weak ones."""
    if not results:
        return []
    floor = results[0].confidence * PASSAGE_FLOOR_RATIO
    passages: list[Passage] = []
    for result in results[:MAX_PROMPT_PASSAGES]:
        if result.confidence < floor:
            continue
        passages.append(
            Passage(
                n=len(passages) + 1,
                text=result.text,
                title=result.citation_label or result.title,
                url=result.url,
                confidence=result.confidence,
                source_type=result.source_type,
            )
        )
    return passages
