"""
Conversation ids kept out of logs.

A conversation id is a bearer secret: whoever has it reads the transcript
(`GET /api/conversations/<id>/`, `/ws/chat/?conversation=<id>`). Logs are
read by more people, and kept longer, than transcripts, so no log line
carries one. Lines carry `conversation_ref(id)` instead: the first 12 hex
digits of the id's SHA-256, enough to find every line of one conversation
(`printf %s "$ID" | sha256sum | cut -c1-12` gives it for an id seen in the
admin) and useless for reading it.

`redact_conversation_ids` replaces ids in the URLs that carry them (API,
WebSocket query, admin change pages) with `~<ref>`. The servers' own lines
(Uvicorn's access and WebSocket lines, Gunicorn's access log, Daphne's
`runserver` lines) get it through `UrlRedactionFilter` on their loggers, and
Daphne's command-line access log, which it writes to stdout itself rather
than through `logging`, through a wrapper around its writer
(`server_log_redaction_install`).
"""

from __future__ import annotations

import hashlib
import logging
import re
from urllib.parse import unquote

REF_CHARS = 12

# A segment or value already redacted starts with "~", so applying this twice changes nothing.
_IN_PATH = re.compile(r"(/api/conversations/|/conversations/conversation/)(?!~)([^/?#\s\"'<>\]]+)")
_IN_QUERY = re.compile(r"([?&;]\w*conversation\w*=)(?!~)([^&#\s\"'<>\]]+)")
# Django's admin escapes a few characters of a primary key in its URLs ("_" as "_5F").
_ADMIN_QUOTED = re.compile(r"_([0-9A-F]{2})")

SERVER_LOGGERS = (
    "uvicorn.access",
    "uvicorn.error",
    "gunicorn.access",
    "gunicorn.error",
    "django.channels.server",
    "django.server",
    "django.request",
)


def conversation_ref(conversation_id: str) -> str:
    """The short, one-way reference to a conversation that logs carry ("-" for none)."""
    if not conversation_id or conversation_id == "-":
        return "-"
    return hashlib.sha256(conversation_id.encode("utf-8", "surrogatepass")).hexdigest()[:REF_CHARS]


def redact_conversation_ids(text: str, *, bound: str = "") -> str:
    """`text` with conversation ids in URLs, and the `bound` id anywhere, replaced by `~<ref>`."""
    if bound and bound != "-" and bound in text:
        text = text.replace(bound, f"~{conversation_ref(bound)}")
    if "conversation" not in text:
        return text
    text = _IN_PATH.sub(lambda m: f"{m[1]}~{conversation_ref(_path_id(m[1], m[2]))}", text)
    return _IN_QUERY.sub(lambda m: f"{m[1]}~{conversation_ref(unquote(m[2]))}", text)


def _path_id(prefix: str, segment: str) -> str:
    if prefix.startswith("/api/"):
        return unquote(segment)
    return _ADMIN_QUOTED.sub(lambda q: chr(int(q[1], 16)), segment)


def _redacted(value: object) -> object:
    return redact_conversation_ids(value) if isinstance(value, str) else value


class UrlRedactionFilter(logging.Filter):
    """
    Redacts conversation ids in a record's message and arguments, keeping
    their shape: Uvicorn's access formatter unpacks the argument tuple itself.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _redacted(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redacted(value) for key, value in record.args.items()}
        return True


def _daphne_access_log_redact() -> None:
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:
        return
    original = AccessLogGenerator.write_entry
    if getattr(original, "redacts_conversation_ids", False):
        return

    def write_entry(self, host, date, request, *args, **kwargs):
        return original(self, host, date, redact_conversation_ids(request), *args, **kwargs)

    write_entry.redacts_conversation_ids = True  # type: ignore[attr-defined]
    AccessLogGenerator.write_entry = write_entry


def server_log_redaction_install() -> None:
    """Called once Django is set up in a process (the app config): covers every server's own lines."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, UrlRedactionFilter) for existing in logger.filters):
            logger.addFilter(UrlRedactionFilter())
    _daphne_access_log_redact()
