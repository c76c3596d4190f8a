"""
The business's own contact channels, found in its knowledge base: what a
visitor who asks for a person is given (with the offer to be contacted).

Any knowledge base: the pipeline searches it with CONTACT_QUERY, cuts the
best passages into lines the way the extractive provider does, and keeps the
lines that carry a phone number or an email address (found by the same
detection as leads) or opening hours. The passage that gives the most kinds
of channel leads; opening hours come from a second one when it gives none.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_noop

from chatbot.llm.base import Passage
from chatbot.llm.extractive import passage_units, render_units
from knowledge.types import SearchResult
from leads.detection import contact_details_extract

# What the knowledge base is searched with (a fixed text: the visitor's own words, "a real person", say
# nothing about where the channels are written).
CONTACT_QUERY = "Contact us: customer service phone number, email address and opening hours"
# The lead-in of the channels in the reply (translated where it is used).
CHANNELS_LEAD_IN = gettext_noop("You can reach our team directly:")
MAX_LINES = 4
# Below this similarity a passage is not about contacting the business, whatever numbers it holds.
MIN_CONFIDENCE = 0.25

HOURS_RE = re.compile(
    r"""
    \b(?:mon|tue|wed|thu|fri|sat|sun)(?:day|s|\.)?\b[^.]{0,40}?\d
    | \b\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)(?![a-z])
    | \b\d{1,2}[:.h]\d{2}\s*(?:-|–|to|until)\s*\d{1,2}[:.h]\d{2}\b
    | \b(?:opening|business|office)\s+hours\b | \b24/7\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class ContactChannels:
    text: str  # Markdown lines with their [n] citations, without a lead-in; "" when the knowledge base lists none
    passages: list[Passage]  # numbered [1]..[n] as cited in `text`


def _channel_lines(passage: Passage) -> tuple[list, set[str]]:
    """The passage's lines that give a phone, an email or opening hours, and which of the three it gives."""
    lines, kinds = [], set()
    for unit in passage_units(passage):
        if unit.kind == "question":
            continue
        details = contact_details_extract(text=unit.text)
        hours = bool(HOURS_RE.search(unit.text))
        found = {
            kind
            for kind, present in (("phone", details.phones), ("email", details.emails), ("hours", hours))
            if present
        }
        if found:
            lines.append(unit)
            kinds |= found
    return lines, kinds


def contact_channels_find(results: Sequence[SearchResult]) -> ContactChannels:
    """
    The channel lines of the results of a CONTACT_QUERY search: of the passages
    close enough to it, the one that gives the most kinds of channel (a support
    page with phone, email and hours rather than an FAQ that mentions a phone
    number), then opening hours from another one when it gives none.
    """
    candidates = []
    for rank, result in enumerate(results):
        if result.confidence < MIN_CONFIDENCE:
            continue
        passage = Passage(
            n=1,
            text=result.text,
            title=result.citation_label or result.title,
            url=result.url,
            confidence=result.confidence,
            source_type=result.source_type,
        )
        lines, kinds = _channel_lines(passage)
        if lines:
            candidates.append((rank, passage, lines, kinds))
    reachable = [c for c in candidates if c[3] & {"phone", "email"}]
    if not reachable:
        return ContactChannels(text="", passages=[])
    rank, first, lines, kinds = max(reachable, key=lambda c: (len(c[3]), -c[0]))
    chosen = [(first, lines[:MAX_LINES])]
    if "hours" not in kinds:
        for _, passage, other_lines, other_kinds in candidates:
            room = MAX_LINES - len(chosen[0][1])
            if passage is not first and other_kinds == {"hours"} and room > 0:
                chosen.append((dataclasses.replace(passage, n=2), other_lines[:room]))
                break
    groups = [render_units(lines, f"[{passage.n}]") for passage, lines in chosen]
    return ContactChannels(text="\n\n".join(groups), passages=[passage for passage, _ in chosen])
