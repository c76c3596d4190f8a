"""
Every rate limit and cost cap of the public doors, defined once.

Rate limits are counted by django-ratelimit's own core (`get_usage`) in
Django's cache, which is Redis in production: the REST views, the WebSocket
consumer and the admin login build a `RateRequest` (the few request fields
django-ratelimit reads) from an HttpRequest or from an ASGI scope, so a
message posted to `/api/chat/` and one sent over `/ws/chat/` by the same
client land in the same bucket, in every web process.

    retry_after = limits_hit(client=client, checks=[(MESSAGES_PER_IP, None),
                                                    (MESSAGES_PER_CONVERSATION, conversation_id)])

The LLM token caps (per conversation, per UTC day) are counters in the same
cache: `llm_tokens_cap_hit` is asked before a chat model is called and
`llm_tokens_record` adds what an answer cost afterwards, so a cap can be
overshot by at most the answers already running when it is reached.

When the cache cannot be reached the limits fail open (logged): a Redis
restart must not take the chat down with it.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)

Per = Literal["ip", "conversation", "username"]


@dataclass(frozen=True)
class Limit:
    """One limit: a bucket name shared by every door, and the setting holding its rate ("20/m")."""

    group: str
    setting: str
    per: Per

    @property
    def rate(self) -> str:
        return getattr(settings, self.setting)


# Visitor messages (POST /api/chat/, WebSocket `message` frames).
MESSAGES_PER_IP = Limit("chat-messages:ip", "RATE_LIMIT_MESSAGES_PER_IP", "ip")
MESSAGES_PER_CONVERSATION = Limit("chat-messages:conversation", "RATE_LIMIT_MESSAGES_PER_CONVERSATION", "conversation")
# Reads (GET /api/conversations/<id>/, GET /api/bot/).
READS_PER_IP = Limit("reads:ip", "RATE_LIMIT_READS_PER_IP", "ip")
READS_PER_CONVERSATION = Limit("reads:conversation", "RATE_LIMIT_READS_PER_CONVERSATION", "conversation")
# Ratings (POST /api/feedback/, WebSocket `feedback` frames).
FEEDBACK_PER_IP = Limit("feedback:ip", "RATE_LIMIT_FEEDBACK_PER_IP", "ip")
FEEDBACK_PER_CONVERSATION = Limit("feedback:conversation", "RATE_LIMIT_FEEDBACK_PER_CONVERSATION", "conversation")
# Contact details (POST /api/leads/, WebSocket `lead` frames).
LEADS_PER_IP = Limit("leads:ip", "LEADS_API_RATE", "ip")
LEADS_PER_CONVERSATION = Limit("leads:conversation", "RATE_LIMIT_LEADS_PER_CONVERSATION", "conversation")
# Failed admin logins.
ADMIN_LOGIN_PER_IP = Limit("admin-login:ip", "RATE_LIMIT_ADMIN_LOGIN_PER_IP", "ip")
ADMIN_LOGIN_PER_USERNAME = Limit("admin-login:username", "RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME", "username")

ALL_LIMITS = (
    MESSAGES_PER_IP, MESSAGES_PER_CONVERSATION, READS_PER_IP, READS_PER_CONVERSATION, FEEDBACK_PER_IP,
    FEEDBACK_PER_CONVERSATION, LEADS_PER_IP, LEADS_PER_CONVERSATION, ADMIN_LOGIN_PER_IP, ADMIN_LOGIN_PER_USERNAME,
)

Check = tuple[Limit, str | None]
"""A limit and the value it is counted for; None for per-IP limits (the client's IP) or to skip it."""


# --- Who is asking --------------------------------------------------------------------------


@dataclass(frozen=True)
class RateRequest:
    """
    The part of an HttpRequest that django-ratelimit reads, for HTTP requests
    and WebSocket scopes alike. `REMOTE_ADDR` is the peer the server saw:
    behind a proxy, let the server rewrite it from X-Forwarded-For
    (Uvicorn/Gunicorn: `FORWARDED_ALLOW_IPS`; Daphne: `--proxy-headers`).
    """

    META: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"

    @property
    def ip(self) -> str:
        return client_ip(self.META.get("REMOTE_ADDR", ""))


def client_ip(address: str) -> str:
    """The bucket an address counts in: the address itself, an IPv6 client's /64, "unknown" without one."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address) + "/64"
    return str(parsed)


def rate_request_from_http(request: HttpRequest) -> RateRequest:
    return RateRequest(META={"REMOTE_ADDR": request.META.get("REMOTE_ADDR") or ""}, method=request.method or "GET")


def rate_request_from_scope(scope: Mapping) -> RateRequest:
    """The same request-like object from a WebSocket (or HTTP) ASGI scope, as Django's ASGI handler reads it."""
    client = scope.get("client") or ("", 0)
    return RateRequest(META={"REMOTE_ADDR": str(client[0] or "")}, method="POST")


# --- Counting --------------------------------------------------------------------------------


def limit_hit(*, client: RateRequest, limit: Limit, value: str | None = None, increment: bool = True) -> int | None:
    """
    Counts one request against `limit`; returns the seconds until its window
    ends when the request is over the limit, else None. `value` is the
    conversation id or username for those limits; per-IP limits use the client.
    """
    key_value = client.ip if limit.per == "ip" else value
    if not key_value:
        return None
    try:
        usage = get_usage(
            client, group=limit.group, key=lambda _group, _request: key_value, rate=limit.rate, increment=increment
        )
    except Exception as exc:  # noqa: BLE001 - the cache is down: serve rather than refuse everyone
        logger.warning("rate limit %s not checked, the cache failed: %s", limit.group, exc)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    if usage["count"] == 0 and usage["limit"] == 0:
        # django-ratelimit's "the cache did not answer" result.
        logger.warning("rate limit %s not checked, the cache returned nothing", limit.group)
        return None
    return max(1, int(usage["time_left"]))


def limit_reached(*, client: RateRequest, limit: Limit, value: str | None = None) -> int | None:
    """
    Without counting: the seconds until the window ends when the next request
    would be over the limit, else None. For limits that count failures only
    (admin logins), checked before the attempt.
    """
    key_value = client.ip if limit.per == "ip" else value
    if not key_value:
        return None
    try:
        usage = get_usage(
            client, group=limit.group, key=lambda _group, _request: key_value, rate=limit.rate, increment=False
        )
    except Exception as exc:  # noqa: BLE001
        logger.warning("rate limit %s not checked, the cache failed: %s", limit.group, exc)
        return None
    if usage is None or usage["limit"] == 0 or usage["count"] < usage["limit"]:
        return None
    return max(1, int(usage["time_left"]))


def limits_hit(*, client: RateRequest, checks: Sequence[Check]) -> int | None:
    """Counts the request against each limit in turn; stops at the first one it is over."""
    for limit, value in checks:
        if limit.per != "ip" and not value:
            continue
        retry_after = limit_hit(client=client, limit=limit, value=value)
        if retry_after is not None:
            return retry_after
    return None


def _cache_is_local() -> bool:
    return isinstance(caches["default"], LocMemCache)


async def _off_the_loop(function, **kwargs):
    """
    Redis calls block for a round trip, so they run in a worker thread; the
    local-memory cache (the embedded default) answers in microseconds, less
    than the thread hop itself costs (bench/limits_overhead.py), so it is
    called directly.
    """
    if _cache_is_local():
        return function(**kwargs)
    return await sync_to_async(function, thread_sensitive=False)(**kwargs)


async def alimits_hit(*, client: RateRequest, checks: Sequence[Check]) -> int | None:
    return await _off_the_loop(limits_hit, client=client, checks=checks)


# --- LLM token caps ----------------------------------------------------------------------------

CONVERSATION_TOKENS_TTL = 30 * 24 * 3600
DAY_TOKENS_TTL = 2 * 24 * 3600


@dataclass(frozen=True)
class TokenCapHit:
    scope: Literal["conversation", "day"]
    used: int
    cap: int

    @property
    def detail(self) -> str:
        where = "this conversation" if self.scope == "conversation" else "today"
        setting = "LLM_TOKENS_PER_CONVERSATION" if self.scope == "conversation" else "LLM_TOKENS_PER_DAY"
        return f"token cap reached: {self.used} of {self.cap} LLM tokens used {where} ({setting})"


def _conversation_key(conversation_id: str) -> str:
    return f"llm-tokens:conversation:{conversation_id}"


def _day_key(now: datetime | None = None) -> str:
    return f"llm-tokens:day:{(now or datetime.now(UTC)).date().isoformat()}"


def llm_tokens_used(*, conversation_id: str) -> tuple[int, int]:
    """(tokens used by this conversation, tokens used today by all conversations)."""
    keys = [_conversation_key(conversation_id), _day_key()]
    found = cache.get_many(keys)
    return int(found.get(keys[0], 0)), int(found.get(keys[1], 0))


def llm_tokens_cap_hit(*, conversation_id: str) -> TokenCapHit | None:
    """The cap this conversation has reached, if any (a cap of 0 is no cap)."""
    per_conversation, per_day = settings.LLM_TOKENS_PER_CONVERSATION, settings.LLM_TOKENS_PER_DAY
    if not per_conversation and not per_day:
        return None
    try:
        conversation_used, day_used = llm_tokens_used(conversation_id=conversation_id)
    except Exception as exc:  # noqa: BLE001
        logger.warning("token caps not checked, the cache failed: %s", exc)
        return None
    if per_day and day_used >= per_day:
        return TokenCapHit(scope="day", used=day_used, cap=per_day)
    if per_conversation and conversation_used >= per_conversation:
        return TokenCapHit(scope="conversation", used=conversation_used, cap=per_conversation)
    return None


def _add(key: str, tokens: int, timeout: int) -> None:
    cache.add(key, 0, timeout=timeout)
    try:
        cache.incr(key, tokens)
    except ValueError:  # expired or evicted between add and incr
        cache.set(key, tokens, timeout=timeout)


def llm_tokens_record(*, conversation_id: str, tokens: int) -> None:
    """Adds the prompt + completion tokens of one answer to its conversation's and today's counters."""
    if tokens <= 0:
        return
    try:
        _add(_conversation_key(conversation_id), tokens, CONVERSATION_TOKENS_TTL)
        _add(_day_key(), tokens, DAY_TOKENS_TTL)
    except Exception as exc:  # noqa: BLE001
        logger.warning("%d LLM tokens not counted, the cache failed: %s", tokens, exc)


async def allm_tokens_cap_hit(*, conversation_id: str) -> TokenCapHit | None:
    return await _off_the_loop(llm_tokens_cap_hit, conversation_id=conversation_id)


async def allm_tokens_record(*, conversation_id: str, tokens: int) -> None:
    await _off_the_loop(llm_tokens_record, conversation_id=conversation_id, tokens=tokens)
