"""Fixtures for the core tests: a DNS resolver the tests choose answers for."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


class Resolver:
    """
    Stands in for DNS at the socket edge (`socket.getaddrinfo`): a name in
    `answers` resolves to the given addresses (a list of lists: one answer per
    lookup, the last one repeated); other names resolve as usual. `lookups`
    counts the lookups per name.
    """

    def __init__(self, real):
        self._real = real
        self.answers: dict[str, list[list[str]]] = {}
        self.lookups: dict[str, int] = {}

    def __call__(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self._real(host, port, family, type, proto, flags)
        number = self.lookups.get(name, 0)
        self.lookups[name] = number + 1
        answers = self.answers[name]
        addresses = answers[min(number, len(answers) - 1)]
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                socket.IPPROTO_TCP,
                "",
                (address, int(port), 0, 0) if ":" in address else (address, int(port)),
            )
            for address in addresses
        ]


@pytest.fixture
def resolver(monkeypatch) -> Iterator[Resolver]:
    fake = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield fake
