"""The REST API's JSON parser: the default for every DRF view (REST_FRAMEWORK in settings)."""

from __future__ import annotations

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser, get_encoding  # type: ignore[attr-defined]  # not in the stubs yet

from core.safejson import json_loads_bounded


class BoundedJSONParser(JSONParser):
    """
    DRF's JSON parser with the bounds of `core.safejson`: nesting, number size
    and NUL characters are refused as a `ParseError` (400 `bad_request`, see
    `core.api.errors.api_exception_handler`) instead of a RecursionError's 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = get_encoding(parser_context or {})  # text codecs only (no bz2_codec bombs)
        try:
            return json_loads_bounded(stream.read().decode(encoding))
        except ValueError as exc:  # JSONDecodeError, JsonRefused, UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from None
