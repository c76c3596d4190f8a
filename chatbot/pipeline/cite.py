"""Cite: [n] in the answer's text mapped to the passages it was given, as the sources sent."""

from __future__ import annotations

import re
from collections.abc import Sequence

from chatbot.llm import Passage
from conversations.types import SourceItem

SNIPPET_CHARS = 220
CITATION_RE = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")


def citations_find(text: str) -> list[int]:
    """Passage numbers cited as [n], [n, m] or [n][m], in order of first appearance."""
    found: list[int] = []
    for match in CITATION_RE.finditer(text):
        for number in match.group(1).split(","):
            n = int(number)
            if n not in found:
                found.append(n)
    return found


def source_item(passage: Passage) -> SourceItem:
    snippet = " ".join(passage.text.split())
    if len(snippet) > SNIPPET_CHARS:
        snippet = snippet[: SNIPPET_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return {"n": passage.n, "title": passage.title, "url": passage.url, "snippet": snippet}


def cited_sources(text: str, passages: Sequence[Passage]) -> list[SourceItem]:
    """The passages cited as [n], in the order the answer first cites them: the first one is what it leads with."""
    by_number = {p.n: p for p in passages}
    return [source_item(by_number[n]) for n in citations_find(text) if n in by_number]
