"""
Fetching web-page sources: a small adapter with a wall-clock timeout, a byte
cap and one retry for transient failures. Errors are `FetchError`s whose
message is shown in admin as the source's failure reason.

Every request, its redirects and re-fetches included, goes through the fetch
guard (`core.netguard`): public addresses only unless
FETCH_ALLOW_PRIVATE_ADDRESSES or FETCH_ALLOWED_NETWORKS say otherwise. A page
the guard refuses, or that cannot be reached or does not speak HTTP, fails with
one reason, `PAGE_UNAVAILABLE`, whatever the cause, so that reasons cannot tell
an open port from a closed one; the cause is in the server log.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlparse

from core.netguard import FetchBlocked, guarded_request

USER_AGENT = "TidewaterAssistant/1.0 (knowledge base fetcher)"
READ_SIZE = 64 * 1024
RETRY_DELAY = 0.5
PAGE_UNAVAILABLE = "The page could not be fetched."


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
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "text/html,application/xhtml+xml,text/plain,text/markdown,application/pdf;q=0.9,*/*;q=0.5",
    }
    limit_mb = f"{max_bytes / 1_048_576:,.1f} MB"
    try:
        with guarded_request(url=url, headers=headers, timeout=timeout) as response:
            if not 200 <= response.status < 300:
                transient = response.status >= 500 or response.status == 429
                raise FetchError(f"The page answered {response.status} {response.reason}.", transient=transient)
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise FetchError(
                    f"The page is {int(declared) / 1_048_576:,.1f} MB, more than the {limit_mb} allowed "
                    "(URL_FETCH_MAX_BYTES).",
                    transient=False,
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
                url=url,
                final_url=response.url,
                content_type=response.headers.get("Content-Type", ""),
                body=b"".join(parts),
            )
    except FetchBlocked as exc:
        raise FetchError(PAGE_UNAVAILABLE, transient=exc.transient) from None
    except TimeoutError:
        raise FetchError(f"The page did not answer within {timeout:g} s.", transient=True) from None
