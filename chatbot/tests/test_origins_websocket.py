"""WebSockets from other sites: refused with an error frame and close code 4403."""

import pytest
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from django.urls import path

from chatbot.asgi import application
from chatbot.models import BotSettings
from chatbot.origins import WebSocketOriginValidator
from chatbot.selectors import bot_settings_cache_clear

pytestmark = pytest.mark.django_db(transaction=True)

SHOP = "https://shop.example.com"


class EchoConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()

    async def receive_json(self, content, **kwargs):
        await self.send_json({"echo": content})


echo_app = WebSocketOriginValidator(URLRouter([path("ws/echo/", EchoConsumer.as_asgi())]))


@pytest.fixture
async def shop_allowed():
    row, _ = await BotSettings.objects.aget_or_create(pk=BotSettings.SINGLETON_PK)
    row.allowed_origins = SHOP
    await row.asave()
    yield row
    bot_settings_cache_clear()  # the flushed row must not outlive the test in the process memo


def communicator(app, path: str, origin: str | None, host: str = "bot.example.net") -> WebsocketCommunicator:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return WebsocketCommunicator(app, path, headers=headers)


async def test_an_allowed_origin_reaches_the_consumer(shop_allowed):
    socket = communicator(echo_app, "/ws/echo/", SHOP)
    connected, _ = await socket.connect()
    try:
        assert connected
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from() == {"echo": {"type": "ping"}}
    finally:
        await socket.disconnect()


async def test_another_origin_gets_an_error_frame_and_close_code_4403(shop_allowed):
    socket = communicator(echo_app, "/ws/echo/", "https://evil.test")
    connected, _ = await socket.connect()
    try:
        assert connected
        frame = await socket.receive_json_from()
        closed = await socket.receive_output()
    finally:
        await socket.disconnect()

    assert frame["type"] == "error"
    assert frame["code"] == "origin_not_allowed"
    assert "https://evil.test" in frame["message"]
    assert closed == {"type": "websocket.close", "code": 4403, "reason": "origin not allowed"}


async def test_a_null_origin_is_refused(shop_allowed):
    socket = communicator(echo_app, "/ws/echo/", "null")
    await socket.connect()
    try:
        frame = await socket.receive_json_from()
        assert (await socket.receive_output())["code"] == 4403
    finally:
        await socket.disconnect()

    assert frame["code"] == "origin_not_allowed"


async def test_the_servers_own_host_is_allowed(shop_allowed):
    socket = communicator(echo_app, "/ws/echo/", "http://127.0.0.1:8123", host="127.0.0.1:8123")
    connected, _ = await socket.connect()
    try:
        assert connected
        await socket.send_json_to({"n": 1})
        assert await socket.receive_json_from() == {"echo": {"n": 1}}
    finally:
        await socket.disconnect()


async def test_a_client_without_an_origin_header_is_let_through(shop_allowed):
    socket = communicator(echo_app, "/ws/echo/", None)
    connected, _ = await socket.connect()
    try:
        assert connected
        await socket.send_json_to({"n": 2})
        assert await socket.receive_json_from() == {"echo": {"n": 2}}
    finally:
        await socket.disconnect()


@override_settings(WIDGET_ALLOWED_ORIGINS=["https://*.example.org"])
async def test_origins_from_the_environment_are_allowed(shop_allowed):
    socket = communicator(echo_app, "/ws/echo/", "https://www.example.org")
    connected, _ = await socket.connect()
    try:
        await socket.send_json_to({"n": 3})
        assert await socket.receive_json_from() == {"echo": {"n": 3}}
    finally:
        await socket.disconnect()


async def test_the_chat_endpoint_refuses_another_origin(shop_allowed):
    socket = communicator(application, "/ws/chat/", "https://evil.test")
    await socket.connect()
    try:
        frame = await socket.receive_json_from()
        closed = await socket.receive_output()
    finally:
        await socket.disconnect()

    assert frame["code"] == "origin_not_allowed"
    assert closed["code"] == 4403


async def test_the_chat_endpoint_serves_an_allowed_origin(shop_allowed):
    socket = communicator(application, "/ws/chat/", SHOP)
    connected, _ = await socket.connect()
    try:
        assert connected
        frame = await socket.receive_json_from(timeout=10)
    finally:
        await socket.disconnect()

    assert frame["type"] == "conversation"
    assert frame["id"]
