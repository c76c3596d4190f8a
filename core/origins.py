"""
Origin matching, pure: whether a browser page's Origin matches a list of
allowed-origin patterns, or is the server's own host. chatbot.origins applies
it to the widget's doors with the bot settings' list.

A pattern is an exact origin (`https://www.example.com`, port optional for
80/443), a scheme with a subdomain wildcard (`https://*.example.com`, which
also matches the bare domain), or `*` for any site. In a text of patterns,
one per line, blank lines and lines starting with # are ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

logger = logging.getLogger(__name__)

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


@dataclass(frozen=True)
class OriginPattern:
    scheme: str | None  # None only for "*"
    host: str
    port: int | None
    subdomains: bool = False

    def matches(self, origin: ParsedOrigin) -> bool:
        if self.scheme is None:
            return True
        if self.scheme != origin.scheme or self.port != origin.port:
            return False
        if self.subdomains:
            return origin.host == self.host or origin.host.endswith("." + self.host)
        return origin.host == self.host


@dataclass(frozen=True)
class ParsedOrigin:
    scheme: str
    host: str
    port: int | None
    netloc: str


def origin_parse(value: str) -> ParsedOrigin | None:
    """An Origin header value as scheme, host and port; None when it is not one (e.g. "null")."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        return None
    return ParsedOrigin(
        scheme=scheme,
        host=parts.hostname.lower().rstrip("."),
        port=port if port is not None else DEFAULT_PORTS[scheme],
        netloc=parts.netloc.lower(),
    )


def origin_pattern_parse(line: str) -> OriginPattern:
    """Raises ValueError with a message a site owner can act on."""
    text = line.strip()
    if text == "*":
        return OriginPattern(scheme=None, host="*", port=None)
    subdomains = "://*." in text
    candidate = text.replace("://*.", "://", 1) if subdomains else text
    if "://" not in candidate:
        raise ValueError(f"{text!r} has no scheme; write it like https://www.example.com")
    parsed = origin_parse(candidate.rstrip("/"))
    if parsed is None or "*" in candidate:
        raise ValueError(
            f"{text!r} is not an origin; write scheme and host only, like https://www.example.com "
            "or https://*.example.com"
        )
    return OriginPattern(scheme=parsed.scheme, host=parsed.host, port=parsed.port, subdomains=subdomains)


def origin_patterns_errors(*, text: str) -> list[str]:
    """
    One message per unusable line of an allowed-origins text (one origin per
    line; blank lines and lines starting with # are ignored). For a model's
    or form's clean().
    """
    errors = []
    for line in origin_lines(text):
        try:
            origin_pattern_parse(line)
        except ValueError as exc:
            errors.append(str(exc))
    return errors


def origin_lines(text: str | Iterable[str]) -> list[str]:
    """The pattern lines of a text (or of lines): stripped, without blanks and # comments."""
    lines = text.splitlines() if isinstance(text, str) else list(text)
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _patterns(lines: Iterable[str]) -> list[OriginPattern]:
    patterns = []
    for line in lines:
        try:
            patterns.append(origin_pattern_parse(line))
        except ValueError:
            logger.warning("ignoring allowed origin %r: not an origin", line)
    return patterns


def origin_is_allowed(*, origin: str, host: str | None, allowed: Iterable[str]) -> bool:
    """
    Whether a browser on `origin` may use the bot served at `host` (the
    request's Host header). Pure: the caller supplies the allowed lines.
    """
    parsed = origin_parse(origin)
    if parsed is None:
        return False
    if host and _is_own_host(parsed, host):
        return True
    return any(pattern.matches(parsed) for pattern in _patterns(origin_lines(list(allowed))))


def _is_own_host(origin: ParsedOrigin, host: str) -> bool:
    """
    Same host and port as the request, compared as written (not by scheme), so
    a server behind a TLS proxy still recognises its own https pages; the Host
    must also be one Django serves.
    """
    host = host.strip().lower()
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    return origin.netloc == host
