"""
Chunking that follows the document's structure.

Every heading starts a new chunk, so each chunk has exactly one heading path
("Returns policy > Refunds"). Inside a section, whole units are packed into
chunks of at most `max_tokens` tokens (counted with the embedding model's own
tokenizer): a paragraph, a whole list, a whole table. A unit that does not fit
is split at its natural joints (list items, table rows, then sentences) and
only as a last resort at token boundaries. A chunk that continues a section
repeats the end of the previous one (up to `overlap_tokens`) so a fact that
straddles the cut is still found.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass

from knowledge.extraction import Block

SENTENCE_RE = re.compile(r"(?<=[.!?;:])\s+(?=[\"'(\[A-Z0-9])")
HEADING_SEPARATOR = " > "

TokenCounter = Callable[[str], int]


@dataclass(frozen=True)
class ChunkDraft:
    text: str
    heading_path: str
    page: int | None
    token_count: int


@dataclass
class _Unit:
    text: str
    tokens: int
    page: int | None
    joiner: str  # how this unit is joined to the one before it


def search_text(*, heading_path: str, title: str, text: str) -> str:
    """What gets embedded and keyword-indexed: the context line, then the passage."""
    context = heading_path or title
    return f"{context}\n{text}" if context and context not in text[: len(context) + 5] else text


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_blocks(
    *,
    blocks: list[Block],
    title: str,
    max_tokens: int,
    overlap_tokens: int,
    count_tokens: TokenCounter,
) -> list[ChunkDraft]:
    overlap_tokens = min(overlap_tokens, max_tokens // 2)
    chunks: list[ChunkDraft] = []
    headings: list[tuple[int, str]] = []
    section: list[Block] = []

    def flush_section() -> None:
        if not section:
            return
        path = HEADING_SEPARATOR.join(text for _, text in headings)
        units = _units(
            section,
            max_tokens=max_tokens,
            piece_tokens=max(max_tokens - overlap_tokens - 1, 8),
            count_tokens=count_tokens,
        )
        chunks.extend(
            _pack(
                units,
                heading_path=path,
                max_tokens=max_tokens,
                overlap_tokens=overlap_tokens,
                count_tokens=count_tokens,
            )
        )
        section.clear()

    for block in blocks:
        if block.kind == "heading":
            flush_section()
            while headings and headings[-1][0] >= block.level:
                headings.pop()
            headings.append((block.level, block.text))
        else:
            section.append(block)
    flush_section()
    return chunks


def _units(section: list[Block], *, max_tokens: int, piece_tokens: int, count_tokens: TokenCounter) -> list[_Unit]:
    """
    Paragraphs, whole lists and whole tables; split further only when one alone
    is too big. Pieces of a split paragraph leave room for the overlap.
    """
    grouped: list[list[Block]] = []
    for block in section:
        if (
            block.group is not None
            and grouped
            and grouped[-1][-1].group == block.group
            and grouped[-1][-1].kind == block.kind
        ):
            grouped[-1].append(block)
        else:
            grouped.append([block])

    units: list[_Unit] = []
    for group in grouped:
        joined = "\n".join(_render(block) for block in group)
        tokens = count_tokens(joined)
        if tokens <= max_tokens:
            units.append(_Unit(joined, tokens, group[0].page, "\n\n"))
            continue
        first = True
        for block in group:
            rendered = _render(block)
            joiner = "\n\n" if first else "\n"
            first = False
            block_tokens = count_tokens(rendered)
            if block_tokens <= max_tokens:
                units.append(_Unit(rendered, block_tokens, block.page, joiner))
                continue
            for piece in _split_long(rendered, max_tokens=piece_tokens, count_tokens=count_tokens):
                units.append(_Unit(piece, count_tokens(piece), block.page, joiner))
                joiner = " "
    return units


def _render(block: Block) -> str:
    if block.kind == "list_item":
        stripped = block.text.lstrip()
        indent = block.text[: len(block.text) - len(stripped)]
        return block.text if re.match(r"\d+\.\s", stripped) else f"{indent}- {stripped}"
    return block.text


def _split_long(text: str, *, max_tokens: int, count_tokens: TokenCounter) -> list[str]:
    """Sentences packed up to max_tokens; a sentence longer than that is cut by words."""
    pieces: list[str] = []
    current = ""
    current_tokens = 0
    for sentence in SENTENCE_RE.split(text):
        cost = count_tokens(sentence)
        if current_tokens + cost <= max_tokens:
            current = f"{current} {sentence}".strip()
            current_tokens += cost
            continue
        if current:
            pieces.append(current)
        if cost <= max_tokens:
            current, current_tokens = sentence, cost
            continue
        words: list[str] = []
        used = 0
        for word in sentence.split():
            cost = count_tokens(word)
            if words and used + cost > max_tokens:
                pieces.append(" ".join(words))
                words, used = [], 0
            words.append(word)
            used += cost
        current, current_tokens = " ".join(words), used
    if current:
        pieces.append(current)
    return pieces


def _pack(
    units: list[_Unit], *, heading_path: str, max_tokens: int, overlap_tokens: int, count_tokens: TokenCounter
) -> list[ChunkDraft]:
    drafts: list[ChunkDraft] = []
    current: list[_Unit] = []
    used = 0
    budget = max_tokens
    carried = ""  # the end of the previous chunk, repeated at the start of the next

    def emit() -> None:
        nonlocal current, used, carried
        body = _join(current)
        text = f"{carried} {body}" if carried else body
        # WordPiece splits on whitespace first, so pieces joined by whitespace count as their sum.
        tokens = used + (count_tokens(carried) if carried else 0)
        drafts.append(ChunkDraft(text=text, heading_path=heading_path, page=current[0].page, token_count=tokens))
        carried = _tail(body, overlap_tokens=overlap_tokens, count_tokens=count_tokens) if overlap_tokens else ""
        current, used = [], 0

    for unit in units:
        if current and used + unit.tokens > budget:
            emit()
        if not current:
            carried_cost = count_tokens(carried) if carried else 0
            if carried_cost + unit.tokens > max_tokens:
                carried, carried_cost = "", 0
            budget = max_tokens - carried_cost
            used = unit.tokens
        else:
            used += unit.tokens
        current.append(unit)
    if current:
        emit()
    return drafts


def _join(units: list[_Unit]) -> str:
    parts: list[str] = []
    for index, unit in enumerate(units):
        if index:
            parts.append(unit.joiner)
        parts.append(unit.text)
    return "".join(parts)


def _tail(text: str, *, overlap_tokens: int, count_tokens: TokenCounter) -> str:
    """The last whole sentences (or, failing that, words) of `text` within overlap_tokens."""
    sentences = SENTENCE_RE.split(text.replace("\n", " "))
    tail = ""
    used = 0
    for sentence in reversed(sentences):
        cost = count_tokens(sentence)
        if used + cost > overlap_tokens:
            break
        tail = f"{sentence} {tail}".strip()
        used += cost
    if tail:
        return tail
    tail_words: list[str] = []
    for word in reversed(text.split()):
        cost = count_tokens(word)
        if used + cost > overlap_tokens:
            break
        tail_words.insert(0, word)
        used += cost
    return " ".join(tail_words)
