"""
Fetching web-page sources: a small adapter with a wall-clock timeout, a byte
cap and one retry for transient failures. Errors are `FetchError`s whose
message is shown in admin as the source's failure reason.
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.client import HTTPException
from urllib.parse import urlparse

USER_AGENT = "TidewaterAssistant/1.0 (knowledge base fetcher)"
READ_SIZE = 64 * 1024
RETRY_DELAY = 0.5


class FetchError(Exception):
    """The page could not be fetched; `transient` says whether trying again later may help."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class FetchedPage:
    url: str
    final_url: str
    content_type: str
    body: bytes


def fetch_url(*, url: str, timeout: float, max_bytes: int, retries: int = 1) -> FetchedPage:
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise FetchError(f"{url!r} is not an http(s) URL.", transient=False)
    attempt = 0
    while True:
        try:
            return _fetch_once(url=url, timeout=timeout, max_bytes=max_bytes)
        except FetchError as exc:
            if not exc.transient or attempt >= retries:
                raise
            attempt += 1
            time.sleep(RETRY_DELAY * attempt)


def _fetch_once(*, url: str, timeout: float, max_bytes: int) -> FetchedPage:
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(url, headers={
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,text/plain,text/markdown,application/pdf;q=0.9,*/*;q=0.5",
    })
    limit_mb = f"{max_bytes / 1_048_576:,.1f} MB"
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    f"The page is {int(declared) / 1_048_576:,.1f} MB, more than the {limit_mb} allowed "
                    "(URL_FETCH_MAX_BYTES).", transient=False,
                )
            parts: list[bytes] = []
            received = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"The page did not finish loading within {timeout:g} s.", transient=True)
                part = response.read(READ_SIZE)
                if not part:
                    break
                received += len(part)
                if received > max_bytes:
                    raise FetchError(
                        f"The page is larger than the {limit_mb} allowed (URL_FETCH_MAX_BYTES).", transient=False
                    )
                parts.append(part)
            return FetchedPage(
                url=url, final_url=response.geturl(),
                content_type=response.headers.get("Content-Type", ""), body=b"".join(parts),
            )
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        transient = exc.code >= 500 or exc.code == 429
        raise FetchError(f"The page answered {exc.code} {exc.reason}.", transient=transient) from None
    except TimeoutError:
        raise FetchError(f"The page did not answer within {timeout:g} s.", transient=True) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise FetchError(f"The page did not answer within {timeout:g} s.", transient=True) from None
        raise FetchError(f"The page could not be reached: {reason}.", transient=True) from None
    except (HTTPException, ConnectionError, OSError) as exc:
        raise FetchError(f"The connection failed while loading the page: {exc}.", transient=True) from None
