"""
Bounded JSON on every door: a body nested 50,000 deep or carrying a
5,000-digit number is a 400 `bad_request` on the REST endpoints (it was a 500:
RecursionError, or int()'s digit limit) and an `error` frame on the WebSocket,
which stays open (it was dropped without a close frame).
"""

from __future__ import annotations

import json

import pytest

from chatbot.tests.security.websocket import frame_refused_then_answered
from core.safejson import MAX_DEPTH

DEEP = "[" * 50_000
HUGE_NUMBER = '{"message": "hi", "conversation_id": "", "rating": ' + "9" * 5000 + "}"
ENDPOINTS = ["/api/chat/", "/api/leads/", "/api/feedback/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (DEEP, f"nest more than {MAX_DEPTH} levels"),
        ('{"message": ' + "[" * 40 + "]" * 40 + "}", f"nest more than {MAX_DEPTH} levels"),
        (HUGE_NUMBER, "Numbers must be at most"),
    ],
)
def test_a_rest_body_too_deep_or_with_a_huge_number_is_a_bad_request(client, path, body, fragment):
    response = client.post(path, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert fragment in response.json()["message"]


@pytest.mark.django_db
def test_malformed_json_is_a_bad_request_in_the_api_error_shape(client):
    response = client.post("/api/chat/", data='{"message": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert response.json()["message"].startswith("JSON parse error")


@pytest.mark.django_db
def test_a_refused_body_in_sse_mode_is_one_error_event(client):
    response = client.post("/api/chat/", data=DEEP, content_type="application/json", HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 400
    event = response.content.decode()
    assert event.startswith("event: error\n")
    assert json.loads(event.split("data: ", 1)[1])["code"] == "bad_request"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("frame", "fragment"),
    [
        (DEEP, f"nest more than {MAX_DEPTH} levels"),
        ('{"type": "feedback", "message_id": "x", "rating": ' + "1" * 5000 + "}", "Numbers must be at most"),
        ('{"type": "message", "text": "hi", "extra": ' + "{" * 30_000 + "}", "nest more than"),
    ],
)
async def test_a_websocket_frame_too_deep_or_with_a_huge_number_gets_an_error_and_the_socket_stays(
    frame, fragment, extractive
):
    error, frames = await frame_refused_then_answered(frame)

    assert error["type"] == "error" and error["code"] == "bad_request"
    assert fragment in error["message"]
    assert frames[-1]["type"] == "done"
