"""Retry-After as the peers send it, and the backoff every outbound client shares."""

from __future__ import annotations

import httpx2
import pytest

from core.retry import backoff_delay, retry_after_from_headers, retry_after_seconds

# Wed, 21 Oct 2015 07:28:00 GMT
OCTOBER_21 = 1_445_412_480.0


@pytest.mark.parametrize(("value", "seconds"), [("12", 12.0), (" 7 ", 7.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0)])
def test_it_reads_delay_seconds(value, seconds):
    assert retry_after_seconds(value) == seconds


def test_it_reads_an_http_date_as_seconds_from_now():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=OCTOBER_21 - 90) == pytest.approx(90)


def test_a_date_without_a_zone_is_utc():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 -0000", now=OCTOBER_21 - 30) == pytest.approx(30)


def test_a_date_in_the_past_means_now():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "inf", "nan", "Wed, 99 Foo 2015"])
def test_it_gives_none_for_a_missing_or_unreadable_header(value):
    assert retry_after_seconds(value) is None


def test_the_backoff_doubles_per_attempt_within_its_jitter():
    for attempt, nominal in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)):
        delays = [backoff_delay(attempt=attempt, base=1.0, cap=100.0) for _ in range(50)]
        assert all(nominal * 0.8 <= delay <= nominal * 1.2 for delay in delays), (attempt, delays)


def test_the_jitter_spreads_clients_that_failed_together():
    delays = {backoff_delay(attempt=3, base=1.0, cap=100.0) for _ in range(20)}
    assert len(delays) > 1


def test_the_backoff_stops_growing_at_its_cap():
    delays = [backoff_delay(attempt=attempt, base=1.0, cap=5.0, jitter=(1.0, 1.0)) for attempt in (4, 10, 10_000)]
    assert delays == [5.0, 5.0, 5.0]


def test_it_uses_the_jitter_range_it_is_given():
    delays = [backoff_delay(attempt=2, base=1.0, cap=100.0, jitter=(0.5, 1.0)) for _ in range(50)]
    assert all(1.0 <= delay <= 2.0 for delay in delays)


def test_it_never_retries_before_the_peer_asked():
    assert backoff_delay(attempt=1, base=1.0, cap=5.0, retry_after=30.0) == 30.0


def test_a_short_retry_after_does_not_shorten_the_backoff():
    delays = [backoff_delay(attempt=3, base=1.0, cap=100.0, retry_after=0.1) for _ in range(20)]
    assert all(delay >= 4.0 * 0.8 for delay in delays)


def test_it_prefers_the_precise_retry_after_ms_of_openai_compatible_servers():
    assert retry_after_from_headers(httpx2.Headers({"Retry-After-Ms": "400", "Retry-After": "1"})) == 0.4


def test_it_falls_back_to_retry_after_when_retry_after_ms_is_not_a_number():
    assert retry_after_from_headers(httpx2.Headers({"retry-after-ms": "soon", "retry-after": "3"})) == 3.0
    assert retry_after_from_headers(httpx2.Headers({"retry-after": "3"})) == 3.0
    assert retry_after_from_headers(httpx2.Headers({})) is None
