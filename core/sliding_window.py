"""
A sliding-window event counter in the Django cache, shared by every process.

A fixed window forgets everything at its boundary: five failures at 10:14
and five more at 10:16 pass a "5 per 15 minutes" limit counted in windows
that start at 10:00 and 10:15. A sliding window counts the events of the
last `period` seconds, whenever they happened.

The window is kept as `slots` counters of period/slots seconds each, one
cache key per slot (core.cache_counters: atomic on Redis and in the
local-memory cache). The count is the sum of the slots that overlap the
window, so an event counts for at least `period` seconds and at most one
slot longer; with 30 slots a 15-minute window is exact to 30 seconds, and
the wait it reports is the real one to that precision (never shorter).

    window = SlidingWindow(cache=cache, name="admin-login", limit=5, period=900)
    hit = window.add("ana")           # counted before the attempt...
    if hit.over:                      # ...so parallel attempts cannot all pass
        window.remove(hit)            # a refused attempt does not count
        wait = hit.retry_after        # seconds until one more is allowed

The clock is a parameter, so tests move time without waiting.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import BaseCache

from core.cache_counters import counter_add, counter_subtract, key_digest

DEFAULT_SLOTS = 30


@dataclass(frozen=True)
class WindowHit:
    """One event counted by `SlidingWindow.add`."""

    slot_key: str
    count: int  # events in the window, this one included
    limit: int
    retry_after: float | None  # when over: seconds until the window holds fewer than `limit` events again

    @property
    def over(self) -> bool:
        return self.count > self.limit


class SlidingWindow:
    def __init__(
        self,
        *,
        cache: BaseCache,
        name: str,
        limit: int,
        period: float,
        slots: int = DEFAULT_SLOTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or period <= 0 or slots < 1:
            raise ValueError("a sliding window needs limit >= 1, period > 0 and slots >= 1")
        self.cache = cache
        self.name = name
        self.limit = limit
        self.period = period
        self.slots = slots
        self.slot_seconds = period / slots
        self.clock = clock

    def _index(self, now: float) -> int:
        return math.floor(now / self.slot_seconds)

    def _slot_key(self, key: str, index: int) -> str:
        return f"sliding:{self.name}:{key_digest(key)}:{index}"

    def _counts(self, key: str, now: float) -> list[tuple[int, int]]:
        """(slot index, events) of the slots in the window, oldest first."""
        current = self._index(now)
        indexes = range(current - self.slots, current + 1)
        found = self.cache.get_many([self._slot_key(key, index) for index in indexes])
        return [(index, int(found.get(self._slot_key(key, index), 0))) for index in indexes]

    def _wait(self, counts: list[tuple[int, int]], now: float) -> float | None:
        """Seconds until fewer than `limit` events remain, as the oldest slots leave the window; None if now."""
        remaining = sum(events for _, events in counts)
        for index, events in counts:
            if remaining < self.limit:
                break
            remaining -= events
            if remaining < self.limit:
                # An event in slot `index` counts until its slot's end plus the period.
                return max(0.0, (index + 1 + self.slots) * self.slot_seconds - now)
        return None

    def count(self, key: str) -> int:
        return sum(events for _, events in self._counts(key, self.clock()))

    def retry_after(self, key: str) -> float | None:
        """Without counting: seconds until one more event would be within the limit; None if it is now."""
        now = self.clock()
        return self._wait(self._counts(key, now), now)

    def add(self, key: str) -> WindowHit:
        """Counts one event now. When the result is `over`, `retry_after` excludes this event."""
        now = self.clock()
        slot_key = self._slot_key(key, self._index(now))
        # The slot's key lives as long as any window can include it.
        in_slot = counter_add(self.cache, slot_key, 1, timeout=self.period + 2 * self.slot_seconds + 1)
        counts = self._counts(key, now)
        # The current slot as this increment left it: events added after it do not make it count as over.
        counts[-1] = (counts[-1][0], in_slot)
        count = sum(events for _, events in counts)
        retry_after = None
        if count > self.limit:
            index, events = counts[-1]
            counts[-1] = (index, max(0, events - 1))
            retry_after = self._wait(counts, now)
        return WindowHit(slot_key=slot_key, count=count, limit=self.limit, retry_after=retry_after)

    def remove(self, hit: WindowHit) -> None:
        """Takes an event back (a refused or a successful attempt, for limits that count failures)."""
        counter_subtract(self.cache, hit.slot_key, 1)
