"""
The chat protocol's frames (docs/protocol.md), shared by the WebSocket, SSE and the CLI.

Server frames are TypedDicts, sent as JSON as they are. Client frames are
parsed into small dataclasses by `client_frame_parse`, which raises `BadFrame`
with a message for the visitor's developer when a frame is malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

from conversations.types import HistoryItem, SourceItem
from core.safejson import JsonRefused, json_loads_bounded

ErrorCode = Literal[
    "bad_request",
    "too_long",
    "rate_limited",
    "llm_unavailable",
    "not_found",
    "server_error",
]
# The largest client frame parsed at all; anything bigger is refused unread.
MAX_FRAME_CHARS = 64_000


class ConversationFrame(TypedDict):
    type: Literal["conversation"]
    id: str
    history: NotRequired[list[HistoryItem]]
    bot: NotRequired[dict]


class StartFrame(TypedDict):
    type: Literal["start"]
    message_id: str


class TokenFrame(TypedDict):
    type: Literal["token"]
    text: str


class SourcesFrame(TypedDict):
    type: Literal["sources"]
    items: list[SourceItem]


class DoneFrame(TypedDict):
    type: Literal["done"]
    message_id: str
    answered: bool
    offer_contact: bool


class LeadFrame(TypedDict):
    type: Literal["lead"]
    status: Literal["captured", "updated"]


class FeedbackOkFrame(TypedDict):
    type: Literal["feedback_ok"]
    message_id: str


class ErrorFrame(TypedDict):
    type: Literal["error"]
    code: ErrorCode
    message: str
    retry_after: NotRequired[int]
    message_id: NotRequired[str]
    max_chars: NotRequired[int]
    fields: NotRequired[dict[str, str]]  # bad_request for a contact form: a message per field


ServerFrame = (
    ConversationFrame | StartFrame | TokenFrame | SourcesFrame | DoneFrame | LeadFrame | FeedbackOkFrame | ErrorFrame
)


def error_frame(code: ErrorCode, message: str, **extra: object) -> ErrorFrame:
    frame: dict = {"type": "error", "code": code, "message": message}
    frame.update(extra)
    return frame  # type: ignore[return-value]


# --- Client frames ----------------------------------------------------------------------


class BadFrame(ValueError):
    pass


@dataclass(frozen=True)
class MessageIn:
    text: str


@dataclass(frozen=True)
class LeadIn:
    name: str
    email: str
    phone: str
    consent: bool


@dataclass(frozen=True)
class FeedbackIn:
    message_id: str
    rating: int


ClientFrame = MessageIn | LeadIn | FeedbackIn


def _string(frame: dict, key: str, *, required: bool = False, max_length: int = 1000) -> str:
    value = frame.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise BadFrame(f"`{key}` must be a string.")
    if len(value) > max_length:
        raise BadFrame(f"`{key}` is too long (at most {max_length} characters).")
    return value


def frame_object_load(raw: str | None) -> dict[str, Any]:
    """A client frame's JSON object (visitor or staff socket), or BadFrame saying what is wrong."""
    if raw is None:
        raise BadFrame("Frames must be JSON text, not binary.")
    if len(raw) > MAX_FRAME_CHARS:
        raise BadFrame(f"Frames must be at most {MAX_FRAME_CHARS} characters.")
    try:
        frame = json_loads_bounded(raw)
    except JsonRefused as exc:  # too deep, a huge number, a NUL character: said as such
        raise BadFrame(str(exc)) from None
    except ValueError:
        raise BadFrame("Frames must be JSON objects.") from None
    if not isinstance(frame, dict):
        raise BadFrame("Frames must be JSON objects.")
    return frame


def client_frame_parse(raw: str | None) -> ClientFrame:
    frame = frame_object_load(raw)
    kind = frame.get("type")
    if kind == "message":
        # Length is checked by the answer service, which answers `too_long`.
        return MessageIn(text=_string(frame, "text", required=True, max_length=MAX_FRAME_CHARS))
    if kind == "lead":
        consent = frame.get("consent", False)
        if not isinstance(consent, bool):
            raise BadFrame("`consent` must be true or false.")
        return LeadIn(
            name=_string(frame, "name", max_length=200),
            email=_string(frame, "email", max_length=254),
            phone=_string(frame, "phone", max_length=64),
            consent=consent,
        )
    if kind == "feedback":
        rating = frame.get("rating")
        if isinstance(rating, bool) or rating not in (1, -1):
            raise BadFrame("`rating` must be 1 or -1.")
        message_id = _string(frame, "message_id", required=True, max_length=64)
        return FeedbackIn(message_id=message_id, rating=rating)
    raise BadFrame(f"Unknown frame type {str(kind)[:40]!r}; expected message, lead or feedback.")
