"""
Text extraction that keeps a document's structure.

Every format becomes the same list of `Block`s (headings with their level,
paragraphs, list items, table rows, code), each with the PDF page it came from,
so that chunking can keep sections, lists and tables together and cite
"Returns policy > Refunds (p. 2)".

Anything wrong with the input raises `ExtractionError` with a message written
for the person who uploaded the file; it is shown in admin as is.

One module per format (`pdf_format`, `docx_format`, `html_format`,
`markdown_format`, `text_format`, and `faq_csv` for FAQ spreadsheets); this
module tells the format apart and calls its extractor.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from knowledge.extraction.common import BULLET_RE, Block, Extracted, ExtractionError, decode_text
from knowledge.extraction.docx_format import MAX_DOCX_EXPANDED_BYTES, MAX_ZIP_RATIO, extract_docx
from knowledge.extraction.faq_csv import FaqCsv, FaqRow, parse_faq_csv
from knowledge.extraction.html_format import HTML_DROP_TAGS, extract_html
from knowledge.extraction.markdown_format import extract_markdown
from knowledge.extraction.pdf_format import FURNITURE_EDGE_LINES, PAGE_NUMBER_RE, extract_pdf, pdf_body_lines
from knowledge.extraction.text_format import extract_text

__all__ = [
    "BULLET_RE",
    "FURNITURE_EDGE_LINES",
    "HTML_DROP_TAGS",
    "MAX_DOCX_EXPANDED_BYTES",
    "MAX_ZIP_RATIO",
    "PAGE_NUMBER_RE",
    "SUPPORTED_SUFFIXES",
    "Block",
    "Extracted",
    "ExtractionError",
    "FaqCsv",
    "FaqRow",
    "decode_text",
    "detect_format",
    "extract",
    "extract_docx",
    "extract_html",
    "extract_markdown",
    "extract_pdf",
    "extract_text",
    "parse_faq_csv",
    "pdf_body_lines",
]

SUPPORTED_SUFFIXES = {".pdf", ".docx", ".md", ".markdown", ".html", ".htm", ".txt", ".text"}
_FORMAT_BY_SUFFIX = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".text": "text",
}
_FORMAT_BY_MIME = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
}
_TEXT_EXTRACTORS = {"markdown": extract_markdown, "html": extract_html, "text": extract_text}


def detect_format(*, filename: str = "", content_type: str = "", data: bytes = b"") -> str:
    """pdf, docx, markdown, html or text; from the name first, then the content type, then the bytes."""
    suffix = PurePosixPath(filename.lower().split("?")[0]).suffix
    if suffix in _FORMAT_BY_SUFFIX:
        return _FORMAT_BY_SUFFIX[suffix]
    mime = content_type.split(";")[0].strip().lower()
    if mime in _FORMAT_BY_MIME:
        return _FORMAT_BY_MIME[mime]
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
    if kind == "pdf":
        result = extract_pdf(data)
    elif kind == "docx":
        result = extract_docx(data)
    else:
        result = _TEXT_EXTRACTORS[kind](decode_text(data, kind=kind))
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
