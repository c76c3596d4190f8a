"""The sliding window counts the events of the last period, whenever they happened, in every process's cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from core.sliding_window import SlidingWindow
from core.tests.clock import FakeClock

# 15 minutes in 30 slots of 30 seconds.
PERIOD = 900
SLOT = 30


@pytest.fixture
def clock():
    # The start of a slot, so that offsets below read as plain seconds.
    return FakeClock(start=60_000 * SLOT)


def window(clock, limit: int = 5) -> SlidingWindow:
    return SlidingWindow(cache=cache, name="test", limit=limit, period=PERIOD, clock=clock)


def test_it_refuses_the_event_over_the_limit_and_says_when_the_oldest_leaves(clock):
    counter = window(clock)
    hits = [counter.add("ana") for _ in range(5)]
    clock.advance(100)

    over = counter.add("ana")

    assert [hit.over for hit in hits] == [False] * 5
    assert over.over and over.count == 6
    # The five events happened in the slot starting at 0: they count until 0 + 30 + 900.
    assert over.retry_after == pytest.approx(PERIOD + SLOT - 100)


def test_a_window_boundary_does_not_reset_the_count(clock):
    counter = window(clock)
    clock.advance(PERIOD - 5)
    for _ in range(5):
        counter.add("ana")
    clock.advance(10)  # past the boundary where a fixed 15-minute window would start again

    over = counter.add("ana")

    assert over.over
    assert over.retry_after > PERIOD - 30


def test_events_leave_the_window_one_period_after_their_slot(clock):
    counter = window(clock)
    for _ in range(3):
        counter.add("ana")
    clock.advance(600)
    for _ in range(2):
        counter.add("ana")
    clock.advance(100)

    at_700 = counter.retry_after("ana")
    clock.advance(at_700)
    after_the_wait = counter.retry_after("ana")

    assert at_700 == pytest.approx(PERIOD + SLOT - 700), "the three oldest must leave first"
    assert after_the_wait is None
    assert counter.count("ana") == 2, "the two later events are still in the window"


def test_the_wait_counts_only_as_many_old_events_as_must_leave(clock):
    counter = window(clock, limit=3)
    counter.add("ana")
    clock.advance(300)
    counter.add("ana")
    counter.add("ana")
    clock.advance(10)

    over = counter.add("ana")

    assert over.over
    assert over.retry_after == pytest.approx(PERIOD + SLOT - 310), "one event leaving is enough"


def test_removed_events_do_not_count(clock):
    counter = window(clock, limit=2)
    for _ in range(10):
        counter.remove(counter.add("ana"))

    assert counter.count("ana") == 0
    assert not counter.add("ana").over


def test_each_value_has_its_own_window(clock):
    counter = window(clock, limit=1)
    counter.add("ana")

    assert counter.add("ana").over
    assert not counter.add("bob").over
    assert not SlidingWindow(cache=cache, name="other", limit=1, period=PERIOD, clock=clock).add("ana").over


def test_parallel_events_never_let_more_than_the_limit_through(clock):
    counter = window(clock, limit=5)

    def attempt(_):
        hit = counter.add("ana")
        if hit.over:
            counter.remove(hit)
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        allowed = list(pool.map(attempt, range(40)))

    assert allowed.count(True) == 5
    assert counter.count("ana") == 5
