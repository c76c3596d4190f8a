"""
Structured logs: JSON lines in production, readable text in development.

Every record carries the request id and the conversation of the work it
belongs to (held in context variables, so they follow async tasks and
`sync_to_async` threads), and contact details are masked before anything is
written: logs are read by more people than the leads admin. The conversation
is written as `core.logredact.conversation_ref(id)`, a one-way short hash,
never as the id itself (a bearer secret: it reads the transcript), and ids in
URLs are replaced by it as well.

Where the ids come from:
- HTTP: `RequestIdMiddleware` (X-Request-ID or a new one); the chat views and
  the answer pipeline bind the conversation.
- WebSocket: the consumer binds a connection id (X-Request-ID of the upgrade
  request, or a new one) and its conversation on connect.
- Tasks: `task_enqueued` stores the enqueuing request's ids in the cache under
  the task id; `task_started` binds them in the worker (or the task id as the
  request id when the cache does not have them), `task_finished` unbinds.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.http import HttpRequest, HttpResponse

from core.logredact import conversation_ref, redact_conversation_ids

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
conversation_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("conversation_id", default="-")

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
# Seven or more digits, optionally separated: enough to hide phone numbers
# without mangling ids, timings or counts in ordinary log lines ("~" starts a
# conversation reference, which may be all digits).
_PHONE = re.compile(r"(?<![\w.~])(\+?\d[\d\s().-]{5,}\d)(?![\w.])")
_SECRET = re.compile(r"(?i)\b(sk-[A-Za-z0-9_-]{6,}|bearer\s+[A-Za-z0-9._-]{8,})")


def _mask_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match[1])
    if len(digits) < 7:
        return match[0]
    prefix = "+" if match[1].startswith("+") else ""
    return f"{prefix}{digits[:2]}***{digits[-2:]}"


def _mask_phones_around_ips(text: str) -> str:
    """Client addresses (`203.0.113.67`) look like phone numbers to `_PHONE`: they are kept whole."""
    pieces, start = [], 0
    for match in _IPV4.finditer(text):
        if all(int(part) <= 255 for part in match[0].split(".")):
            pieces += [_PHONE.sub(_mask_phone, text[start : match.start()]), match[0]]
            start = match.end()
    pieces.append(_PHONE.sub(_mask_phone, text[start:]))
    return "".join(pieces)


def mask_contact_details(text: str) -> str:
    """`ana@brightside.io` -> `a***@brightside.io`; `+44 20 7946 0958` -> `+44***58`; IP addresses stay."""
    text = _SECRET.sub("[secret]", text)
    text = _EMAIL.sub(lambda m: f"{m[1]}***@{m[2]}", text)
    return _mask_phones_around_ips(text)


def log_text_clean(text: str) -> str:
    """What any text written to the log goes through: contact details masked, conversation ids redacted."""
    return mask_contact_details(redact_conversation_ids(text, bound=conversation_id_var.get()))


def bind_conversation(conversation_id: str) -> None:
    conversation_id_var.set(conversation_id)


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def bind_request_id(incoming: str = "") -> str:
    """Binds the caller's request id when it is sane, else a new one; returns it."""
    request_id = incoming if _SAFE_REQUEST_ID.match(incoming or "") else new_request_id()
    request_id_var.set(request_id)
    return request_id


class ContextFilter(logging.Filter):
    """
    Adds request_id and conversation_id (the conversation's reference, see the
    module docstring) and cleans the message (`log_text_clean`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.conversation_id = conversation_ref(conversation_id_var.get())
        message = record.getMessage()
        cleaned = log_text_clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class TextFormatter(logging.Formatter):
    """The development format; tracebacks are cleaned as in JSON."""

    def formatException(self, ei) -> str:
        return log_text_clean(super().formatException(ei))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "conversation_id": getattr(record, "conversation_id", "-"),
        }
        if record.exc_info:
            payload["exception"] = log_text_clean(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False)


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID when it is sane, else makes one; echoes it back."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def _bind(self, request: HttpRequest) -> str:
        request_id = bind_request_id(request.headers.get(REQUEST_ID_HEADER, ""))
        conversation_id_var.set("-")
        return request_id

    def __call__(self, request: HttpRequest):
        if self.is_async:
            return self._acall(request)
        request_id = self._bind(request)
        response: HttpResponse = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        request_id = self._bind(request)
        response = await self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


# --- Tasks ---------------------------------------------------------------------------

TASK_CONTEXT_TTL = 7 * 24 * 3600
_bound_by_task: contextvars.ContextVar[bool] = contextvars.ContextVar("bound_by_task", default=False)


def _task_context_key(task_id: str) -> str:
    return f"log-context:task:{task_id}"


def task_context_remember(*, task_id: str) -> None:
    """Keeps the current request and conversation ids for the worker that will run this task."""
    request_id, conversation_id = request_id_var.get(), conversation_id_var.get()
    if request_id == "-" and conversation_id == "-":
        return
    from django.core.cache import cache

    try:
        cache.set(_task_context_key(task_id), (request_id, conversation_id), TASK_CONTEXT_TTL)
    except Exception:  # noqa: BLE001 - a log context is not worth failing an enqueue for
        pass


def task_context_bind(*, task_id: str) -> None:
    """
    In a worker (nothing bound yet), binds the ids of the request that
    enqueued the task, or the task id as the request id. A task run inside a
    request (the immediate backend) keeps that request's ids.
    """
    if request_id_var.get() != "-":
        return
    from django.core.cache import cache

    try:
        found = cache.get(_task_context_key(task_id))
    except Exception:  # noqa: BLE001
        found = None
    request_id, conversation_id = found or (f"task-{str(task_id)[:12]}", "-")
    request_id_var.set(request_id)
    conversation_id_var.set(conversation_id)
    _bound_by_task.set(True)


def task_context_unbind() -> None:
    if _bound_by_task.get():
        request_id_var.set("-")
        conversation_id_var.set("-")
        _bound_by_task.set(False)


def _on_task_enqueued(sender, task_result, **kwargs) -> None:
    task_context_remember(task_id=str(task_result.id))


def _on_task_started(sender, task_result, **kwargs) -> None:
    task_context_bind(task_id=str(task_result.id))


def _on_task_finished(sender, task_result, **kwargs) -> None:
    task_context_unbind()


def task_logging_connect() -> None:
    """Called from the app config: wires the task signals of django-tasks to the log context."""
    from django_tasks.signals import task_enqueued, task_finished, task_started

    task_enqueued.connect(_on_task_enqueued, dispatch_uid="core.structured_logging.enqueued")
    task_started.connect(_on_task_started, dispatch_uid="core.structured_logging.started")
    task_finished.connect(_on_task_finished, dispatch_uid="core.structured_logging.finished")
