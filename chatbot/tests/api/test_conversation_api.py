"""GET /api/conversations/<id>/, POST /api/feedback/, GET /api/bot/."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from chatbot.models import BotSettings
from conversations.models import Message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def answered(api, tidewater_kb, extractive) -> dict:
    return api.post("/api/chat/", {"message": "Can I ride my e-bike in the rain?"}, format="json").json()


def test_it_returns_a_conversations_history(api, answered):
    response = api.get(f"/api/conversations/{answered['conversation_id']}/")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == answered["conversation_id"]
    visitor, assistant = body["history"]
    assert visitor["role"] == "visitor" and visitor["text"] == "Can I ride my e-bike in the rain?"
    assert assistant["id"] == answered["message_id"]
    assert assistant["text"] == answered["answer"]
    assert assistant["sources"] == answered["sources"]
    assert assistant["answered"] is True and assistant["feedback"] is None


def test_an_unknown_conversation_is_not_found(api):
    response = api.get("/api/conversations/nope/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_feedback_rates_an_answer_and_a_second_rating_replaces_it(api, answered):
    first = api.post("/api/feedback/", {"message_id": answered["message_id"], "rating": 1}, format="json")
    second = api.post("/api/feedback/", {"message_id": answered["message_id"], "rating": -1}, format="json")

    assert first.status_code == second.status_code == 200
    assert second.json() == {"message_id": answered["message_id"], "rating": -1}
    assert Message.objects.get(public_id=answered["message_id"]).feedback == -1


@pytest.mark.parametrize("rating", [0, 2, "up"])
def test_feedback_must_be_up_or_down(api, answered, rating):
    response = api.post("/api/feedback/", {"message_id": answered["message_id"], "rating": rating}, format="json")

    assert response.status_code == 400
    assert Message.objects.get(public_id=answered["message_id"]).feedback is None


def test_feedback_for_an_unknown_message_or_another_conversation_is_not_found(api, answered):
    unknown = api.post("/api/feedback/", {"message_id": "nope", "rating": 1}, format="json")
    elsewhere = api.post(
        "/api/feedback/", {"message_id": answered["message_id"], "rating": 1, "conversation_id": "other"}, format="json"
    )

    assert unknown.status_code == elsewhere.status_code == 404
    assert Message.objects.get(public_id=answered["message_id"]).feedback is None


def test_the_bot_endpoint_gives_the_public_settings_only(api):
    BotSettings(
        name="Tidewater helper",
        widget_title="Ask Tidewater",
        color_primary="#123456",
        system_prompt="secret instructions",
    ).save()
    body = api.get("/api/bot/").json()

    assert body["name"] == "Tidewater helper"
    assert body["title"] == "Ask Tidewater"
    assert body["colors"]["primary"] == "#123456"
    assert set(body) == {"name", "greeting", "title", "colors", "consent_text"}
    assert "secret instructions" not in str(body)
