"""HTML (uploaded pages and fetched web pages): the page's text by element, without its chrome."""

from __future__ import annotations

import re
from typing import Any

from knowledge.extraction.common import Block, Extracted, clean, table_blocks

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
_HTML_BLOCKS = {"p", "li", "pre", "blockquote", "dt", "dd", "figcaption", "caption", "address", "summary"}
_HTML_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_HTML_INLINE = {"span", "a", "strong", "em", "b", "i", "u", "small", "code", "abbr", "time", "mark", "sub", "sup"}


def html_to_plain(markup: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    for tag in soup(HTML_DROP_TAGS):
        tag.decompose()
    return soup.get_text(" ")


def _html_text(node: Any) -> str:
    """Text of an element; no space is left before punctuation that followed inline markup."""
    text = clean(node.get_text(" "))
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([.,;:!?)])", r"\1", text))


def extract_html(markup: str) -> Extracted:
    """Scripts, styles, navigation, forms and other page chrome are dropped; text only."""
    from bs4 import BeautifulSoup, Comment

    soup = BeautifulSoup(markup, "lxml")
    title_tag = soup.find("title")
    page_title = clean(title_tag.get_text(" ")) if title_tag else ""
    for tag in soup(HTML_DROP_TAGS):
        tag.decompose()
    for comment in soup.find_all(string=lambda value: isinstance(value, Comment)):
        comment.extract()
    walker = _HtmlWalker()
    walker.walk(soup.find("main") or soup.find("article") or soup.body or soup)
    walker.flush_loose()
    blocks = walker.blocks
    h1 = next((block.text for block in blocks if block.kind == "heading" and block.level == 1), "")
    return Extracted(title=page_title or h1, blocks=blocks)


class _HtmlWalker:
    """
    Walks the elements in document order: each block element becomes blocks;
    text outside them (loose, or in inline markup) gathers into a paragraph
    that ends at the next block element.
    """

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.group = 0
        self.loose: list[str] = []

    def flush_loose(self) -> None:
        text = re.sub(r"\s+([.,;:!?)])", r"\1", clean(" ".join(self.loose)))
        self.loose = []
        if text:
            self.blocks.append(Block("paragraph", text))

    def walk(self, node: Any) -> None:
        from bs4 import NavigableString, Tag

        for child in node.children:
            if isinstance(child, NavigableString):
                if child.strip():
                    self.loose.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            if child.name in _HTML_INLINE:
                self.loose.append(child.get_text(" "))
                continue
            if child.name == "br":
                continue
            self.flush_loose()
            self._element(child)

    def _element(self, element: Any) -> None:
        name = element.name
        if name in _HTML_HEADINGS:
            text = _html_text(element)
            if text:
                self.blocks.append(Block("heading", text, level=_HTML_HEADINGS[name]))
        elif name in {"ul", "ol"}:
            self.group += 1
            for number, item in enumerate(element.find_all("li", recursive=False), start=1):
                text = _html_text(item)
                if text:
                    prefix = f"{number}. " if name == "ol" else ""
                    self.blocks.append(Block("list_item", prefix + text, group=self.group))
        elif name == "table":
            self.group += 1
            rows = [[cell.get_text(" ") for cell in row.find_all(["th", "td"])] for row in element.find_all("tr")]
            self.blocks.extend(table_blocks(rows, self.group))
        elif name == "pre":
            text = element.get_text().rstrip()
            if text.strip():
                self.blocks.append(Block("code", text))
        elif name in _HTML_BLOCKS:
            text = _html_text(element)
            if text:
                self.blocks.append(Block("paragraph", text))
        else:
            self.walk(element)
            self.flush_loose()
