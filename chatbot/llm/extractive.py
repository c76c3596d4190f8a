"""
The extractive provider: no model at all.

It answers with the best matching sentences of the best passages, quoted word
for word and cited, and says plainly, in the visitor's language, that it is
quoting the knowledge base (and in which language, when that is another). It
streams the answer in small chunks like a model would, so the widget behaves
the same whichever provider runs.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from chatbot.llm.base import AnswerRequest, LLMEvent, Passage, TextDelta
from core.language import (
    gettext_in,
    language_choose,
    language_default,
    language_detect,
    language_name,
    language_supported,
)

INTRO = gettext_noop("Here is what our knowledge base says (quoted directly):")
# When the quotes are in another language than the visitor's.
INTRO_IN_LANGUAGE = gettext_noop("Our knowledge base is in %(language)s; here is what it says, quoted directly:")
MAX_PASSAGES = 2
# A second passage is quoted only when it is nearly as good as the first.
SECOND_PASSAGE_RATIO = 0.85
MAX_QUOTE_CHARS = 420
MAX_UNITS = 3
CHUNK_WORDS = 3

WORD_RE = re.compile(r"\w+", re.UNICODE)
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")
STREAM_PIECE_RE = re.compile(r"\S+\s*|\s+")

STOPWORDS = frozenset(
    """
    a an and are as at be but by can could do does did for from had has have how i if in into is it its
    me my of on or our so than that the their them then there these they this to too was we were what
    when where which who why will with would you your yours please tell about any get much many
    der die das und ist ein eine wie was wo wann ich sie es le la les un une et est des du de que qui
    el los las y es en por para con como qué het een en van ik je
    """.split()
)


def _terms(text: str) -> set[str]:
    terms = set()
    for word in WORD_RE.findall(text.lower()):
        if len(word) < 2 or word in STOPWORDS:
            continue
        terms.add(word[:-1] if len(word) > 4 and word.endswith("s") else word)
    return terms


@dataclass
class _Unit:
    """A sentence, a list item or a table row: the smallest thing we quote."""

    text: str
    table_header: str | None = None


def _units(passage_text: str) -> list[_Unit]:
    units: list[_Unit] = []
    table_header: str | None = None
    for raw_line in passage_text.splitlines():
        line = raw_line.strip()
        if not line or re.fullmatch(r"\|?\s*:?-{2,}.*", line):
            continue
        if line.startswith("#"):
            table_header = None
            continue
        if line.startswith("|"):
            if table_header is None:
                table_header = line
                continue
            units.append(_Unit(line, table_header))
            continue
        table_header = None
        units.extend(_Unit(sentence.strip()) for sentence in SENTENCE_END_RE.split(line) if sentence.strip())
    return units


def _score(unit: _Unit, question_terms: set[str]) -> float:
    overlap = len(_terms(unit.text) & question_terms)
    # A sentence that repeats the question (an FAQ's "Q:" line) is not its answer.
    return overlap * (0.5 if unit.text.rstrip().endswith("?") else 1.0)


def quote_passage(passage_text: str, question: str) -> str:
    """The best sentence for the question and what follows it, within MAX_QUOTE_CHARS."""
    units = _units(passage_text)
    if not units:
        return passage_text.strip()[:MAX_QUOTE_CHARS]
    question_terms = _terms(question)
    scores = [_score(unit, question_terms) for unit in units]
    best = max(range(len(units)), key=lambda i: (scores[i], -i))
    chosen = units[best : best + MAX_UNITS]
    parts: list[str] = []
    if chosen[0].table_header:
        parts.append(chosen[0].table_header)
    length = sum(len(p) for p in parts)
    for index, unit in enumerate(chosen):
        if index and length + len(unit.text) > MAX_QUOTE_CHARS:
            break
        parts.append(unit.text)
        length += len(unit.text) + 1
    # Table rows and list items keep their lines; sentences run on as prose.
    line_based = any(part.startswith(("|", "-", "*")) for part in parts)
    quote = ("\n" if line_based else " ").join(parts)
    if len(quote) > MAX_QUOTE_CHARS:
        quote = quote[: MAX_QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return quote


def lead_in(*, language: str, quoted: str) -> str:
    """
    The line before the quotes, in the visitor's language; it names the
    knowledge base's language when the quotes are in another one.
    """
    shown_in = language_supported(language) or language_default()
    quoted_in = language_choose(guess=language_detect(quoted))
    if quoted_in and quoted_in != shown_in:
        name = language_name(quoted_in, in_language=shown_in)
        return gettext_in(shown_in, INTRO_IN_LANGUAGE) % {"language": name}
    return gettext_in(shown_in, INTRO)


def extractive_answer(question: str, passages: Sequence[Passage], language: str = "") -> str:
    if not passages:
        return ""
    ranked = sorted(passages, key=lambda p: p.n)
    chosen = [ranked[0]]
    for passage in ranked[1:MAX_PASSAGES]:
        if passage.confidence >= ranked[0].confidence * SECOND_PASSAGE_RATIO:
            chosen.append(passage)
    quotes = []
    seen: set[str] = set()
    for passage in chosen:
        quote = quote_passage(passage.text, question)
        if quote and quote not in seen:
            seen.add(quote)
            quotes.append(f"“{quote}” [{passage.n}]")
    return lead_in(language=language, quoted="\n".join(quotes)) + "\n\n" + "\n\n".join(quotes)


class ExtractiveProvider:
    name = "extractive"
    model = ""

    async def stream(self, request: AnswerRequest) -> AsyncIterator[LLMEvent]:
        answer = extractive_answer(request.question, request.passages, request.language)
        pieces = STREAM_PIECE_RE.findall(answer)
        for start in range(0, len(pieces), CHUNK_WORDS):
            yield TextDelta("".join(pieces[start : start + CHUNK_WORDS]))
            # Hands the loop to other conversations between chunks, as a network stream would.
            await asyncio.sleep(0)
