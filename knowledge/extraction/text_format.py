"""Plain text: paragraphs split on blank lines; a paragraph made only of bullet lines is a list."""

from __future__ import annotations

import re

from knowledge.extraction.common import BULLET_RE, Block, Extracted, clean


def extract_text(text: str) -> Extracted:
    blocks: list[Block] = []
    group = 0
    for paragraph in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [line for line in paragraph.split("\n") if line.strip()]
        if not lines:
            continue
        bullets = [bullet for line in lines if (bullet := BULLET_RE.match(line))]
        if len(bullets) == len(lines):
            group += 1
            for bullet in bullets:
                blocks.append(Block("list_item", clean(bullet.string[bullet.end() :]), group=group))
        else:
            blocks.append(Block("paragraph", clean(" ".join(lines))))
    return Extracted(title="", blocks=blocks)
