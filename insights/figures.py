"""
Pure helpers for the insights figures: day boundaries, the time-to-first-token
histogram and its percentiles, source keys and question normalisation.

Times to first token are kept per day as counts in geometric buckets (each
bound 10% above the last, from 10 ms to about 2 minutes), so that a period's
p50/p95 can be read from the sum of its days' histograms without keeping every
value: a percentile is the upper bound of its bucket, at most 10% high.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Sequence

from django.utils import timezone

TTFT_BOUNDS: tuple[int, ...] = tuple(sorted({round(10 * 1.1**i) for i in range(100)}))
QUESTION_WORD_RE = re.compile(r"\w+", re.UNICODE)
SOURCE_PATH_RE = re.compile(r"^/kb/(sources|faqs)/(\d+)/")


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day's start and the next day's start, as aware datetimes in TIME_ZONE."""
    zone = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
    return start, end


def histogram_of(values: Iterable[int]) -> list[int]:
    counts = [0] * (len(TTFT_BOUNDS) + 1)
    for value in values:
        counts[bisect.bisect_left(TTFT_BOUNDS, value)] += 1
    while counts and counts[-1] == 0:
        counts.pop()
    return counts


def histograms_add(histograms: Iterable[Sequence[int]]) -> list[int]:
    total: list[int] = []
    for histogram in histograms:
        if len(histogram) > len(total):
            total.extend([0] * (len(histogram) - len(total)))
        for index, count in enumerate(histogram):
            total[index] += count
    return total


def histogram_percentile(histogram: Sequence[int], fraction: float) -> int | None:
    """The upper bound (ms) of the bucket holding the `fraction` quantile; None without values."""
    total = sum(histogram)
    if not total:
        return None
    rank = fraction * total
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if count and seen >= rank:
            return TTFT_BOUNDS[index] if index < len(TTFT_BOUNDS) else TTFT_BOUNDS[-1]
    return TTFT_BOUNDS[-1]


def question_key(text: str) -> str:
    """Case and punctuation ignored: "Do you ship to Canada?" and "do you ship to canada" are one question."""
    return " ".join(QUESTION_WORD_RE.findall(text.lower()))[:200]


def source_key(url: str, title: str) -> str:
    """A cited source as one key: `document:<id>`/`faq:<id>` for knowledge-base pages, else its URL or title."""
    match = SOURCE_PATH_RE.match(url or "")
    if match:
        return f"{'document' if match.group(1) == 'sources' else 'faq'}:{match.group(2)}"
    return url or f"title:{title}"


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
