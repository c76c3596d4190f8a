"""
With the cache (Redis) unreachable the limits fail open: visitors are served
and the failure is logged, instead of every request failing with it.
"""

from __future__ import annotations

import logging

import pytest
from rest_framework.test import APIClient

from testsupport.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


def test_chat_and_leads_are_served_while_the_cache_is_down(redis_down, settings, extractive, caplog):
    settings.RATE_LIMIT_MESSAGES_PER_IP = "1/m"
    api = APIClient()

    with caplog.at_level(logging.WARNING, logger="core.limits"):
        chats = [api.post("/api/chat/", {"message": "hello"}, format="json") for _ in range(2)]
        lead = api.post(
            "/api/leads/", {"email": "ana@brightside.io", "consent": True, "consent_text": "ok"}, format="json"
        )

    assert [r.status_code for r in chats] == [200, 200]
    assert lead.status_code == 201
    assert any("not checked, the cache failed" in r.getMessage() for r in caplog.records)
