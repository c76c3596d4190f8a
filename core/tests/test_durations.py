"""Durations as people read them (core.durations)."""

import pytest

from core.durations import duration_format


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.007661171999984617, "8 ms"),
        (0.0002, "<1 ms"),
        (0.9994, "999 ms"),
        (0.9996, "1.0 s"),
        (1.0, "1.0 s"),
        (12.3456, "12.3 s"),
        (59.96, "1 min 0 s"),
        (125.4, "2 min 5 s"),
        (3720, "1 h 2 min"),
        (None, "-"),
    ],
)
def test_it_rounds_durations_to_what_a_person_reads(seconds, shown):
    assert duration_format(seconds) == shown
