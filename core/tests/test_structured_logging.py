import hashlib
import io
import json
import logging

import pytest

from core.logredact import conversation_ref
from core.structured_logging import (
    ContextFilter,
    JsonFormatter,
    bind_conversation,
    mask_contact_details,
    request_id_var,
)


@pytest.fixture
def json_log():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    logger = logging.getLogger("test.structured")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    "text, hidden, kept",
    [
        ("lead from ana@brightside.io", "ana@brightside.io", "a***@brightside.io"),
        ("call +44 20 7946 0958 now", "7946 0958", "+44***58"),
        ("phone (503) 555-0142", "555-0142", "50***42"),
        ("key sk-abcdef1234567890 used", "sk-abcdef1234567890", "[secret]"),
        ("took 125 ms for 3 chunks", None, "took 125 ms for 3 chunks"),
        ('203.0.113.67:51234 - "WebSocket /ws/chat/" [accepted]', None, "203.0.113.67:51234 - "),
        ("from 198.51.100.250, call 0958 555 0142", "555 0142", "from 198.51.100.250, call 09***42"),
    ],
)
def test_it_masks_contact_details_and_secrets(text, hidden, kept):
    masked = mask_contact_details(text)

    if hidden:
        assert hidden not in masked
    assert kept in masked


def test_a_json_line_carries_the_request_id_and_the_conversations_reference(json_log):
    logger, stream = json_log
    request_id_var.set("req-123")
    bind_conversation("conv-abc")

    logger.info("lead captured for %s", "ana@brightside.io")

    line = json.loads(stream.getvalue())
    assert line["request_id"] == "req-123"
    assert line["conversation_id"] == conversation_ref("conv-abc") == hashlib.sha256(b"conv-abc").hexdigest()[:12]
    assert line["level"] == "info"
    assert line["message"] == "lead captured for a***@brightside.io"


def test_a_conversation_id_never_reaches_a_line_in_a_message_a_url_or_a_traceback(json_log):
    logger, stream = json_log
    conversation_id = "hY3kP0_q-Zr8vW2xLm4nB6cD1eF5gH7j"
    other = "Zr8vW2xLm4nB6cD1eF5gH7jhY3kP0_q-"
    bind_conversation(conversation_id)

    logger.info("answering failed in conversation %s", conversation_id)
    logger.warning("Not Found: /api/conversations/%s/", other)
    try:
        raise RuntimeError(f"no row for /ws/chat/?conversation={other}")
    except RuntimeError:
        logger.exception("failed")

    log = stream.getvalue()
    assert conversation_id not in log and other not in log
    assert f"~{conversation_ref(conversation_id)}" in log and f"~{conversation_ref(other)}" in log


@pytest.mark.django_db
def test_each_response_carries_a_request_id(client):
    response = client.get("/healthz")

    assert len(response["X-Request-ID"]) == 16


@pytest.mark.django_db
def test_a_sane_incoming_request_id_is_kept_and_a_hostile_one_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-42.abc"})
    replaced = client.get("/healthz", headers={"X-Request-ID": "evil\nvalue<script>"})

    assert kept["X-Request-ID"] == "lb-42.abc"
    assert replaced["X-Request-ID"] != "evil\nvalue<script>"
    assert len(replaced["X-Request-ID"]) == 16
