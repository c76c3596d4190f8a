"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
import uuid

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

from knowledge.selectors import index_readiness

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


def _check_index() -> None:
    ready, detail = index_readiness()
    if not ready:
        raise RuntimeError(detail)


async def readyz(request: HttpRequest) -> JsonResponse:
    """Each dependency is checked with a timeout; a 503 names every failing part."""
    checks = {
        "database": sync_to_async(_check_database),
        "cache": sync_to_async(_check_cache),
        "channel_layer": _check_channel_layer,
        "knowledge_index": sync_to_async(_check_index),
    }
    results: dict[str, str] = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check(), timeout=READY_CHECK_TIMEOUT)
            results[name] = "ok"
        except TimeoutError:
            results[name] = f"timed out after {READY_CHECK_TIMEOUT:g}s"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            results[name] = f"{type(exc).__name__}: {exc}"
    failing = [name for name, result in results.items() if result != "ok"]
    status = 503 if failing else 200
    return JsonResponse(
        {"status": "unavailable" if failing else "ok", "failing": failing, "checks": results},
        status=status,
    )
