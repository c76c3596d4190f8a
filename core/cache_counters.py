"""
Integer counters in the Django cache that several processes can share.

Django's `incr` is atomic on Redis (INCR) and in the local-memory cache (a
lock shared by the process's threads), so `counter_add` returns a count that
includes every concurrent addition before it: two requests cannot both see
the last free place. Counters are created with a timeout, so a process that
dies before taking back what it added leaves nothing behind for long.
"""

from __future__ import annotations

import hashlib

from django.core.cache import BaseCache


def counter_add(cache: BaseCache, key: str, delta: int, timeout: float) -> int:
    """Adds `delta` (> 0) to the counter, creating it with `timeout`; returns the new value."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key, delta)
    except ValueError:  # expired between add and incr
        cache.set(key, delta, timeout=timeout)
        return delta


def counter_subtract(cache: BaseCache, key: str, delta: int) -> None:
    """Takes `delta` back from the counter; nothing when it has already expired."""
    try:
        cache.decr(key, delta)
    except ValueError:
        pass


def key_digest(value: str) -> str:
    """A cache-safe fixed-length stand-in for `value` (usernames and addresses may hold any character)."""
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
