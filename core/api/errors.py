"""Error responses of the public API: `{"code", "message", ...}` with the status the code implies."""

from __future__ import annotations

from collections.abc import Mapping

from rest_framework import status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import exception_handler

ERROR_STATUS = {
    "bad_request": status.HTTP_400_BAD_REQUEST,
    "too_long": status.HTTP_400_BAD_REQUEST,
    "not_found": status.HTTP_404_NOT_FOUND,
    "rate_limited": status.HTTP_429_TOO_MANY_REQUESTS,
    "llm_unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "server_error": status.HTTP_500_INTERNAL_SERVER_ERROR,
}
RATE_LIMITED_MESSAGE = "Too many requests in a short time; please slow down."


def error_response(frame: Mapping) -> Response:
    """
    An error (a WebSocket error frame or the same fields without `type`) as a
    response: the fields without `type`; `Retry-After` when it says when to retry.
    """
    body = {key: value for key, value in frame.items() if key != "type"}
    response = Response(body, status=ERROR_STATUS.get(frame["code"], status.HTTP_400_BAD_REQUEST))
    if "retry_after" in frame:
        response["Retry-After"] = str(frame["retry_after"])
    return response


def rate_limited_response(retry_after: int, message: str = RATE_LIMITED_MESSAGE) -> Response:
    """HTTP 429 with a Retry-After header and `{"code": "rate_limited", "message", "retry_after"}`."""
    return error_response({"code": "rate_limited", "message": message, "retry_after": retry_after})


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """
    DRF's handler, except that a body the parser refuses (not JSON, nested too
    deeply, a huge number, a NUL character) answers in the API's error shape:
    400 `{"code": "bad_request", "message": ...}`, like every other refusal.
    """
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, ParseError):
        response.data = {"code": "bad_request", "message": str(exc.detail)}
    return response
