"""Open connections per key: a cap that parallel opens cannot pass, freed on close or, after a crash, by expiry."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from core.open_connections import OpenConnections
from core.tests.clock import FakeClock

SLOT = 60


@pytest.fixture
def clock():
    return FakeClock(start=30_000_000 * SLOT + 5)


@pytest.fixture
def connections(clock):
    return OpenConnections(cache=cache, name="test", slot_seconds=SLOT, clock=clock)


def test_an_address_at_its_cap_is_refused_until_one_of_its_connections_closes(connections):
    leases = [connections.open("203.0.113.7", cap=2) for _ in range(2)]

    refused = connections.open("203.0.113.7", cap=2)
    other_address = connections.open("198.51.100.1", cap=2)
    connections.close(leases[0])
    after_close = connections.open("203.0.113.7", cap=2)

    assert all(leases) and other_address is not None
    assert refused is None
    assert after_close is not None
    assert connections.count("203.0.113.7") == 2


def test_a_renewed_connection_stays_counted_slot_after_slot(connections, clock):
    lease = connections.open("203.0.113.7", cap=1)
    for _ in range(5):
        clock.advance(connections.seconds_to_next_slot() + 1)
        connections.renew(lease)

    assert connections.count("203.0.113.7") == 1
    assert connections.open("203.0.113.7", cap=1) is None
    connections.close(lease)
    assert connections.count("203.0.113.7") == 0


def test_a_late_renewal_catches_up(connections, clock):
    lease = connections.open("203.0.113.7", cap=1)
    clock.advance(3 * SLOT)  # the event loop was stalled for three slots

    connections.renew(lease)

    assert connections.count("203.0.113.7") == 1
    connections.close(lease)
    assert connections.count("203.0.113.7") == 0


def test_the_connections_of_a_crashed_process_stop_counting_within_two_slots(connections, clock):
    for _ in range(3):
        connections.open("203.0.113.7", cap=3)  # never renewed, never closed
    assert connections.open("203.0.113.7", cap=3) is None

    clock.advance(connections.seconds_to_next_slot() + 1)
    one_slot_later = connections.count("203.0.113.7")
    clock.advance(SLOT)

    assert one_slot_later == 3
    assert connections.count("203.0.113.7") == 0
    assert connections.open("203.0.113.7", cap=3) is not None


def test_parallel_opens_never_pass_the_cap(connections):
    with ThreadPoolExecutor(max_workers=8) as pool:
        leases = list(pool.map(lambda _: connections.open("203.0.113.7", cap=5), range(40)))

    assert sum(lease is not None for lease in leases) == 5
    assert connections.count("203.0.113.7") == 5
