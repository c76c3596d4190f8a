"""
A task's log lines carry the request id and conversation (its reference) of
the request that enqueued it, also when a separate worker (`db_worker`) runs it; a task
enqueued outside any request logs under its own task id.
"""

from __future__ import annotations

import contextvars
import io
import json
import logging
import signal

import pytest
from django.core.management import call_command

from core.logredact import conversation_ref
from core.structured_logging import (
    ContextFilter,
    JsonFormatter,
    bind_conversation,
    bind_request_id,
)
from knowledge.models import FAQ

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}
    }


@pytest.fixture
def json_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def run_worker() -> None:
    """`db_worker --batch` as in its own process: a fresh context, nothing bound."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        contextvars.Context().run(
            call_command,
            "db_worker",
            batch=True,
            queue_name="*",
            interval=0.1,
            startup_delay=False,
            reload=False,
            verbosity=1,
        )
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def save_faq_in_a_request(question: str) -> None:
    def request() -> None:
        bind_request_id("req-faq-edit-1")
        bind_conversation("conv-from-chat-42")
        FAQ.objects.create(question=question, answer="Yes, from 9 to 5.")

    contextvars.Context().run(request)


def test_a_worker_logs_a_task_under_the_ids_of_the_request_that_enqueued_it(database_tasks, json_lines):
    save_faq_in_a_request("Are you open on Saturdays?")
    contextvars.Context().run(FAQ.objects.create, question="Do you rent bikes?", answer="Not yet.")

    run_worker()

    published = [
        line
        for line in json_lines()
        if line["logger"] == "knowledge.services" and line["message"].startswith("published index version")
    ]
    assert len(published) == 2, json_lines()
    from_request, from_nowhere = published
    assert (from_request["request_id"], from_request["conversation_id"]) == (
        "req-faq-edit-1",
        conversation_ref("conv-from-chat-42"),
    )
    assert from_nowhere["request_id"].startswith("task-"), "the next task does not inherit the last one's ids"
    assert from_nowhere["conversation_id"] == "-"
    assert FAQ.objects.filter(status="ready").count() == 2
