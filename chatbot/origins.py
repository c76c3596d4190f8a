"""
Which web sites may embed the widget: origin checks for WebSocket and REST.

An origin is allowed when it is the bot server's own host (the demo page, the
admin), one of the bot settings' `allowed_origins` (one per line, edited in
admin) or one of `settings.WIDGET_ALLOWED_ORIGINS`; the patterns and their
matching are in core.origins.

A request without an Origin header is let through on purpose: browsers always
send one on WebSocket handshakes and cross-site fetches, so a missing header
means a non-browser client (curl, the `websockets` library, a server-side
integration) that could write any Origin it liked. The check protects visitors'
browsers from other sites using the bot, not the API from scripts.

Refusals are explicit: a WebSocket from another origin is accepted only to
receive an `error` frame (`origin_not_allowed`) and a close with code 4403 (a
handshake refusal would reach the browser as a bare 1006 and the widget would
keep retrying); a REST request gets a 403 JSON error and no CORS grant.
"""

from __future__ import annotations

import json

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.core import checks
from django.core.exceptions import DisallowedHost
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase, JsonResponse

from chatbot.selectors import abot_settings_get, bot_settings_get
from core.origins import origin_is_allowed, origin_lines, origin_patterns_errors

API_PREFIX = "/api/"
REFUSED_CLOSE_CODE = 4403
REFUSED_ERROR_CODE = "origin_not_allowed"
# Where the middleware leaves its verdict for `cors_grant` (a request.META key, as WSGI extensions do).
ORIGIN_ALLOWED_KEY = "chatbot.widget_origin_allowed"


def allowed_origin_lines() -> list[str]:
    return list(settings.WIDGET_ALLOWED_ORIGINS) + origin_lines(bot_settings_get().allowed_origins or "")


async def aallowed_origin_lines() -> list[str]:
    bot = await abot_settings_get()
    return list(settings.WIDGET_ALLOWED_ORIGINS) + origin_lines(bot.allowed_origins or "")


def refusal_message(origin: str) -> str:
    return (
        f"This assistant does not accept requests from {origin[:200]}. "
        "The site owner can add this origin to the allowed origins in the bot settings."
    )


# --- REST: CORS grant and refusal ----------------------------------------------------


def _applies_to(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


class WidgetOriginMiddleware:
    """
    Decides once per API request whether its Origin may use the API and keeps
    the answer on the request: refused requests get a 403 JSON error here;
    django-cors-headers (after this middleware) grants CORS through the
    `check_request_enabled` signal, which only reads the stored answer, since
    that signal is sent synchronously even under ASGI and may not touch the ORM.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self.__acall__(request)
        origin = request.headers.get("origin")
        if origin and _applies_to(request):
            allowed = origin_is_allowed(origin=origin, host=_host(request), allowed=allowed_origin_lines())
            request.META[ORIGIN_ALLOWED_KEY] = allowed
            if not allowed:
                return _refusal(origin)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        origin = request.headers.get("origin")
        if origin and _applies_to(request):
            allowed = origin_is_allowed(origin=origin, host=_host(request), allowed=await aallowed_origin_lines())
            request.META[ORIGIN_ALLOWED_KEY] = allowed
            if not allowed:
                return _refusal(origin)
        return await self.get_response(request)


def _host(request: HttpRequest) -> str | None:
    try:
        return request.get_host()
    except DisallowedHost:
        return None


def _refusal(origin: str) -> JsonResponse:
    return JsonResponse({"error": {"code": REFUSED_ERROR_CODE, "message": refusal_message(origin)}}, status=403)


@receiver(check_request_enabled, dispatch_uid="chatbot.origins.cors_grant")
def cors_grant(sender, request: HttpRequest, **kwargs) -> bool:
    return bool(request.META.get(ORIGIN_ALLOWED_KEY, False))


# --- WebSocket --------------------------------------------------------------------------


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


class WebSocketOriginValidator:
    """ASGI wrapper for the WebSocket router: see the module docstring for what is allowed."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] != "websocket":
            return await self.application(scope, receive, send)
        origin = _header(scope, b"origin")
        if origin is None or origin_is_allowed(
            origin=origin, host=_header(scope, b"host"), allowed=await aallowed_origin_lines()
        ):
            return await self.application(scope, receive, send)
        return await self._refuse(origin, receive, send)

    async def _refuse(self, origin: str, receive, send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        frame = {"type": "error", "code": REFUSED_ERROR_CODE, "message": refusal_message(origin)}
        await send({"type": "websocket.send", "text": json.dumps(frame)})
        await send({"type": "websocket.close", "code": REFUSED_CLOSE_CODE, "reason": "origin not allowed"})


# --- Configuration check ---------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_widget_allowed_origins(app_configs, **kwargs) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"WIDGET_ALLOWED_ORIGINS: {error}",
            hint="Comma-separated origins such as https://www.example.com,https://*.example.org",
            id="chatbot.E101",
        )
        for error in origin_patterns_errors(text="\n".join(settings.WIDGET_ALLOWED_ORIGINS))
    ]
