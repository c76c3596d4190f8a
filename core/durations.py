"""Durations as people read them, wherever one is shown (admin columns, command output)."""

from __future__ import annotations


def duration_format(seconds: float | None) -> str:
    """`0.0077` -> `8 ms`; `12.34` -> `12.3 s`; `125` -> `2 min 5 s`; `3720` -> `1 h 2 min`; None -> `-`."""
    if seconds is None:
        return "-"
    milliseconds = round(seconds * 1000)
    if milliseconds < 1000:
        return "<1 ms" if milliseconds < 1 else f"{milliseconds} ms"
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
