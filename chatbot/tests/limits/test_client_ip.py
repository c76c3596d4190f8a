"""Which bucket a client's address counts in."""

from __future__ import annotations

import pytest

from core.limits import client_ip, rate_request_from_scope


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd:12::/64"),
        ("2001:db8:abcd:12:ffff::9", "2001:db8:abcd:12::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("", "unknown"),
        ("not-an-ip", "unknown"),
    ],
)
def test_an_address_counts_in_its_bucket(address, bucket):
    assert client_ip(address) == bucket


def test_a_websocket_scope_gives_the_same_request_like_object_as_http():
    request = rate_request_from_scope({"type": "websocket", "client": ("198.51.100.23", 61000)})
    unix_socket = rate_request_from_scope({"type": "websocket", "client": None})

    assert request.META == {"REMOTE_ADDR": "198.51.100.23"} and request.ip == "198.51.100.23"
    assert unix_socket.ip == "unknown"
