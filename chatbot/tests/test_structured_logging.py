import io
import json
import logging

import pytest

from chatbot.structured_logging import (
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
    ],
)
def test_it_masks_contact_details_and_secrets(text, hidden, kept):
    masked = mask_contact_details(text)

    if hidden:
        assert hidden not in masked
    assert kept in masked


def test_a_json_line_carries_request_and_conversation_ids(json_log):
    logger, stream = json_log
    request_id_var.set("req-123")
    bind_conversation("conv-abc")

    logger.info("lead captured for %s", "ana@brightside.io")

    line = json.loads(stream.getvalue())
    assert line["request_id"] == "req-123"
    assert line["conversation_id"] == "conv-abc"
    assert line["level"] == "info"
    assert line["message"] == "lead captured for a***@brightside.io"


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
