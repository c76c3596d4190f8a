"""Every public REST endpoint is rate-limited per client IP and, where a conversation is involved, per conversation."""

from __future__ import annotations

import secrets

import pytest
from rest_framework.test import APIClient

from conversations.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

IP_A, IP_B = "203.0.113.7", "198.51.100.23"
CONSENT = "I agree that Tidewater Bikes contacts me about my request."


@pytest.fixture
def api():
    return APIClient()


def chat(api, ip: str, conversation_id: str = "", message: str = "hello", **extra):
    body = {"message": message}
    if conversation_id:
        body["conversation_id"] = conversation_id
    return api.post("/api/chat/", body, format="json", REMOTE_ADDR=ip, **extra)


ENDPOINTS = {
    "chat": ("RATE_LIMIT_MESSAGES_PER_IP", lambda api, ip, n: chat(api, ip)),
    "conversation": (
        "RATE_LIMIT_READS_PER_IP",
        lambda api, ip, n: api.get(f"/api/conversations/{secrets.token_urlsafe(8)}/", REMOTE_ADDR=ip),
    ),
    "feedback": (
        "RATE_LIMIT_FEEDBACK_PER_IP",
        lambda api, ip, n: api.post(
            "/api/feedback/", {"message_id": f"m{n}", "rating": 1}, format="json", REMOTE_ADDR=ip
        ),
    ),
    "leads": (
        "LEADS_API_RATE",
        lambda api, ip, n: api.post(
            "/api/leads/",
            {"email": f"visitor{n}@example.com", "consent": True, "consent_text": CONSENT},
            format="json",
            REMOTE_ADDR=ip,
        ),
    ),
    "bot": ("RATE_LIMIT_READS_PER_IP", lambda api, ip, n: api.get("/api/bot/", REMOTE_ADDR=ip)),
}


def assert_rate_limited(response) -> int:
    assert response.status_code == 429, response.content
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    body = response.json()
    assert body["code"] == "rate_limited"
    assert body["retry_after"] == retry_after
    assert "slow down" in body["message"] or "try again" in body["message"]
    return retry_after


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_endpoint_answers_429_with_retry_after_past_the_per_ip_limit(api, settings, extractive, endpoint):
    setting, call = ENDPOINTS[endpoint]
    setattr(settings, setting, "2/m")

    allowed = [call(api, IP_A, n) for n in range(2)]
    refused = call(api, IP_A, 2)
    other_ip = call(api, IP_B, 3)

    assert all(r.status_code in (200, 201, 404) for r in allowed), [r.content for r in allowed]
    assert_rate_limited(refused)
    assert other_ip.status_code in (200, 201, 404), "another client has its own bucket"


def test_a_conversation_is_limited_whichever_ip_its_messages_come_from(api, settings, extractive):
    settings.RATE_LIMIT_MESSAGES_PER_CONVERSATION = "2/m"
    conversation_id = chat(api, IP_A).json()["conversation_id"]
    chat(api, IP_B, conversation_id)

    refused = chat(api, "192.0.2.99", conversation_id, message="Are you open on Sundays?")
    other_conversation = chat(api, "192.0.2.99")

    assert_rate_limited(refused)
    assert other_conversation.status_code == 200
    assert not Message.objects.filter(text="Are you open on Sundays?").exists(), "a refused message is not stored"


def test_reading_one_conversation_is_limited_per_conversation(api, settings, extractive):
    settings.RATE_LIMIT_READS_PER_CONVERSATION = "2/m"
    conversation_id = chat(api, IP_A).json()["conversation_id"]
    url = f"/api/conversations/{conversation_id}/"

    codes = [api.get(url, REMOTE_ADDR=ip).status_code for ip in (IP_A, IP_B)]

    assert codes == [200, 200]
    assert_rate_limited(api.get(url, REMOTE_ADDR="192.0.2.99"))


def test_feedback_and_leads_are_limited_per_conversation(api, settings, extractive):
    settings.RATE_LIMIT_FEEDBACK_PER_CONVERSATION = "1/m"
    settings.RATE_LIMIT_LEADS_PER_CONVERSATION = "1/m"
    answer = chat(api, IP_A).json()
    conversation_id, message_id = answer["conversation_id"], answer["message_id"]

    def rate(ip):
        return api.post(
            "/api/feedback/",
            {"message_id": message_id, "rating": 1, "conversation_id": conversation_id},
            format="json",
            REMOTE_ADDR=ip,
        )

    def lead(ip, email):
        return api.post(
            "/api/leads/",
            {"email": email, "consent": True, "consent_text": CONSENT, "conversation_id": conversation_id},
            format="json",
            REMOTE_ADDR=ip,
        )

    assert rate(IP_A).status_code == 200
    assert_rate_limited(rate(IP_B))
    created = lead(IP_A, "ana@brightside.io")
    assert created.status_code == 201, created.content
    assert_rate_limited(lead(IP_B, "ben@brightside.io"))


def test_a_limited_event_stream_request_is_a_429_carrying_one_error_event(api, settings, extractive):
    settings.RATE_LIMIT_MESSAGES_PER_IP = "1/m"
    chat(api, IP_A)

    response = chat(api, IP_A, HTTP_ACCEPT="text/event-stream")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    body = response.content.decode()
    assert body.startswith("event: error\n")
    assert '"code": "rate_limited"' in body and '"retry_after": ' in body


def test_limits_can_be_switched_off(api, settings, extractive):
    settings.RATE_LIMIT_MESSAGES_PER_IP = "1/m"
    settings.RATELIMIT_ENABLE = False

    codes = [chat(api, IP_A).status_code for _ in range(3)]

    assert codes == [200, 200, 200]
