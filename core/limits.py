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

Failed admin logins count in sliding windows (core.sliding_window), per
address and per username *from that address*, so that nobody can lock a
user out from elsewhere. Lookups of a conversation by id (resuming it) count
in the read limits, and the unknown ids an address asks for in a limit of
their own. Open WebSockets are capped per address (core.open_connections).

The LLM token caps (per conversation, per client address and UTC day, per
UTC day) are counters in the same cache. Before a chat model is called,
`llm_tokens_reserve` adds the most the answer can cost (its prompt's
estimate plus LLM_MAX_TOKENS) to each counter, unless one is already at its
cap counting the answers in flight at that maximum; `llm_tokens_settle`
replaces the reservation by what the answer cost. So parallel answers cannot
all start on the last free tokens: a cap is overshot by at most one answer.

When the cache cannot be reached the limits fail open (logged): a Redis
restart must not take the chat down with it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from core.cache_counters import counter_add, counter_subtract
from core.open_connections import ConnectionLease, OpenConnections
from core.sliding_window import SlidingWindow, WindowHit

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
# Lookups of unknown conversation ids (a guess at someone's transcript), per IP.
RESUME_MISSES_PER_IP = Limit("resume-misses:ip", "RATE_LIMIT_RESUME_MISSES_PER_IP", "ip")
# Failed admin logins, in sliding windows (admin_login_attempt): per IP, and per username from one IP.
ADMIN_LOGIN_PER_IP = Limit("admin-login:ip", "RATE_LIMIT_ADMIN_LOGIN_PER_IP", "ip")
ADMIN_LOGIN_PER_USERNAME = Limit("admin-login:username", "RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME", "username")

ALL_LIMITS = (
    MESSAGES_PER_IP,
    MESSAGES_PER_CONVERSATION,
    READS_PER_IP,
    READS_PER_CONVERSATION,
    FEEDBACK_PER_IP,
    FEEDBACK_PER_CONVERSATION,
    LEADS_PER_IP,
    LEADS_PER_CONVERSATION,
    RESUME_MISSES_PER_IP,
    ADMIN_LOGIN_PER_IP,
    ADMIN_LOGIN_PER_USERNAME,
)

clock: Callable[[], float] = time.time
"""The clock of the sliding windows and connection slots; tests replace it to move time without waiting."""

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


# --- Resuming a conversation by id ----------------------------------------------------------


def resume_refusal(*, client: RateRequest, conversation_id: str) -> int | None:
    """
    Counts a lookup of a conversation by id (GET /api/conversations/<id>/,
    /ws/chat/?conversation=<id>) in the read limits; returns the seconds to wait when over them, or when this address
    has asked for too many unknown ids (RESUME_MISSES_PER_IP): ids are
    unguessable tokens, so many misses from one address are someone guessing.
    """
    retry_after = limits_hit(client=client, checks=[(READS_PER_IP, None), (READS_PER_CONVERSATION, conversation_id)])
    if retry_after is not None:
        return retry_after
    return resume_misses_reached(client=client)


def resume_misses_reached(*, client: RateRequest) -> int | None:
    """
    Seconds to wait when this address has asked for too many unknown
    conversation ids, else None; also asked before a chat message naming a
    conversation is answered.
    """
    return limit_reached(client=client, limit=RESUME_MISSES_PER_IP)


def resume_miss_record(*, client: RateRequest) -> None:
    """Counts a lookup that found no conversation."""
    limit_hit(client=client, limit=RESUME_MISSES_PER_IP)


async def aresume_refusal(*, client: RateRequest, conversation_id: str) -> int | None:
    return await _off_the_loop(resume_refusal, client=client, conversation_id=conversation_id)


async def aresume_miss_record(*, client: RateRequest) -> None:
    await _off_the_loop(resume_miss_record, client=client)


# --- Admin logins ------------------------------------------------------------------------------


def rate_parse(rate: str) -> tuple[int, int]:
    """A django-ratelimit rate ("5/15m") as (count, seconds)."""
    count, _, period = rate.partition("/")
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    return int(count), int(period[:-1] or 1) * units[period[-1]]


def sliding_window(limit: Limit) -> SlidingWindow:
    count, seconds = rate_parse(limit.rate)
    return SlidingWindow(cache=cache, name=limit.group, limit=count, period=seconds, clock=clock)


@dataclass
class AdminLoginAttempt:
    """
    One login attempt, counted before the password is checked (so parallel
    guesses cannot all get in under the limit) and taken back when it
    succeeds or is refused, so that only failures stay counted.
    """

    hits: list[tuple[SlidingWindow, WindowHit]] = field(default_factory=list)
    refused_by: Limit | None = None
    retry_after: int = 0

    def take_back(self) -> None:
        for window, hit in self.hits:
            try:
                window.remove(hit)
            except Exception as exc:  # noqa: BLE001
                logger.warning("admin login attempt not taken back, the cache failed: %s", exc)
        self.hits = []


def admin_login_attempt(*, client: RateRequest, username: str) -> AdminLoginAttempt:
    """
    Counts a login attempt for `username` from `client` in the per-address
    window (RATE_LIMIT_ADMIN_LOGIN_PER_IP) and in the window of this username
    from this address (RATE_LIMIT_ADMIN_LOGIN_PER_USERNAME); over either one,
    the attempt is refused (`refused_by`, `retry_after`: the real wait of the
    sliding window) and counts nowhere. Failures from one address therefore
    never lock the user out of another.
    """
    attempt = AdminLoginAttempt()
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return attempt
    for limit, key in ((ADMIN_LOGIN_PER_USERNAME, f"{client.ip} {username}"), (ADMIN_LOGIN_PER_IP, client.ip)):
        window = sliding_window(limit)
        try:
            hit = window.add(key)
        except Exception as exc:  # noqa: BLE001 - the cache is down: serve rather than refuse everyone
            logger.warning("rate limit %s not checked, the cache failed: %s", limit.group, exc)
            continue
        attempt.hits.append((window, hit))
        if hit.over:
            attempt.take_back()
            attempt.refused_by, attempt.retry_after = limit, max(1, math.ceil(hit.retry_after or 1))
            return attempt
    return attempt


# --- LLM token caps ----------------------------------------------------------------------------

CONVERSATION_TOKENS_TTL = 30 * 24 * 3600
DAY_TOKENS_TTL = 2 * 24 * 3600
CAP_SETTINGS = {
    "conversation": "LLM_TOKENS_PER_CONVERSATION",
    "ip": "LLM_TOKENS_PER_IP_PER_DAY",
    "day": "LLM_TOKENS_PER_DAY",
}
CAP_WHERE = {"conversation": "this conversation", "ip": "today from this address", "day": "today"}


@dataclass(frozen=True)
class TokenCapHit:
    scope: Literal["conversation", "ip", "day"]
    used: int
    cap: int

    @property
    def detail(self) -> str:
        return (
            f"token cap reached: {self.used} of {self.cap} LLM tokens used {CAP_WHERE[self.scope]} "
            f"({CAP_SETTINGS[self.scope]})"
        )


@dataclass
class TokenReservation:
    """Tokens added to the counters in `keys` before a model is called; `refused` when a cap left no room."""

    tokens: int = 0
    keys: tuple[str, ...] = ()
    refused: TokenCapHit | None = None


def _conversation_key(conversation_id: str) -> str:
    return f"llm-tokens:conversation:{conversation_id}"


def _day_key(now: datetime | None = None) -> str:
    return f"llm-tokens:day:{(now or datetime.now(UTC)).date().isoformat()}"


def _ip_day_key(ip: str, now: datetime | None = None) -> str:
    return f"llm-tokens:ip:{ip}:{(now or datetime.now(UTC)).date().isoformat()}"


def llm_tokens_used(*, conversation_id: str) -> tuple[int, int]:
    """(tokens used by this conversation, tokens used today by all conversations)."""
    keys = [_conversation_key(conversation_id), _day_key()]
    found = cache.get_many(keys)
    return int(found.get(keys[0], 0)), int(found.get(keys[1], 0))


def llm_tokens_used_by_ip(*, ip: str) -> int:
    """Tokens used today by the conversations of one client address (`RateRequest.ip`)."""
    return int(cache.get(_ip_day_key(ip), 0))


def llm_tokens_reserve(*, conversation_id: str, client: RateRequest | None, tokens: int) -> TokenReservation:
    """
    Before a chat model is called: reserves `tokens` (the most the answer can
    cost) on the conversation's counter, the client address's counter of the
    day and the day's counter, unless one of them is already at its cap (a
    cap of 0 is no cap); then nothing stays reserved and `refused` says which.
    Each counter is checked with the value its own atomic increment returned,
    so answers in flight count at their maximum.
    """
    today = datetime.now(UTC)
    counters: list[tuple[Literal["conversation", "ip", "day"], str, int]] = [
        ("conversation", _conversation_key(conversation_id), CONVERSATION_TOKENS_TTL)
    ]
    if client is not None:
        counters.append(("ip", _ip_day_key(client.ip, today), DAY_TOKENS_TTL))
    counters.append(("day", _day_key(today), DAY_TOKENS_TTL))
    reservation = TokenReservation(tokens=max(0, tokens))
    try:
        for scope, key, ttl in counters:
            used = counter_add(cache, key, reservation.tokens, ttl) - reservation.tokens
            reservation.keys += (key,)
            cap = getattr(settings, CAP_SETTINGS[scope])
            if cap and used >= cap:
                llm_tokens_settle(reservation=reservation, tokens=0)
                reservation.refused = TokenCapHit(scope=scope, used=used, cap=cap)
                return reservation
    except Exception as exc:  # noqa: BLE001
        logger.warning("token caps not checked, the cache failed: %s", exc)
        llm_tokens_settle(reservation=reservation, tokens=0)
    return reservation


def llm_tokens_settle(*, reservation: TokenReservation, tokens: int) -> None:
    """After the answer: replaces the reservation by the prompt + completion tokens it cost."""
    delta, keys = max(0, tokens) - reservation.tokens, reservation.keys
    reservation.keys = ()
    try:
        for key in keys:
            if delta > 0:
                counter_add(cache, key, delta, DAY_TOKENS_TTL)
            elif delta < 0:
                counter_subtract(cache, key, -delta)
    except Exception as exc:  # noqa: BLE001
        logger.warning("%d LLM tokens not settled, the cache failed: %s", tokens, exc)


async def allm_tokens_reserve(*, conversation_id: str, client: RateRequest | None, tokens: int) -> TokenReservation:
    return await _off_the_loop(llm_tokens_reserve, conversation_id=conversation_id, client=client, tokens=tokens)


async def allm_tokens_settle(*, reservation: TokenReservation, tokens: int) -> None:
    await _off_the_loop(llm_tokens_settle, reservation=reservation, tokens=tokens)


# --- Open WebSockets per address -----------------------------------------------------------------

# A process that dies with WebSockets open stops counting them within two slots.
WEBSOCKET_SLOT_SECONDS = 60


def _websockets() -> OpenConnections:
    return OpenConnections(cache=cache, name="websockets:ip", slot_seconds=WEBSOCKET_SLOT_SECONDS, clock=clock)


def open_websockets(ip: str) -> int:
    """WebSockets open from one client address (`RateRequest.ip`), in every process."""
    return _websockets().count(ip)


@dataclass
class WebSocketSlot:
    """A place among the client address's open WebSockets; `lease` is None when not counted."""

    lease: ConnectionLease | None = None
    refused: bool = False


def websocket_slot_take(*, client: RateRequest) -> WebSocketSlot:
    """A place for one more WebSocket of this address, or `refused` at WEBSOCKET_CONNECTIONS_PER_IP (0: no cap)."""
    cap = settings.WEBSOCKET_CONNECTIONS_PER_IP
    if not cap or not getattr(settings, "RATELIMIT_ENABLE", True):
        return WebSocketSlot()
    try:
        lease = _websockets().open(client.ip, cap=cap)
    except Exception as exc:  # noqa: BLE001
        logger.warning("open WebSockets not counted, the cache failed: %s", exc)
        return WebSocketSlot()
    return WebSocketSlot(lease=lease, refused=lease is None)


def websocket_slot_renew(*, slot: WebSocketSlot) -> None:
    if slot.lease is not None:
        try:
            _websockets().renew(slot.lease)
        except Exception as exc:  # noqa: BLE001
            logger.warning("open WebSocket not renewed, the cache failed: %s", exc)


def websocket_slot_release(*, slot: WebSocketSlot) -> None:
    lease, slot.lease = slot.lease, None
    if lease is not None:
        try:
            _websockets().close(lease)
        except Exception as exc:  # noqa: BLE001 - it expires with its slots
            logger.warning("closed WebSocket not released, the cache failed: %s", exc)


async def awebsocket_slot_take(*, client: RateRequest) -> WebSocketSlot:
    return await _off_the_loop(websocket_slot_take, client=client)


async def awebsocket_slot_keep(*, slot: WebSocketSlot) -> None:
    """Runs while the WebSocket is open: renews its place once per slot, until cancelled."""
    while slot.lease is not None:
        await asyncio.sleep(_websockets().seconds_to_next_slot() + 1)
        await _off_the_loop(websocket_slot_renew, slot=slot)


async def awebsocket_slot_release(*, slot: WebSocketSlot) -> None:
    await _off_the_loop(websocket_slot_release, slot=slot)
