import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_dependencies(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_every_dependency_ok(client):
    response = client.get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {
        "database": "ok",
        "cache": "ok",
        "channel_layer": "ok",
        "knowledge_index": "ok",
    }


def test_readyz_names_an_unreachable_cache(client):
    dead_redis = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    with override_settings(CACHES=dead_redis):
        response = client.get("/readyz")

    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["cache"]
    assert "Connection" in body["checks"]["cache"] or "refused" in body["checks"]["cache"]


def test_readyz_names_an_unreachable_channel_layer(client):
    dead_layer = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    from channels.layers import channel_layers

    with override_settings(CHANNEL_LAYERS=dead_layer):
        channel_layers.backends.clear()
        try:
            response = client.get("/readyz")
        finally:
            channel_layers.backends.clear()

    assert response.status_code == 503
    assert response.json()["failing"] == ["channel_layer"]
