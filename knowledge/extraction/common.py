"""What every format's extractor shares: the blocks it produces, its error, text decoding and table rows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

BULLET_RE = re.compile(r"^\s*(?:[-*+\u2022\u2013\u25aa\u25cf]|\d{1,3}[.)])\s+")


class ExtractionError(Exception):
    """The input cannot be turned into text; the message is shown to staff as is."""


@dataclass
class Block:
    kind: str  # "heading" | "paragraph" | "list_item" | "table_row" | "code"
    text: str
    level: int = 0  # headings: 1 for the top level
    page: int | None = None
    group: int | None = None  # list items / table rows of one list / table share a group


@dataclass
class Extracted:
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def text_length(self) -> int:
        return sum(len(block.text) for block in self.blocks if block.kind != "heading")


def clean(text: str) -> str:
    """Runs of whitespace (newlines included) become one space; ends trimmed."""
    return re.sub(r"\s+", " ", text).strip()


def decode_text(data: bytes, *, kind: str = "text") -> str:
    """UTF-8 (with or without BOM), else UTF-16 with BOM, else Windows-1252; binary is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    sample = data[:65536]
    if b"\x00" in sample or _control_ratio(sample) > 0.05:
        label = {"markdown": "Markdown", "html": "HTML"}.get(kind, "text")
        raise ExtractionError(f"The file is named as {label} but contains binary data, not text.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return controls / len(sample)


def table_blocks(rows: list[list[str]], group: int, page: int | None = None) -> list[Block]:
    """Each row becomes "Header: value | Header: value" so that it reads on its own."""
    rows = [[clean(cell) for cell in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    header = rows[0]
    has_header = len(rows) > 1 and all(header) and len(set(header)) == len(header)
    body = rows[1:] if has_header else rows
    blocks = []
    for row in body:
        if has_header:
            parts = [f"{name}: {value}" for name, value in zip(header, row, strict=False) if value]
        else:
            parts = [value for value in row if value]
        blocks.append(Block("table_row", " | ".join(parts), page=page, group=group))
    return blocks
