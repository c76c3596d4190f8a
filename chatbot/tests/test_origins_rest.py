"""REST from other sites: CORS only for allowed origins, a clear 403 for the rest."""

import pytest
from django.test import override_settings

from chatbot.models import BotSettings
from chatbot.selectors import bot_settings_cache_clear

SHOP = "https://shop.example.com"


@pytest.fixture
def shop_allowed(db):
    settings_row, _ = BotSettings.objects.get_or_create(pk=BotSettings.SINGLETON_PK)
    settings_row.allowed_origins = f"{SHOP}\nhttps://*.partner.example"
    settings_row.save()
    yield settings_row
    bot_settings_cache_clear()  # the rolled-back row must not outlive the test in the process memo


def test_an_allowed_origin_gets_a_cors_grant(client, shop_allowed):
    response = client.get("/api/bot/", HTTP_ORIGIN=SHOP)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "origin" in response["Vary"].lower()


def test_a_subdomain_of_a_wildcard_origin_is_granted(client, shop_allowed):
    response = client.get("/api/bot/", HTTP_ORIGIN="https://www.partner.example")

    assert response["Access-Control-Allow-Origin"] == "https://www.partner.example"


def test_a_preflight_from_an_allowed_origin_is_granted(client, shop_allowed):
    response = client.options(
        "/api/chat/",
        HTTP_ORIGIN=SHOP,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "content-type" in response["Access-Control-Allow-Headers"]


def test_another_origin_gets_a_403_json_error_and_no_cors_grant(client, shop_allowed):
    response = client.post(
        "/api/chat/", {"message": "hello"}, content_type="application/json", HTTP_ORIGIN="https://evil.test"
    )

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    error = response.json()["error"]
    assert error["code"] == "origin_not_allowed"
    assert "https://evil.test" in error["message"] and "allowed origins" in error["message"]


def test_a_preflight_from_another_origin_is_refused(client, shop_allowed):
    response = client.options("/api/chat/", HTTP_ORIGIN="https://evil.test", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response


def test_a_request_without_an_origin_is_served(client, shop_allowed):
    response = client.get("/api/bot/")

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_the_servers_own_pages_may_call_the_api(client, shop_allowed):
    response = client.get("/api/bot/", HTTP_ORIGIN="http://testserver")

    assert response.status_code == 200


def test_pages_outside_the_api_are_not_checked(client, shop_allowed):
    response = client.get("/", HTTP_ORIGIN="https://evil.test")

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


@override_settings(WIDGET_ALLOWED_ORIGINS=["https://staging.example.com"])
def test_origins_from_the_environment_are_allowed_too(client, shop_allowed):
    response = client.get("/api/bot/", HTTP_ORIGIN="https://staging.example.com")

    assert response["Access-Control-Allow-Origin"] == "https://staging.example.com"


def test_a_change_in_the_bot_settings_applies_at_once(client, shop_allowed):
    assert client.get("/api/bot/", HTTP_ORIGIN="https://new.example.com").status_code == 403

    shop_allowed.allowed_origins += "\nhttps://new.example.com"
    shop_allowed.save()

    assert client.get("/api/bot/", HTTP_ORIGIN="https://new.example.com").status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_the_check_also_runs_under_asgi(async_client):
    row, _ = await BotSettings.objects.aget_or_create(pk=BotSettings.SINGLETON_PK)
    row.allowed_origins = SHOP
    await row.asave()
    bot_settings_cache_clear()

    granted = await async_client.get("/api/bot/", headers={"origin": SHOP})
    refused = await async_client.get("/api/bot/", headers={"origin": "https://evil.test"})

    assert granted.status_code == 200
    assert granted["Access-Control-Allow-Origin"] == SHOP
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "origin_not_allowed"
    bot_settings_cache_clear()
