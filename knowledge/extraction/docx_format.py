"""DOCX (Word): headings from paragraph styles, lists from list styles or numbering, tables row by row."""

from __future__ import annotations

import io
import re
import zipfile

from knowledge.extraction.common import Block, Extracted, ExtractionError, clean, table_blocks

MAX_DOCX_EXPANDED_BYTES = 200 * 1024 * 1024
MAX_ZIP_RATIO = 200


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
            text = clean(item.text)
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
            blocks.extend(table_blocks([[cell.text for cell in _unique_cells(row)] for row in item.rows], group))
    title = ""
    try:
        title = clean(document.core_properties.title or "")
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
