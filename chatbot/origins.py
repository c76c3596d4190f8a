"""
Which web sites may embed the widget: origin checks for WebSocket and REST.

An origin is allowed when it is the bot server's own host (the demo page, the
admin), one of the bot settings' `allowed_origins` (one per line, edited in
admin) or one of `settings.WIDGET_ALLOWED_ORIGINS`. A pattern is an exact
origin (`https://www.example.com`, port optional for 80/443), a scheme with a
subdomain wildcard (`https://*.example.com`, which also matches the bare
domain), or `*` for any site.

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
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from corsheaders.signals import check_request_enabled
from django.conf import settings
from django.core import checks
from django.core.exceptions import DisallowedHost
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
REFUSED_CLOSE_CODE = 4403
REFUSED_ERROR_CODE = "origin_not_allowed"
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class OriginPattern:
    scheme: str | None  # None only for "*"
    host: str
    port: int | None
    subdomains: bool = False

    def matches(self, origin: ParsedOrigin) -> bool:
        if self.scheme is None:
            return True
        if self.scheme != origin.scheme or self.port != origin.port:
            return False
        if self.subdomains:
            return origin.host == self.host or origin.host.endswith("." + self.host)
        return origin.host == self.host


@dataclass(frozen=True)
class ParsedOrigin:
    scheme: str
    host: str
    port: int | None
    netloc: str


def origin_parse(value: str) -> ParsedOrigin | None:
    """An Origin header value as scheme, host and port; None when it is not one (e.g. "null")."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    return ParsedOrigin(
        scheme=scheme,
        host=parts.hostname.lower().rstrip("."),
        port=port if port is not None else DEFAULT_PORTS[scheme],
        netloc=parts.netloc.lower(),
    )


def origin_pattern_parse(line: str) -> OriginPattern:
    """Raises ValueError with a message a site owner can act on."""
    text = line.strip()
    if text == "*":
        return OriginPattern(scheme=None, host="*", port=None)
    subdomains = "://*." in text
    candidate = text.replace("://*.", "://", 1) if subdomains else text
    if "://" not in candidate:
        raise ValueError(f"{text!r} has no scheme; write it like https://www.example.com")
    parsed = origin_parse(candidate.rstrip("/"))
    if parsed is None or "*" in candidate:
        raise ValueError(
            f"{text!r} is not an origin; write scheme and host only, like https://www.example.com "
            "or https://*.example.com"
        )
    return OriginPattern(scheme=parsed.scheme, host=parsed.host, port=parsed.port, subdomains=subdomains)


def origin_patterns_errors(*, text: str) -> list[str]:
    """
    One message per unusable line of an allowed-origins text (one origin per
    line; blank lines and lines starting with # are ignored). For a model's
    or form's clean().
    """
    errors = []
    for line in _lines(text):
        try:
            origin_pattern_parse(line)
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def _lines(text: str | Iterable[str]) -> list[str]:
    lines = text.splitlines() if isinstance(text, str) else list(text)
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _patterns(lines: Iterable[str]) -> list[OriginPattern]:
    patterns = []
    for line in lines:
        try:
            patterns.append(origin_pattern_parse(line))
        except ValueError:
            logger.warning("ignoring allowed origin %r: not an origin", line)
    return patterns


def origin_is_allowed(*, origin: str, host: str | None, allowed: Iterable[str]) -> bool:
    """
    Whether a browser on `origin` may use the bot served at `host` (the
    request's Host header). Pure: the caller supplies the allowed lines.
    """
    parsed = origin_parse(origin)
    if parsed is None:
        return False
    if host and _is_own_host(parsed, host):
        return True
    return any(pattern.matches(parsed) for pattern in _patterns(_lines(list(allowed))))


def _is_own_host(origin: ParsedOrigin, host: str) -> bool:
    """
    Same host and port as the request, compared as written (not by scheme), so
    a server behind a TLS proxy still recognises its own https pages; the Host
    must also be one Django serves.
    """
    host = host.strip().lower()
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin.netloc == host


def allowed_origin_lines() -> list[str]:
    from chatbot.selectors import bot_settings_get

    return list(settings.WIDGET_ALLOWED_ORIGINS) + _lines(bot_settings_get().allowed_origins or "")


async def aallowed_origin_lines() -> list[str]:
    from chatbot.selectors import abot_settings_get

    bot = await abot_settings_get()
    return list(settings.WIDGET_ALLOWED_ORIGINS) + _lines(bot.allowed_origins or "")


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
            request.widget_origin_allowed = allowed
            if not allowed:
                return _refusal(origin)
        return self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        origin = request.headers.get("origin")
        if origin and _applies_to(request):
            allowed = origin_is_allowed(origin=origin, host=_host(request), allowed=await aallowed_origin_lines())
            request.widget_origin_allowed = allowed
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
    return bool(getattr(request, "widget_origin_allowed", False))


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
