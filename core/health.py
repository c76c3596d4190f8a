"""
Liveness and readiness probes for load balancers and orchestrators.

`/readyz` answers 200 or 503 to everyone, but says which dependency failed and
why (exception texts name hosts, ports and paths) only to a probe on the
machine itself (loopback: the image's HEALTHCHECK, `kubectl exec`, a sidecar)
or to a signed-in staff member.

The database, the cache and the channel layer are checked here; an app adds
the checks of its own dependencies from its AppConfig.ready() with
`ready_check_register` (knowledge adds its index), so this module imports no app.
"""

import asyncio
import ipaddress
import uuid
from collections.abc import Awaitable, Callable
from importlib import import_module

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import get_user
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

READY_CHECK_TIMEOUT = 3.0


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", 5)
    if cache.get(key) != "1":
        raise RuntimeError("value written to the cache could not be read back")
    cache.delete(key)


async def _check_channel_layer() -> None:
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer configured")
    channel = await layer.new_channel()
    await layer.send(channel, {"type": "readyz.ping"})
    message = await layer.receive(channel)
    if message.get("type") != "readyz.ping":
        raise RuntimeError("channel layer returned another message")


ReadyCheck = Callable[[], Awaitable[None]]
_ready_checks: dict[str, ReadyCheck] = {
    "database": sync_to_async(_check_database),
    "cache": sync_to_async(_check_cache),
    "channel_layer": _check_channel_layer,
}


def ready_check_register(name: str, check: Callable[[], None]) -> None:
    """
    Adds a readiness check (sync; raises when not ready, with a message that
    says why) under `name`, checked after the ones registered before it.
    """
    _ready_checks[name] = sync_to_async(check)


async def readyz(request: HttpRequest) -> JsonResponse:
    """Each dependency is checked with a timeout; a 503 names every failing part."""
    results: dict[str, str] = {}
    for name, check in _ready_checks.items():
        try:
            await asyncio.wait_for(check(), timeout=READY_CHECK_TIMEOUT)
            results[name] = "ok"
        except TimeoutError:
            results[name] = f"timed out after {READY_CHECK_TIMEOUT:g}s"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            results[name] = f"{type(exc).__name__}: {exc}"
    failing = [name for name, result in results.items() if result != "ok"]
    body: dict[str, object] = {"status": "unavailable" if failing else "ok"}
    if await _may_see_detail(request):
        body.update(failing=failing, checks=results)
    return JsonResponse(body, status=503 if failing else 200)


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def _is_staff(request: HttpRequest) -> bool:
    """The probes answer before the session and auth middleware, so the session is read here."""
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return False
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        user = get_user(request)
    except Exception:  # noqa: BLE001 - a database that is down shows no staff either
        return False
    return bool(user.is_active and user.is_staff)


async def _may_see_detail(request: HttpRequest) -> bool:
    return _is_loopback(request.META.get("REMOTE_ADDR", "")) or await sync_to_async(_is_staff)(request)
