"""
PDF, through pypdf: lines with their font and position (see `extract_pdf`),
the page furniture dropped (`pdf_body_lines`), then headings, paragraphs and
list items told apart (`_pdf_blocks`).
"""

from __future__ import annotations

import io
import re
import statistics
from collections import Counter
from dataclasses import dataclass

from knowledge.extraction.common import BULLET_RE, Block, Extracted, ExtractionError, clean


@dataclass
class _PdfLine:
    page: int
    y: float
    size: float
    bold: bool
    text: str


def extract_pdf(data: bytes) -> Extracted:
    """
    pypdf's text visitor gives each run of text its font and position. Lines set
    noticeably larger (or bold and short) than the body text are headings,
    ranked by size; body lines are joined into paragraphs and list items unless
    the vertical gap says a new paragraph starts.
    """
    import pypdf
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                reader.decrypt("")
                _ = reader.pages[0].extract_text() if reader.pages else ""
            except Exception:  # noqa: BLE001 - any failure here means "needs a password"
                raise ExtractionError("The PDF is password-protected; upload an unprotected copy.") from None
        page_count = len(reader.pages)
    except ExtractionError:
        raise
    except FileNotDecryptedError:
        raise ExtractionError("The PDF is password-protected; upload an unprotected copy.") from None
    except (PdfReadError, ValueError, TypeError, KeyError, IndexError, OSError, AttributeError) as exc:
        raise ExtractionError(f"The file is not a readable PDF (it may be damaged): {exc}") from None
    if page_count == 0:
        raise ExtractionError("The PDF has no pages.")

    pages: list[list[_PdfLine]] = []
    try:
        for number, page in enumerate(reader.pages, start=1):
            pages.append(_pdf_page_lines(page, number))
    except FileNotDecryptedError:
        raise ExtractionError("The PDF is password-protected; upload an unprotected copy.") from None
    except ExtractionError:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf raises many kinds on damaged files
        raise ExtractionError(f"The PDF could not be read (it may be damaged): {exc}") from None

    title = ""
    try:
        metadata = reader.metadata
        title = clean(str(metadata.title)) if metadata and metadata.title else ""
    except Exception:  # noqa: BLE001 - metadata is optional
        title = ""
    blocks = _pdf_blocks(pdf_body_lines(pages))
    if not title:
        title = next((block.text for block in blocks if block.kind == "heading"), "")
    return Extracted(title=title, blocks=blocks)


def _pdf_page_lines(page, number: int) -> list[_PdfLine]:
    runs: list[tuple[float, float, bool, str]] = []

    def visitor(text, cm, tm, font_dict, font_size):
        if not text or not text.strip():
            return
        scale = abs(tm[3] * cm[3]) or 1.0
        font_name = str(font_dict.get("/BaseFont", "")) if font_dict else ""
        y = tm[5] * cm[3] + cm[5]
        for part in text.split("\n"):
            if part.strip():
                runs.append((round(y, 1), float(font_size) * scale, "bold" in font_name.lower(), part))

    page.extract_text(visitor_text=visitor)
    lines: list[_PdfLine] = []
    for y, size, bold, text in runs:
        if lines and abs(lines[-1].y - y) < 1.0 and lines[-1].page == number:
            lines[-1].text += ("" if lines[-1].text.endswith(" ") else " ") + text.strip()
            continue
        lines.append(_PdfLine(page=number, y=y, size=size, bold=bold, text=text.strip()))
    if not lines:
        fallback = page.extract_text() or ""
        lines = [
            _PdfLine(page=number, y=0.0, size=0.0, bold=False, text=line.strip())
            for line in fallback.splitlines()
            if line.strip()
        ]
    return lines


# A page number alone on its line: "12", "- 12 -", "Page 3 of 10", "p. 4", "3/10", "iv".
PAGE_NUMBER_RE = re.compile(
    r"^[^\w]*(?:(?:page|p\.|pg\.?|seite|s\.|página|pagina|pág\.)\s*)?(?:\d{1,4}|[ivxlc]{1,7})"
    r"(?:\s*(?:of|/|de|von|sur|van|di)\s*\d{1,4})?[^\w]*$",
    re.IGNORECASE,
)
# How many lines at the top and at the bottom of a page can be running headers or footers.
FURNITURE_EDGE_LINES = 2


def pdf_body_lines(pages: list[list[_PdfLine]]) -> list[_PdfLine]:
    """
    The lines of every page without its furniture: running headers and footers
    (a line among the top or bottom FURNITURE_EDGE_LINES of a page whose text,
    digits aside, recurs there on at least half of the pages, and on two or more)
    and page numbers at the top or bottom of a page. Quoted answers would
    otherwise carry "- 92 -" or the manual's title in the middle of a sentence.
    """
    edges: list[list[_PdfLine]] = []
    for lines in pages:
        # Visual order from the positions when pypdf gave them; content order otherwise.
        ordered = sorted(lines, key=lambda line: -line.y) if len({line.y for line in lines}) > 1 else list(lines)
        edge = (
            ordered[:FURNITURE_EDGE_LINES] + ordered[max(FURNITURE_EDGE_LINES, len(ordered) - FURNITURE_EDGE_LINES) :]
        )
        edges.append(edge)
    recurring: Counter[str] = Counter()
    for edge in edges:
        recurring.update({_furniture_key(line.text) for line in edge})
    needed = max(2, -(-len(pages) // 2))
    furniture = {key for key, count in recurring.items() if count >= needed}
    body: list[_PdfLine] = []
    for lines, edge in zip(pages, edges, strict=False):
        dropped = {
            id(line)
            for line in edge
            if _furniture_key(line.text) in furniture or PAGE_NUMBER_RE.match(line.text.strip())
        }
        body.extend(line for line in lines if id(line) not in dropped)
    return body


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", clean(text).lower())


def _pdf_blocks(lines: list[_PdfLine]) -> list[Block]:
    if not lines:
        return []
    weights: Counter[float] = Counter()
    for line in lines:
        weights[round(line.size, 1)] += len(line.text)
    body_size = weights.most_common(1)[0][0] or 0.0
    body_bold: Counter[bool] = Counter()
    for line in lines:
        if round(line.size, 1) == body_size:
            body_bold[line.bold] += len(line.text)
    body_is_bold = body_bold.most_common(1)[0][0] if body_bold else False

    def is_heading(line: _PdfLine) -> bool:
        if body_size <= 0 or len(line.text) > 150 or BULLET_RE.match(line.text):
            return False
        if line.size >= body_size * 1.15:
            return True
        return line.bold and not body_is_bold and len(line.text) < 100 and not line.text.endswith((".", ",", ";"))

    heading_sizes = sorted({round(line.size, 1) for line in lines if is_heading(line)}, reverse=True)
    gaps = [
        prev.y - line.y
        for prev, line in zip(lines, lines[1:], strict=False)
        if prev.page == line.page and not is_heading(prev) and not is_heading(line) and prev.y - line.y > 0
    ]
    line_gap = statistics.median(gaps) if gaps else 0.0

    blocks: list[Block] = []
    group = 0
    previous: _PdfLine | None = None
    for line in lines:
        if is_heading(line):
            level = heading_sizes.index(round(line.size, 1)) + 1 if round(line.size, 1) in heading_sizes else 1
            if (
                blocks
                and blocks[-1].kind == "heading"
                and previous is not None
                and previous.page == line.page
                and blocks[-1].level == min(level, 6)
                and previous.y - line.y < line.size * 1.6
            ):
                blocks[-1].text += " " + line.text
            else:
                blocks.append(Block("heading", line.text, level=min(level, 6), page=line.page))
            previous = line
            continue
        bullet = BULLET_RE.match(line.text)
        continues = (
            previous is not None
            and blocks
            and blocks[-1].kind in {"paragraph", "list_item"}
            and previous.page == line.page
            and not bullet
            and (line_gap == 0.0 or 0 < previous.y - line.y <= line_gap * 1.25)
        )
        if continues:
            blocks[-1].text += " " + line.text
        elif bullet:
            if not blocks or blocks[-1].kind != "list_item":
                group += 1
            blocks.append(Block("list_item", line.text[bullet.end() :].strip(), page=line.page, group=group))
        else:
            blocks.append(Block("paragraph", line.text, page=line.page))
        previous = line
    for block in blocks:
        block.text = clean(block.text)
    return [block for block in blocks if block.text]
