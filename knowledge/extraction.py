"""
Text extraction that keeps a document's structure.

Every format becomes the same list of `Block`s (headings with their level,
paragraphs, list items, table rows, code), each with the PDF page it came from,
so that chunking can keep sections, lists and tables together and cite
"Returns policy > Refunds (p. 2)".

Anything wrong with the input raises `ExtractionError` with a message written
for the person who uploaded the file; it is shown in admin as is.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import statistics
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

MAX_DOCX_EXPANDED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200
SUPPORTED_SUFFIXES = {".pdf", ".docx", ".md", ".markdown", ".html", ".htm", ".txt", ".text"}
BULLET_RE = re.compile(r"^\s*(?:[-*+\u2022\u2013\u25aa\u25cf]|\d{1,3}[.)])\s+")
HTML_DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "header",
    "footer",
    "aside",
    "form",
    "svg",
    "iframe",
    "object",
    "embed",
    "canvas",
    "button",
    "select",
    "head",
]


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


def detect_format(*, filename: str = "", content_type: str = "", data: bytes = b"") -> str:
    """pdf, docx, markdown, html or text; from the name first, then the content type, then the bytes."""
    suffix = PurePosixPath(filename.lower().split("?")[0]).suffix
    by_suffix = {
        ".pdf": "pdf",
        ".docx": "docx",
        ".md": "markdown",
        ".markdown": "markdown",
        ".html": "html",
        ".htm": "html",
        ".txt": "text",
        ".text": "text",
    }
    if suffix in by_suffix:
        return by_suffix[suffix]
    mime = content_type.split(";")[0].strip().lower()
    by_mime = {
        "application/pdf": "pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
        "text/markdown": "markdown",
        "text/x-markdown": "markdown",
        "text/html": "html",
        "application/xhtml+xml": "html",
        "text/plain": "text",
    }
    if mime in by_mime:
        return by_mime[mime]
    head = data[:1024].lstrip().lower()
    if head.startswith(b"%pdf"):
        return "pdf"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    if suffix and suffix not in SUPPORTED_SUFFIXES:
        raise ExtractionError(
            f"Files of type {suffix} are not supported; upload PDF, DOCX, Markdown, HTML or plain text."
        )
    return "text"


def extract(*, data: bytes, filename: str = "", content_type: str = "", fallback_title: str = "") -> Extracted:
    """Blocks and a title for one file or fetched page."""
    if not data or not data.strip():
        raise ExtractionError("The file is empty.")
    kind = detect_format(filename=filename, content_type=content_type, data=data)
    extractor = {
        "pdf": extract_pdf,
        "docx": extract_docx,
        "markdown": extract_markdown,
        "html": extract_html,
        "text": extract_text,
    }[kind]
    if kind in {"markdown", "html", "text"}:
        result = extractor(decode_text(data, kind=kind))
    else:
        result = extractor(data)
    if not result.blocks or result.text_length == 0:
        raise ExtractionError(
            "The scanned PDF has no text layer; run it through OCR first."
            if kind == "pdf"
            else "The file contains no text."
        )
    if not result.title:
        result.title = fallback_title or _title_from_filename(filename)
    return result


def _title_from_filename(filename: str) -> str:
    stem = PurePosixPath(filename).stem if filename else ""
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or "Untitled"


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


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --- PDF ---------------------------------------------------------------------------


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
        title = _clean(str(metadata.title)) if metadata and metadata.title else ""
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
    recurring = Counter()
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
    return re.sub(r"\d+", "#", _clean(text).lower())


def _pdf_blocks(lines: list[_PdfLine]) -> list[Block]:
    if not lines:
        return []
    weights = Counter()
    for line in lines:
        weights[round(line.size, 1)] += len(line.text)
    body_size = weights.most_common(1)[0][0] or 0.0
    body_bold = Counter()
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
        block.text = _clean(block.text)
    return [block for block in blocks if block.text]


# --- DOCX ----------------------------------------------------------------------------


def _check_docx_zip(data: bytes) -> None:
    """Refuses non-zip files and zip bombs before python-docx inflates anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ExtractionError("The file is not a valid DOCX document (it is not a Word zip package).") from None
    with archive:
        infos = archive.infolist()
        total = sum(info.file_size for info in infos)
        if total > MAX_DOCX_EXPANDED_BYTES:
            raise ExtractionError(
                f"The DOCX expands to {total / 1e6:,.0f} MB, more than the "
                f"{MAX_DOCX_EXPANDED_BYTES / 1e6:,.0f} MB allowed: it looks like a zip bomb."
            )
        for info in infos:
            if (
                info.compress_size
                and info.file_size > 1_000_000
                and info.file_size / info.compress_size > MAX_ZIP_RATIO
            ):
                raise ExtractionError(
                    f"The DOCX part {info.filename} is compressed {info.file_size // info.compress_size}:1: "
                    "it looks like a zip bomb."
                )
        if "word/document.xml" not in archive.namelist():
            raise ExtractionError("The file is a zip archive but not a Word (DOCX) document.")


def extract_docx(data: bytes) -> Extracted:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_docx_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds on damaged files
        raise ExtractionError(f"The DOCX document could not be read (it may be damaged): {exc}") from None

    blocks: list[Block] = []
    group = 0
    numbers: dict[int, int] = {}
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = _clean(item.text)
            if not text:
                continue
            style = (item.style.name if item.style is not None else "") or ""
            heading_level = _docx_heading_level(style)
            if heading_level:
                blocks.append(Block("heading", text, level=heading_level))
                continue
            numbered = "number" in style.lower()
            is_list = style.lower().startswith("list") or item._p.pPr is not None and item._p.pPr.numPr is not None
            if is_list:
                if not blocks or blocks[-1].kind != "list_item":
                    group += 1
                if numbered:
                    numbers[group] = numbers.get(group, 0) + 1
                    text = f"{numbers[group]}. {text}"
                blocks.append(Block("list_item", text, group=group))
            else:
                blocks.append(Block("paragraph", text))
        elif isinstance(item, Table):
            group += 1
            blocks.extend(_table_blocks([[cell.text for cell in _unique_cells(row)] for row in item.rows], group))
    title = ""
    try:
        title = _clean(document.core_properties.title or "")
    except Exception:  # noqa: BLE001 - metadata is optional
        title = ""
    if not title:
        title = next((block.text for block in blocks if block.kind == "heading"), "")
    return Extracted(title=title, blocks=blocks)


def _unique_cells(row) -> list:
    """Merged cells repeat in python-docx's row.cells; keep each once."""
    seen: set[int] = set()
    cells = []
    for cell in row.cells:
        if id(cell._tc) in seen:
            continue
        seen.add(id(cell._tc))
        cells.append(cell)
    return cells


def _docx_heading_level(style: str) -> int:
    lowered = style.lower()
    if lowered == "title":
        return 1
    match = re.match(r"heading\s*(\d)", lowered)
    return int(match.group(1)) if match else 0


def _table_blocks(rows: list[list[str]], group: int, page: int | None = None) -> list[Block]:
    """Each row becomes "Header: value | Header: value" so that it reads on its own."""
    rows = [[_clean(cell) for cell in row] for row in rows]
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


# --- Markdown --------------------------------------------------------------------------


@functools.cache
def _markdown_parser():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table")


def extract_markdown(text: str) -> Extracted:
    tokens = _markdown_parser().parse(text)
    blocks: list[Block] = []
    group = 0
    list_depth = 0
    ordered_counters: list[int | None] = []
    table_rows: list[list[str]] = []
    current_row: list[str] | None = None
    in_item_first_paragraph = False
    index = 0
    while index < len(tokens):
        token = tokens[index]
        kind = token.type
        if kind == "heading_open":
            inline = tokens[index + 1]
            blocks.append(Block("heading", _clean(_inline_text(inline)), level=int(token.tag[1])))
            index += 3
            continue
        if kind in {"bullet_list_open", "ordered_list_open"}:
            if list_depth == 0:
                group += 1
            list_depth += 1
            start = token.attrGet("start")
            ordered_counters.append(
                int(start) - 1
                if kind == "ordered_list_open" and start
                else (0 if kind == "ordered_list_open" else None)
            )
        elif kind in {"bullet_list_close", "ordered_list_close"}:
            list_depth -= 1
            ordered_counters.pop()
        elif kind == "list_item_open":
            in_item_first_paragraph = True
            if ordered_counters and ordered_counters[-1] is not None:
                ordered_counters[-1] += 1
        elif kind == "inline" and list_depth and tokens[index - 1].type == "paragraph_open":
            content = _clean(_inline_text(token))
            if in_item_first_paragraph:
                prefix = "  " * (list_depth - 1)
                counter = ordered_counters[-1] if ordered_counters else None
                marker = f"{counter}. " if counter is not None else ""
                blocks.append(Block("list_item", f"{prefix}{marker}{content}", group=group))
                in_item_first_paragraph = False
            elif blocks:
                blocks[-1].text += " " + content
        elif kind == "inline" and tokens[index - 1].type == "paragraph_open":
            content = _clean(_inline_text(token))
            if content:
                blocks.append(Block("paragraph", content))
        elif kind in {"fence", "code_block"}:
            if token.content.strip():
                blocks.append(Block("code", token.content.rstrip()))
        elif kind == "table_open":
            table_rows = []
        elif kind == "tr_open":
            current_row = []
        elif kind == "inline" and current_row is not None:
            current_row.append(_inline_text(token))
        elif kind == "tr_close":
            if current_row is not None:
                table_rows.append(current_row)
            current_row = None
        elif kind == "table_close":
            group += 1
            blocks.extend(_table_blocks(table_rows, group))
        elif kind == "html_block":
            stripped = _clean(_html_to_plain(token.content))
            if stripped:
                blocks.append(Block("paragraph", stripped))
        index += 1
    blocks = [block for block in blocks if block.text.strip()]
    title = next((block.text for block in blocks if block.kind == "heading" and block.level == 1), "")
    return Extracted(title=title, blocks=blocks)


def _inline_text(token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in {"text", "code_inline", "html_inline"}:
            parts.append(child.content if child.type != "html_inline" else "")
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content or "")
    return "".join(parts)


def _html_to_plain(markup: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    for tag in soup(HTML_DROP_TAGS):
        tag.decompose()
    return soup.get_text(" ")


# --- HTML ------------------------------------------------------------------------------

_HTML_BLOCKS = {"p", "li", "pre", "blockquote", "dt", "dd", "figcaption", "caption", "address", "summary"}
_HTML_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


def _html_text(node) -> str:
    """Text of an element; no space is left before punctuation that followed inline markup."""
    text = _clean(node.get_text(" "))
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([.,;:!?)])", r"\1", text))


def extract_html(markup: str) -> Extracted:
    """Scripts, styles, navigation, forms and other page chrome are dropped; text only."""
    from bs4 import BeautifulSoup, Comment, NavigableString, Tag

    soup = BeautifulSoup(markup, "lxml")
    title_tag = soup.find("title")
    page_title = _clean(title_tag.get_text(" ")) if title_tag else ""
    for tag in soup(HTML_DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda value: isinstance(value, Comment)):
        comment.extract()
    root = soup.find("main") or soup.find("article") or soup.body or soup

    blocks: list[Block] = []
    state = {"group": 0, "loose": []}

    def flush_loose() -> None:
        text = re.sub(r"\s+([.,;:!?)])", r"\1", _clean(" ".join(state["loose"])))
        state["loose"] = []
        if text:
            blocks.append(Block("paragraph", text))

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if child.strip():
                    state["loose"].append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name
            if name in {
                "span",
                "a",
                "strong",
                "em",
                "b",
                "i",
                "u",
                "small",
                "code",
                "abbr",
                "time",
                "mark",
                "sub",
                "sup",
            }:
                state["loose"].append(child.get_text(" "))
                continue
            if name == "br":
                continue
            flush_loose()
            if name in _HTML_HEADINGS:
                text = _html_text(child)
                if text:
                    blocks.append(Block("heading", text, level=_HTML_HEADINGS[name]))
            elif name in {"ul", "ol"}:
                state["group"] += 1
                for number, item in enumerate(child.find_all("li", recursive=False), start=1):
                    text = _html_text(item)
                    if text:
                        prefix = f"{number}. " if name == "ol" else ""
                        blocks.append(Block("list_item", prefix + text, group=state["group"]))
            elif name == "table":
                state["group"] += 1
                rows = [[cell.get_text(" ") for cell in row.find_all(["th", "td"])] for row in child.find_all("tr")]
                blocks.extend(_table_blocks(rows, state["group"]))
            elif name == "pre":
                text = child.get_text().rstrip()
                if text.strip():
                    blocks.append(Block("code", text))
            elif name in _HTML_BLOCKS:
                text = _html_text(child)
                if text:
                    blocks.append(Block("paragraph", text))
            else:
                walk(child)
                flush_loose()

    walk(root)
    flush_loose()
    h1 = next((block.text for block in blocks if block.kind == "heading" and block.level == 1), "")
    return Extracted(title=page_title or h1, blocks=blocks)


# --- Plain text ------------------------------------------------------------------------------


def extract_text(text: str) -> Extracted:
    blocks: list[Block] = []
    group = 0
    for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        if all(BULLET_RE.match(line) for line in lines):
            group += 1
            for line in lines:
                blocks.append(Block("list_item", _clean(line[BULLET_RE.match(line).end() :]), group=group))
        else:
            blocks.append(Block("paragraph", _clean(" ".join(lines))))
    return Extracted(title="", blocks=blocks)


# --- FAQ CSV -------------------------------------------------------------------------------------


@dataclass
class FaqRow:
    line: int
    question: str
    answer: str


@dataclass
class FaqCsv:
    rows: list[FaqRow]
    skipped: list[str]  # plain reasons, one per skipped line


def parse_faq_csv(data: bytes) -> FaqCsv:
    """A CSV with `question` and `answer` columns (any case, any order, extra columns ignored)."""
    if not data.strip():
        raise ExtractionError("The CSV file is empty.")
    text = decode_text(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        raise ExtractionError("The CSV file has no header row.") from None
    names = [name.strip().lower() for name in header]
    if "question" not in names or "answer" not in names:
        raise ExtractionError(
            f"The CSV needs a header row with 'question' and 'answer' columns; found: {', '.join(header) or 'nothing'}."
        )
    question_at, answer_at = names.index("question"), names.index("answer")
    rows: list[FaqRow] = []
    skipped: list[str] = []
    try:
        for line, record in enumerate(reader, start=2):
            if not any(cell.strip() for cell in record):
                continue
            question = record[question_at].strip() if len(record) > question_at else ""
            answer = record[answer_at].strip() if len(record) > answer_at else ""
            if not question or not answer:
                skipped.append(f"line {line}: the {'question' if not question else 'answer'} is empty")
                continue
            if len(question) > 500:
                skipped.append(f"line {line}: the question is longer than 500 characters")
                continue
            rows.append(FaqRow(line=line, question=question, answer=answer))
    except csv.Error as exc:
        raise ExtractionError(f"The CSV file is malformed: {exc}") from None
    return FaqCsv(rows=rows, skipped=skipped)
