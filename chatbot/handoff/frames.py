"""
Frames of the live handoff (docs/protocol.md#live-handoff).

Visitor side (`/ws/chat/`): `agent_joined`, `agent_message`, `agent_typing`,
`agent_left`, and `received` (a message stored and relayed to the staff member
holding the conversation, instead of an answer).

Staff side (`/ws/staff/`): client frames parsed by `staff_frame_parse`, which
raises `BadFrame` for anything malformed; server frames are plain dicts built
here so that every sender writes them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

from chatbot.frames import BadFrame, frame_object_load

StaffAction = Literal["open", "close", "take", "release", "message", "typing"]
STAFF_ACTIONS: tuple[StaffAction, ...] = ("open", "close", "take", "release", "message", "typing")
# A staff message is at most this long (a visitor's is CHAT_MAX_MESSAGE_CHARS).
MAX_AGENT_MESSAGE_CHARS = 4000


class AgentJoinedFrame(TypedDict):
    type: Literal["agent_joined"]
    name: str


class AgentMessageFrame(TypedDict):
    type: Literal["agent_message"]
    id: str
    text: str
    name: str


class AgentTypingFrame(TypedDict):
    type: Literal["agent_typing"]
    name: str


class AgentLeftFrame(TypedDict):
    type: Literal["agent_left"]
    name: str


class ReceivedFrame(TypedDict):
    type: Literal["received"]
    message_id: str


@dataclass(frozen=True)
class StaffIn:
    """A staff client frame: an action on one conversation (text for `message`)."""

    action: StaffAction
    conversation: str
    text: str = ""


def staff_frame_parse(raw: str | None) -> StaffIn:
    frame = frame_object_load(raw)
    action = frame.get("type")
    if action not in STAFF_ACTIONS:
        raise BadFrame(f"Unknown frame type {str(action)[:40]!r}; expected one of {', '.join(STAFF_ACTIONS)}.")
    conversation = frame.get("conversation")
    if not isinstance(conversation, str) or not 0 < len(conversation) <= 64:
        raise BadFrame("`conversation` must be a conversation id.")
    text = ""
    if action == "message":
        raw = frame.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise BadFrame("`text` must be a non-empty string.")
        if len(raw) > MAX_AGENT_MESSAGE_CHARS:
            raise BadFrame(f"`text` is too long (at most {MAX_AGENT_MESSAGE_CHARS} characters).")
        text = raw.strip()
    return StaffIn(action=action, conversation=conversation, text=text)
