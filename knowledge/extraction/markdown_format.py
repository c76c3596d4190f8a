"""Markdown (CommonMark with tables), through markdown-it's token stream."""

from __future__ import annotations

import functools

from knowledge.extraction.common import Block, Extracted, clean, table_blocks
from knowledge.extraction.html_format import html_to_plain


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
            blocks.append(Block("heading", clean(_inline_text(inline)), level=int(token.tag[1])))
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
            content = clean(_inline_text(token))
            if in_item_first_paragraph:
                prefix = "  " * (list_depth - 1)
                counter = ordered_counters[-1] if ordered_counters else None
                marker = f"{counter}. " if counter is not None else ""
                blocks.append(Block("list_item", f"{prefix}{marker}{content}", group=group))
                in_item_first_paragraph = False
            elif blocks:
                blocks[-1].text += " " + content
        elif kind == "inline" and tokens[index - 1].type == "paragraph_open":
            content = clean(_inline_text(token))
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
            blocks.extend(table_blocks(table_rows, group))
        elif kind == "html_block":
            stripped = clean(html_to_plain(token.content))
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
