"""
/readyz tells everyone whether the service is ready (200 or 503), but which
dependency failed and its error text (hosts, ports, paths) only to a probe on
the machine itself or to signed-in staff.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

pytestmark = pytest.mark.django_db

REMOTE = "203.0.113.9"
DEAD_REDIS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
}


def user(*, staff: bool):
    return get_user_model().objects.create_user(username=f"u-{staff}", password="x-1234-secret", is_staff=staff)


def test_a_remote_visitor_gets_the_status_only(client):
    response = client.get("/readyz", REMOTE_ADDR=REMOTE)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_a_remote_visitor_gets_the_503_but_not_the_error_text(client):
    with override_settings(CACHES=DEAD_REDIS):
        response = client.get("/readyz", REMOTE_ADDR=REMOTE)

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert b"127.0.0.1" not in response.content and b"Error" not in response.content


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_a_probe_on_the_machine_itself_gets_the_detail(client, address):
    with override_settings(CACHES=DEAD_REDIS):
        response = client.get("/readyz", REMOTE_ADDR=address)

    assert response.status_code == 503
    assert response.json()["failing"] == ["cache"]
    assert response.json()["checks"]["database"] == "ok"


def test_signed_in_staff_get_the_detail_from_anywhere(client):
    client.force_login(user(staff=True))

    response = client.get("/readyz", REMOTE_ADDR=REMOTE)

    assert response.status_code == 200
    assert response.json()["checks"]["knowledge_index"] == "ok"


def test_a_signed_in_user_who_is_not_staff_gets_the_status_only(client):
    client.force_login(user(staff=False))

    response = client.get("/readyz", REMOTE_ADDR=REMOTE)

    assert response.json() == {"status": "ok"}
