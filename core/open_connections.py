"""
How many connections each key (a client address) holds open, across every
process sharing the Django cache; for a cap on open WebSockets.

A plain counter (add on open, subtract on close) stays wrong forever when a
process dies with connections open. Here time is cut in slots of
`slot_seconds`: an open connection is counted in the current slot and in
the next one, and renews itself into the slot after that once per slot
(`renew`, called by a task of the connection). The count is the current
slot's. Closing takes the connection out of the slots it was counted in; a
process that dies without closing leaves counts that expire with their
slots, within two slots.

    lease = connections.open("203.0.113.7", cap=30)   # None: the address is at its cap
    ...  every connections.seconds_to_next_slot(): connections.renew(lease)
    connections.close(lease)

Adding is atomic (core.cache_counters), so parallel opens cannot overshoot
the cap. The clock is a parameter, so tests move time without waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import BaseCache

from core.cache_counters import counter_add, counter_subtract, key_digest


@dataclass
class ConnectionLease:
    """One open connection: the slots [first, last] it is counted in."""

    slot_prefix: str
    first: int
    last: int


class OpenConnections:
    def __init__(
        self, *, cache: BaseCache, name: str, slot_seconds: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        if slot_seconds <= 0:
            raise ValueError("slot_seconds must be > 0")
        self.cache = cache
        self.name = name
        self.slot_seconds = slot_seconds
        self.clock = clock

    def _index(self) -> int:
        return math.floor(self.clock() / self.slot_seconds)

    def _prefix(self, key: str) -> str:
        return f"open:{self.name}:{key_digest(key)}"

    def _add(self, prefix: str, index: int) -> int:
        # A slot's key is created at most one slot before the slot starts and read until it ends.
        return counter_add(self.cache, f"{prefix}:{index}", 1, timeout=3 * self.slot_seconds)

    def count(self, key: str) -> int:
        return int(self.cache.get(f"{self._prefix(key)}:{self._index()}", 0))

    def open(self, key: str, *, cap: int) -> ConnectionLease | None:
        """Counts a new connection of `key`; None (and nothing counted) when `key` already holds `cap`."""
        prefix, current = self._prefix(key), self._index()
        count = self._add(prefix, current)
        self._add(prefix, current + 1)
        lease = ConnectionLease(slot_prefix=prefix, first=current, last=current + 1)
        if count > cap:
            self.close(lease)
            return None
        return lease

    def renew(self, lease: ConnectionLease) -> None:
        """Counts the connection up to the next slot (late renewals catch up from the current one)."""
        current = self._index()
        for index in range(max(lease.last + 1, current), current + 2):
            self._add(lease.slot_prefix, index)
        lease.last = max(lease.last, current + 1)

    def close(self, lease: ConnectionLease) -> None:
        """Takes the connection out of the current and future slots it was counted in (past ones expire)."""
        for index in range(max(lease.first, self._index()), lease.last + 1):
            counter_subtract(self.cache, f"{lease.slot_prefix}:{index}", 1)
        lease.last = lease.first - 1

    def seconds_to_next_slot(self) -> float:
        now = self.clock()
        return (math.floor(now / self.slot_seconds) + 1) * self.slot_seconds - now
