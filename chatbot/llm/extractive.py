"""
The extractive provider: no model at all.

It answers with the lines of the knowledge base that answer the question,
quoted word for word, each cited, under a short lead-in in the visitor's
language (which names the knowledge base's language when the quotes are in
another one); lists come out as Markdown lists and table rows as a Markdown
table under their column names.
It streams the answer in small chunks like a model would, so the widget
behaves the same whichever provider runs.

How the lines are chosen. Every passage the pipeline retrieved is cut into
units: sentences, list items, table rows (a row keeps its column names). Each
unit is scored against the question by

- keyword evidence: the question's content words found in the unit, weighted
  so that a word most units share counts little ("weigh" finds "weight"; a
  synonym counts in part, through the local model's word vectors: "heavy"
  finds "weight"), and at half weight those found only in its heading path;
- meaning: the cosine between the question and the unit read with its
  heading ("Tidewater Commuter 2: Weight: 48 lb (21.8 kg)"). Only the few
  best candidates by keywords are embedded, in one batch, by the model search
  already loaded (vectors cached by text), which keeps the time before the
  first token small; without a local model, keywords decide alone. An FAQ's
  question counts with the search's own similarity of the FAQ;
- the passage's own similarity to the question.

The best unit, from whichever passage, leads. Units of its passage nearly as
good follow (a whole list when no item stands out), then the next sentence
of its paragraph; the best unit of another passage, when nearly as good,
makes a second quote. When the best unit belongs to an FAQ, the FAQ's answer
is the curated answer and is given whole.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

import numpy as np
from asgiref.sync import sync_to_async
from django.utils.translation import gettext_noop

from chatbot.llm.base import AnswerRequest, LLMEvent, Passage, TextDelta, text_chunks
from core.language import (
    gettext_in,
    language_choose,
    language_default,
    language_detect,
    language_name,
    language_supported,
)

logger = logging.getLogger(__name__)

LEAD_IN = gettext_noop("Here's what I found:")
# When the quotes are in another language than the visitor's.
LEAD_IN_IN_LANGUAGE = gettext_noop("Our knowledge base is in %(language)s; here is what it says, quoted directly:")

MAX_QUOTE_CHARS = 600  # one quote of a document; the leading unit always goes in whole
MAX_FAQ_CHARS = 1200  # an FAQ's curated answer, cut at a sentence beyond this
MAX_UNITS = 6
EMBED_CANDIDATES = 3
EMBED_CHARS = 200  # of a long unit, the start is embedded (the model's cost grows with length)
CANDIDATE_PASSAGE_WEIGHT = 0.5  # how much the passage's similarity counts in choosing them
# How the evidence adds up (calibrated on the dev halves of `python -m bench.answer_quality`).
DENSE_WEIGHT = 0.6
KEYWORD_WEIGHT = 0.3
PASSAGE_WEIGHT = 0.1
CONTEXT_SHARE = 0.5  # a question word found only in the heading
SOFT_MATCH = 0.8  # "weigh" for "weight", "return" for "returned"
SYNONYM_FLOOR = 0.4  # static word-vector similarity from which a word counts as a synonym
SYNONYM_SHARE = 0.8  # ... and the share of a match it counts for, times that similarity
# A unit joins the leading one when its score is at least this share of the leader's: an item of the
# same list (often parts of one answer), a row of the same table (rows are parallel records: another
# row is rarely wanted), another line of the same passage, the best line of another passage.
SAME_LIST_RATIO = 0.75
SAME_TABLE_RATIO = 0.85
SAME_PASSAGE_RATIO = 0.9
OTHER_PASSAGE_RATIO = 0.9
FOLLOWING_SENTENCE_CHARS = 220  # the next sentence of the paragraph follows while the quote is shorter

WORD_RE = re.compile(r"\w+", re.UNICODE)
SENTENCE_END_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'“(])")
# A list item run into the previous line ("... first. - Use only ..."), as chunk overlaps carry them.
ITEM_START_RE = re.compile(r"(?<=[.!?:;)])\s+(?=(?:[-*+\u2022]|\d{1,3}[.)])\s+\S)")
LIST_ITEM_RE = re.compile(r"^(?:([-*+\u2022])|(\d{1,3})[.)])\s+(\S.*)$")
TABLE_CELL_RE = re.compile(r"^([^:|]{1,80}):\s+(.*)$")
PAGE_SUFFIX_RE = re.compile(r"\s*\(p\.\s*\d+\)$")
# "How long", "how often": asking for a duration or a frequency, not about something long.
QUESTION_WORDS_RE = re.compile(r"\bhow\s+(?:long|often|soon|many\s+times)\b", re.IGNORECASE)
STEM_SUFFIXES = (
    "ments",
    "ment",
    "ings",
    "ing",
    "ions",
    "ion",
    "ages",
    "age",
    "able",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
    "e",
    "t",
    "y",
)

STOPWORDS = frozenset(
    """
    a an and are as at be but by can could do does did for from had has have how i if in into is it its
    me my of on or our so than that the their them then there these they this to too was we were what
    when where which who why will with would you your yours please tell about any get much many like want need
    der die das und ist ein eine wie was wo wann ich sie es le la les un une et est des du de que qui
    el los las y es en por para con como qué het een en van ik je
    """.split()
)


def _terms(text: str) -> set[str]:
    """Content words, lowercased, plurals made singular ("companies" -> "company", "bikes" -> "bike")."""
    terms = set()
    for word in WORD_RE.findall(text.lower()):
        if len(word) < 2 or word in STOPWORDS:
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 4 and word.endswith("s"):
            word = word[:-1]
        terms.add(word)
    return terms


@dataclass(eq=False)
class _Unit:
    """A sentence, a list item or a table row: the smallest thing quoted."""

    passage: Passage
    kind: str  # "sentence", "item", "row", or "question" (an FAQ's question: matched, never quoted)
    text: str
    block: int  # the paragraph, list or table it belongs to, within its passage
    order: int
    context: str  # the section heading, or the FAQ's question: read with the unit when it is embedded
    marker: str = ""  # a list item's "- " or "3. "
    fields: tuple[tuple[str, str], ...] = ()  # a table row's (column, value) pairs
    path: str = ""  # the whole heading path ("Warranty > Coverage periods"): where keywords may also be found
    terms: set[str] = field(default_factory=set)
    keyword: float = 0.0
    dense: float | None = None
    score: float = 0.0

    @property
    def embed_text(self) -> str:
        text = self.text if self.kind == "question" or not self.context else f"{self.context}: {self.text}"
        return text[:EMBED_CHARS]


# --- Cutting passages into units ----------------------------------------------------------------


def _heading_path(passage: Passage) -> str:
    """Where a passage comes from, "Tidewater e-bike range > Tidewater Commuter 2", without its page."""
    return PAGE_SUFFIX_RE.sub("", passage.title).strip()


def _row_fields(line: str) -> tuple[tuple[str, str], ...]:
    """A table row as the extractor writes it, "Column: value | Column: value"; () for anything else."""
    parts = line.split(" | ")
    if len(parts) < 2:
        return ()
    cells = [TABLE_CELL_RE.match(part.strip()) for part in parts]
    if not all(cells):
        return ()
    return tuple((cell.group(1).strip(), cell.group(2).strip()) for cell in cells)  # type: ignore[union-attr]


def passage_units(passage: Passage) -> list[_Unit]:
    """The units of one passage, in document order; an FAQ's question comes first, as a unit of its own."""
    text = passage.text
    units: list[_Unit] = []
    path = _heading_path(passage)
    context = path.split(" > ")[-1].strip()
    if passage.source_type == "faq":
        question, _, text = text.partition("\n")
        context = path = question.strip()
        units.append(_Unit(passage, "question", context, block=0, order=0, context=context, path=path))
    block = 0
    previous = ""

    def add(kind: str, unit_text: str, **extra) -> None:
        units.append(
            _Unit(passage, kind, unit_text, block=block, order=len(units), context=context, path=path, **extra)
        )

    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if not line:
            previous = ""
            continue
        fields = _row_fields(line)
        if fields:
            columns = [name for name, _ in fields]
            if previous != "row" or [name for name, _ in units[-1].fields] != columns:
                block += 1
            add("row", line, fields=fields)
            previous = "row"
            continue
        for piece in ITEM_START_RE.split(line):
            item = LIST_ITEM_RE.match(piece)
            if item:
                if previous != "item":
                    block += 1
                add("item", item.group(3).strip(), marker=f"{item.group(2)}. " if item.group(2) else "- ")
                previous = "item"
                continue
            block += 1
            for sentence in SENTENCE_END_RE.split(piece):
                if sentence.strip():
                    add("sentence", sentence.strip())
            previous = "sentence"
    return units


# --- Scoring ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """A crude stem of a term (`_terms` made plurals singular), enough to match "covered" with "coverage"."""
    for suffix in STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            # "shipping" -> "shipp" -> "ship"
            return word[:-1] if word[-1] == word[-2] and word[-1] not in "aeiou" else word
    return word


def _match(term: str, terms: set[str], similar: dict[tuple[str, str], float]) -> float:
    if term in terms:
        return 1.0
    stem = _stem(term)
    best = 0.0
    for other in terms:
        if _stem(other) == stem:
            return SOFT_MATCH
        best = max(best, similar.get((term, other), 0.0))
    return best


def _similar_words(wanted: set[str], vocabulary: set[str]) -> dict[tuple[str, str], float]:
    """
    (question word, unit word) pairs whose static word vectors are close
    ("heavy", "weight"), with their similarity scaled by SYNONYM_SHARE; empty
    when the local model's files cannot be read.
    """
    from knowledge.embeddings import word_vector

    asked = sorted(term for term in wanted if term.isalpha() and len(term) >= 3)
    known = sorted(term for term in vocabulary - wanted if term.isalpha() and len(term) >= 3)
    if not asked or not known:
        return {}
    try:
        similarity = np.stack([word_vector(term) for term in asked]) @ np.stack([word_vector(term) for term in known]).T
    except Exception as exc:  # noqa: BLE001 - a missing or odd model file only costs the synonyms
        logger.warning("extractive answer without word vectors (%s)", exc)
        return {}
    rows, columns = np.nonzero(similarity >= SYNONYM_FLOOR)
    return {(asked[i], known[j]): SYNONYM_SHARE * float(similarity[i, j]) for i, j in zip(rows, columns, strict=False)}


def _keyword_scores(question: str, units: list[_Unit]) -> None:
    """
    The share of the question's content words found in each unit (a synonym
    counts in part) or, at CONTEXT_SHARE, only in its heading; a word found in
    many units weighs little.
    """
    wanted = _terms(QUESTION_WORDS_RE.sub(" ", question))
    for unit in units:
        unit.terms = _terms(unit.text)
    if not wanted:
        return
    context_terms = {unit.path: _terms(unit.path) for unit in units}
    vocabulary = set().union(*(unit.terms for unit in units), *context_terms.values())
    similar = _similar_words(wanted, vocabulary)
    count = len(units)
    weights = {}
    for term in wanted:
        frequency = sum(1 for unit in units if _match(term, unit.terms, {}))
        weights[term] = math.log((count - frequency + 0.5) / (frequency + 0.5) + 1.0)
    total = sum(weights.values()) or 1.0
    for unit in units:
        heading_terms = context_terms[unit.path]
        found = sum(
            weight * max(_match(term, unit.terms, similar), CONTEXT_SHARE * _match(term, heading_terms, similar))
            for term, weight in weights.items()
        )
        unit.keyword = found / total


def _dense_scores(question: str, candidates: list[_Unit]) -> None:
    """Cosine of each candidate to the question with the local embedding model; left None without one."""
    from knowledge.embeddings import EmbeddingError, get_provider

    provider = get_provider()
    embed_few = getattr(provider, "embed_few", None)
    if embed_few is None or not candidates:
        return
    try:
        vectors = embed_few([question, *(unit.embed_text for unit in candidates)])
    except EmbeddingError as exc:
        logger.warning("extractive answer without sentence embeddings (%s): keywords only", exc)
        return
    for unit, vector in zip(candidates, vectors[1:], strict=False):
        unit.dense = float(vector @ vectors[0])


def score_units(question: str, units: list[_Unit]) -> None:
    _keyword_scores(question, units)
    for unit in units:
        if unit.kind == "question":
            # The search's own similarity of the FAQ (its question's and its question and answer's): a
            # question is closer to another question than to the line that answers it, and an FAQ on
            # the battery's life must not win a question on the battery's warranty on its wording.
            unit.dense = unit.passage.confidence
    prior = {id(unit): unit.keyword + CANDIDATE_PASSAGE_WEIGHT * unit.passage.confidence for unit in units}
    candidates = sorted(
        (unit for unit in units if unit.dense is None), key=lambda unit: (-prior[id(unit)], unit.passage.n, unit.order)
    )
    _dense_scores(question, candidates[:EMBED_CANDIDATES])
    embedded = [unit.dense for unit in units if unit.dense is not None]
    # A unit not embedded is assumed no closer in meaning than the least close candidate.
    floor = min(embedded) if embedded else None
    for unit in units:
        dense = unit.dense if unit.dense is not None else floor
        passage = PASSAGE_WEIGHT * unit.passage.confidence
        if dense is None:
            unit.score = (KEYWORD_WEIGHT * unit.keyword + passage) / (KEYWORD_WEIGHT + PASSAGE_WEIGHT)
        else:
            unit.score = DENSE_WEIGHT * dense + KEYWORD_WEIGHT * unit.keyword + passage
        if unit.kind == "sentence" and unit.text.endswith("?"):
            unit.score *= 0.8  # a question in a document asks; the line after it answers


# --- Choosing and writing the quotes ------------------------------------------------------------------


def _quote_units(best: _Unit, units: list[_Unit]) -> list[_Unit]:
    """The leading unit, the units of its passage nearly as good, the next sentence of its paragraph."""
    own = [unit for unit in units if unit.passage is best.passage and unit.kind != "question"]
    chosen = [best]
    for unit in own:
        if unit is best:
            continue
        ratio = SAME_PASSAGE_RATIO
        if unit.block == best.block and unit.kind in {"item", "row"}:
            ratio = SAME_LIST_RATIO if unit.kind == "item" else SAME_TABLE_RATIO
        if unit.score >= best.score * ratio:
            chosen.append(unit)
    if best.kind == "sentence":
        following = [unit for unit in own if unit.block == best.block and unit.order > best.order]
        if following and following[0] not in chosen and sum(len(u.text) for u in chosen) < FOLLOWING_SENTENCE_CHARS:
            chosen.append(following[0])
    rest = sorted(chosen[1:], key=lambda unit: unit.order)
    kept = [best]
    length = len(best.text)
    for unit in rest:
        if len(kept) >= MAX_UNITS or length + len(unit.text) > MAX_QUOTE_CHARS:
            continue
        kept.append(unit)
        length += len(unit.text)
    return kept


def render_units(units: list[_Unit], citation: str) -> str:
    """Runs of sentences as a paragraph, list items as a list, table rows as a table; each ends with the citation."""
    runs: list[list[_Unit]] = []
    for unit in units:
        if runs and runs[-1][-1].kind == unit.kind and (unit.kind == "sentence" or runs[-1][-1].block == unit.block):
            runs[-1].append(unit)
        else:
            runs.append([unit])
    rendered = []
    for run in runs:
        if run[0].kind == "row":
            columns = [name for name, _ in run[0].fields]
            lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
            lines += ["| " + " | ".join(_table_cell(value) for _, value in unit.fields) + " |" for unit in run]
            lines[-1] = f"{lines[-1][:-2]} {citation} |"
        elif run[0].kind == "item" and len(run) > 1:
            lines = [unit.marker + unit.text for unit in run]
            lines[-1] += f" {citation}"
        else:
            lines = [" ".join(unit.text for unit in run) + f" {citation}"]
        rendered.append("\n".join(lines))
    return "\n\n".join(rendered)


def _table_cell(value: str) -> str:
    return value.replace("|", "/")


def _faq_answer(passage: Passage) -> str:
    """An FAQ's answer as written, cut at a sentence end past MAX_FAQ_CHARS, with its citation."""
    answer = passage.text.partition("\n")[2].strip() if passage.source_type == "faq" else passage.text.strip()
    if len(answer) > MAX_FAQ_CHARS:
        cut = answer[:MAX_FAQ_CHARS]
        end = max(cut.rfind(". "), cut.rfind(".\n"), cut.rfind("\n"))
        answer = cut[: end + 1].rstrip() if end > MAX_FAQ_CHARS // 2 else cut.rsplit(" ", 1)[0] + "…"
    return f"{answer} [{passage.n}]"


def _quote(best: _Unit, units: list[_Unit]) -> str:
    if best.passage.source_type == "faq":
        return _faq_answer(best.passage)
    return render_units(_quote_units(best, units), f"[{best.passage.n}]")


def lead_in(*, language: str, quoted: str, faq: bool = False) -> str:
    """
    The line before the quotes, in the visitor's language; it names the
    knowledge base's language when the quotes are in another one. An FAQ's
    curated answer in the visitor's language needs none ("").
    """
    shown_in = language_supported(language) or language_default()
    quoted_in = language_choose(guess=language_detect(quoted))
    if quoted_in and quoted_in != shown_in:
        name = language_name(quoted_in, in_language=shown_in)
        return gettext_in(shown_in, LEAD_IN_IN_LANGUAGE) % {"language": name}
    return "" if faq else gettext_in(shown_in, LEAD_IN)


def extractive_answer(question: str, passages: Sequence[Passage], language: str = "") -> str:
    """
    The answer text for `question` from `passages` (blocking: it may embed a
    few sentences); fixed texts in `language` (the visitor's; the site's by default).
    """
    if not passages:
        return ""
    units: list[_Unit] = []
    seen: set[str] = set()
    for passage in sorted(passages, key=lambda p: p.n):
        for unit in passage_units(passage):
            # A chunk repeats the end of the previous one; a line is scored once.
            key = f"{unit.kind}:{unit.text}"
            if key not in seen:
                seen.add(key)
                units.append(unit)
    if not units:
        return ""
    score_units(question, units)
    ranked = sorted(units, key=lambda unit: (-unit.score, unit.passage.n, unit.order))
    best = ranked[0]
    quotes = [_quote(best, units)]
    second = next((unit for unit in ranked if unit.passage is not best.passage), None)
    if second is not None and second.score >= best.score * OTHER_PASSAGE_RATIO:
        quotes.append(_quote(second, units))
    quoted = "\n\n".join(quotes)
    introduction = lead_in(language=language, quoted=quoted, faq=best.passage.source_type == "faq")
    return f"{introduction}\n\n{quoted}" if introduction else quoted


class ExtractiveProvider:
    name = "extractive"
    model = ""

    async def stream(self, request: AnswerRequest) -> AsyncGenerator[LLMEvent, None]:
        answer = await sync_to_async(extractive_answer, thread_sensitive=False)(
            request.question, request.passages, request.language
        )
        for chunk in text_chunks(answer):
            yield TextDelta(chunk)
            # Hands the loop to other conversations between chunks, as a network stream would.
            await asyncio.sleep(0)
