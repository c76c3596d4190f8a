"""Conversation ids kept out of log lines (core.logredact)."""

from __future__ import annotations

import hashlib
import io
import logging

import pytest

from core.logredact import UrlRedactionFilter, conversation_ref, redact_conversation_ids

CONVERSATION = "hY3kP0_q-Zr8vW2xLm4nB6cD1eF5gH7j"
REF = hashlib.sha256(CONVERSATION.encode()).hexdigest()[:12]


def test_the_reference_is_the_short_sha256_anyone_with_the_id_can_compute():
    assert conversation_ref(CONVERSATION) == REF
    assert conversation_ref("-") == "-"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f'GET /api/conversations/{CONVERSATION}/ HTTP/1.1" 200', f'GET /api/conversations/~{REF}/ HTTP/1.1" 200'),
        (
            f"WebSocket /ws/chat/?conversation={CONVERSATION} [accepted]",
            f"WebSocket /ws/chat/?conversation=~{REF} [accepted]",
        ),
        (f"/ws/chat/?v=1&conversation={CONVERSATION}&x=2", f"/ws/chat/?v=1&conversation=~{REF}&x=2"),
        (
            f"GET /admin/conversations/conversation/{CONVERSATION.replace('_', '_5F')}/change/",
            f"GET /admin/conversations/conversation/~{REF}/change/",
        ),
        (
            f"GET /admin/conversations/message/?conversation__id__exact={CONVERSATION}",
            f"GET /admin/conversations/message/?conversation__id__exact=~{REF}",
        ),
        ("GET /admin/conversations/conversation/?q=bike", "GET /admin/conversations/conversation/?q=bike"),
        ("GET /api/bot/ 200", "GET /api/bot/ 200"),
    ],
)
def test_ids_in_urls_become_their_reference(line, expected):
    assert redact_conversation_ids(line) == expected


def test_an_api_url_and_an_admin_url_of_one_conversation_get_the_same_reference():
    conversation = "ab_4Fcd"  # "_4F" is how the admin's URLs write "O"; in an API URL it is itself
    api = redact_conversation_ids(f"/api/conversations/{conversation}/")
    admin = redact_conversation_ids(f"/admin/conversations/conversation/{conversation.replace('_', '_5F')}/change/")

    assert api == f"/api/conversations/~{conversation_ref(conversation)}/"
    assert admin == f"/admin/conversations/conversation/~{conversation_ref(conversation)}/change/"


def test_redacting_twice_changes_nothing():
    once = redact_conversation_ids(f"/api/conversations/{CONVERSATION}/")

    assert redact_conversation_ids(once) == once


def test_the_bound_conversation_is_redacted_anywhere_in_the_text():
    assert redact_conversation_ids(f"answering failed in conversation {CONVERSATION}", bound=CONVERSATION) == (
        f"answering failed in conversation ~{REF}"
    )


def test_a_server_access_record_keeps_its_argument_shape():
    """Uvicorn's access formatter unpacks record.args itself: the filter must rewrite them in place."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test.logredact.access")
    logger.addHandler(handler)
    logger.addFilter(UrlRedactionFilter())
    logger.setLevel(logging.INFO)
    try:
        logger.info(
            '%s - "%s %s HTTP/%s" %d', "203.0.113.67:5123", "GET", f"/api/conversations/{CONVERSATION}/", "1.1", 200
        )
    finally:
        logger.removeHandler(handler)

    assert stream.getvalue() == f'203.0.113.67:5123 - "GET /api/conversations/~{REF}/ HTTP/1.1" 200\n'
