"""
JSON from strangers, parsed within bounds: every door (the REST parser and the
WebSocket frame parser) goes through `json_loads_bounded`.

Plain `json.loads` has three ways to fail that callers expecting a
`ValueError` do not catch or cannot store:
- it recurses once per nesting level, so a body of 50,000 `[` raises
  `RecursionError` (an HTTP 500, a WebSocket dropped without a close frame);
- `int()` refuses numbers of more than 4,300 digits (a `ValueError` that is not
  a `JSONDecodeError`), and smaller huge numbers cost quadratic time to convert;
- `"\\u0000"` decodes to a NUL character, which PostgreSQL cannot store in text
  (a `server_error` on the first save).

Each is refused here as `JsonRefused` (a `ValueError`) with a message fit for
the client's developer: nesting is measured before parsing, in linear time
(see `json_depth`); numbers are bounded while parsing; NULs are looked for
after parsing, only when the text contains the escape at all.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32
MAX_NUMBER_CHARS = 100


class JsonRefused(ValueError):
    """The text is not JSON this server accepts; the message says why."""


_ESCAPE = re.compile(r"\\.", re.S)
# Once escapes are gone, every `"` opens or closes a string: `"[^"]*"` cannot
# backtrack more than once over the text (only for an unterminated last string).
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


def json_depth(text: str) -> int:
    """
    How deeply the arrays and objects of `text` nest (brackets inside strings
    do not count), in linear time and without recursion. For text that is not
    JSON the figure is meaningless but finite; the parser then says what is wrong.
    """
    structure = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    return max(accumulate(map(_DELTA.__getitem__, structure)), default=0)


def _number(kind: type) -> Any:
    def parse(literal: str) -> int | float:
        if len(literal) > MAX_NUMBER_CHARS:
            raise JsonRefused(f"Numbers must be at most {MAX_NUMBER_CHARS} characters long.")
        return kind(literal)

    return parse


def _constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not valid JSON.")


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_loads_bounded(text: str) -> Any:
    """`json.loads`, refusing deep nesting, long numbers, NaN/Infinity and NUL characters (`JsonRefused`)."""
    opened = text.count("[") + text.count("{")
    if opened > MAX_DEPTH and json_depth(text) > MAX_DEPTH:
        raise JsonRefused(f"JSON must not nest more than {MAX_DEPTH} levels deep.")
    try:
        value = json.loads(text, parse_int=_number(int), parse_float=_number(float), parse_constant=_constant)
    except RecursionError:  # cannot happen below MAX_DEPTH; kept so that it never becomes a 500
        raise JsonRefused(f"JSON must not nest more than {MAX_DEPTH} levels deep.") from None
    if "\\u0000" in text and _has_nul(value):
        raise JsonRefused("Text must not contain NUL characters (\\u0000).")
    return value
