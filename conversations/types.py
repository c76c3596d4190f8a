"""Payloads that cross from the conversations app into the chat layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NotRequired, TypedDict


class SourceItem(TypedDict):
    n: int
    title: str
    url: str
    snippet: str


class HistoryItem(TypedDict):
    """One message as the widget shows it (the `history` of a `conversation` frame)."""

    id: str
    role: str  # "visitor", "assistant" or "agent" (a staff member's reply, live handoff)
    text: str
    sources: list[SourceItem]
    answered: bool | None
    feedback: int | None
    created_at: str
    name: NotRequired[str]  # for an agent message: the staff member's display name


@dataclass(frozen=True)
class Turn:
    """One earlier message, as the prompt needs it."""

    role: str  # "visitor", "assistant" or "agent" (a staff member's reply)
    text: str
