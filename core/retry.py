"""
Retrying an outbound call: reading the peer's Retry-After, and the backoff.

Every client that talks to another server (the Sheets adapter, the lead
webhook, the LLM provider, the outboxes behind them) decides when to try again
with these two functions, so they agree on what a Retry-After means and on how
quickly retries spread out.
"""

from __future__ import annotations

import email.utils
import math
import random
import time
from collections.abc import Mapping
from datetime import UTC


def retry_after_seconds(header_value: str | None, *, now: float | None = None) -> float | None:
    """
    A Retry-After header value as seconds from `now` (the epoch time; default
    the current time): either delay-seconds or an HTTP-date (RFC 9110, 10.2.3).
    A date in the past or a negative delay is 0. None when the header is absent
    or unreadable (including "inf" and "nan", which no server means).
    """
    if not header_value or not header_value.strip():
        return None
    value = header_value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000" means UTC without saying so (RFC 5322, 3.3)
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - (time.time() if now is None else now))


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """
    The wait a response asks for, from its (case-insensitive) headers: the
    `retry-after-ms` that OpenAI-compatible servers send, more precise, when it
    is a number, else `Retry-After`.
    """
    try:
        milliseconds = float(headers.get("retry-after-ms") or "nan")
    except ValueError:
        milliseconds = math.nan
    if math.isfinite(milliseconds):
        return max(0.0, milliseconds / 1000.0)
    return retry_after_seconds(headers.get("retry-after"))


def backoff_delay(
    *,
    attempt: int,
    base: float,
    cap: float,
    retry_after: float | None = None,
    jitter: tuple[float, float] = (0.8, 1.2),
) -> float:
    """
    Seconds to wait before retry number `attempt` (1-based): `base` doubled per
    earlier retry, capped at `cap`, multiplied by a random factor drawn from
    `jitter` (so that clients which failed together do not retry together),
    and never sooner than the peer's `retry_after`.
    """
    doublings = min(max(0, attempt - 1), 64)  # past 64 the cap has long won, and 2**n stays a float
    delay = min(cap, base * 2.0**doublings) * random.uniform(*jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
