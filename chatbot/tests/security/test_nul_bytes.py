"""
NUL characters refused cleanly on every door, through the project's ASGI
application as the servers run it. PostgreSQL cannot store or compare a NUL in
text: there, `GET /api/conversations/ab%00cd/` was a 500, a resumed id or a
contact form with a NUL dropped the WebSocket, and a message with one was a
`server_error` (the services pass runs these against PostgreSQL).
"""

from __future__ import annotations

import json

import pytest
from channels.testing import HttpCommunicator, WebsocketCommunicator

from chatbot.asgi import application
from chatbot.tests.security.websocket import frame_refused_then_answered
from conversations.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10
HOST = [(b"host", b"testserver")]


async def http(method: str, path: str, *, body: bytes = b"", headers: list | None = None) -> tuple[int, dict]:
    headers = HOST + [(b"content-length", str(len(body)).encode())] + (headers or [])
    communicator = HttpCommunicator(application, method, path, body=body, headers=headers)
    response = await communicator.get_response(timeout=TIMEOUT)
    return response["status"], json.loads(response["body"] or b"null")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/conversations/ab%00cd/", []),
        ("/admin/conversations/conversation/ab%00cd/change/", []),
        ("/admin/conversations/conversation/?q=a%00b", []),
        ("/api/bot/?x=%00", []),
        ("/api/bot/", [(b"user-agent", b"curl\x00/8")]),
    ],
)
async def test_a_nul_in_the_url_or_a_header_is_a_bad_request(path, headers):
    status, body = await http("GET", path, headers=headers)

    assert status == 400
    assert body["code"] == "bad_request" and "NUL" in body["message"]


async def test_the_same_url_without_a_nul_still_reaches_the_api():
    status, body = await http("GET", "/api/conversations/abcd/")

    assert status == 404 and body["code"] == "not_found"


@pytest.mark.parametrize("path", ["/api/chat/", "/api/leads/"])
@pytest.mark.parametrize("field", ["message", "conversation_id", "name"])
async def test_a_nul_in_a_json_field_is_a_bad_request(path, field):
    payload = {"message": "hi", "email": "ana@example.com", "consent": True, field: "a\u0000b"}

    status, body = await http(
        "POST", path, body=json.dumps(payload).encode(), headers=[(b"content-type", b"application/json")]
    )

    assert status == 400
    assert body["code"] == "bad_request" and "NUL" in body["message"]


async def test_a_nul_in_a_form_field_is_refused_by_the_field():
    status, body = await http(
        "POST",
        "/api/leads/",
        body=b"name=a%00b&email=ana%40example.com&consent=true",
        headers=[(b"content-type", b"application/x-www-form-urlencoded")],
    )

    assert status == 400
    assert "Null characters are not allowed." in body["name"]


async def test_a_websocket_resuming_an_id_with_a_nul_is_told_so_and_closed():
    communicator = WebsocketCommunicator(application, "/ws/chat/?conversation=ab%00cd")
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    error = await communicator.receive_json_from(timeout=TIMEOUT)
    closed = await communicator.receive_output(timeout=TIMEOUT)

    assert connected
    assert error["type"] == "error" and error["code"] == "bad_request" and "NUL" in error["message"]
    assert closed == {"type": "websocket.close", "code": 4400, "reason": "bad request"}


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "text": "Do you ship\u0000 to Canada?"},
        {"type": "lead", "name": "Ana\u0000", "email": "ana@example.com", "consent": True},
        {"type": "feedback", "message_id": "ab\u0000cd", "rating": 1},
    ],
)
async def test_a_websocket_frame_with_a_nul_gets_an_error_and_the_socket_stays(frame, extractive):
    error, frames = await frame_refused_then_answered(json.dumps(frame))

    assert error["type"] == "error" and error["code"] == "bad_request" and "NUL" in error["message"]
    assert frames[-1]["type"] == "done"
    assert not await Message.objects.filter(text__contains="ship").aexists()
