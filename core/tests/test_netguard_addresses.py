"""Which addresses a server-side fetch may connect to (core.netguard.AddressPolicy)."""

import ipaddress

import pytest

from core.netguard import AddressPolicy

DEFAULT = AddressPolicy()
INTRANET = AddressPolicy(allow_private=True)

NEVER_BY_DEFAULT = {
    "127.0.0.1": "loopback",
    "127.8.9.10": "loopback",
    "::1": "loopback",
    "::ffff:127.0.0.1": "loopback",
    "64:ff9b::7f00:1": "loopback",
    "2002:7f00:1::1": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "172.31.255.254": "private",
    "192.168.1.1": "private",
    "100.64.0.1": "private",
    "fd12:3456::1": "private",
    "::ffff:10.0.0.1": "private",
    "169.254.169.254": "cloud metadata",
    "169.254.170.2": "cloud metadata",
    "fd00:ec2::254": "cloud metadata",
    "100.100.100.200": "cloud metadata",
    "::ffff:169.254.169.254": "cloud metadata",
    "169.254.1.1": "link-local",
    "fe80::1": "link-local",
    "fe80::1%1": "link-local",
    "224.0.0.1": "multicast",
    "239.255.255.250": "multicast",
    "ff02::1": "multicast",
    "0.0.0.0": "unspecified",
    "0.1.2.3": "unspecified",
    "::": "unspecified",
    "255.255.255.255": "reserved",
    "240.0.0.1": "reserved",
    "192.0.2.1": "reserved",
    "198.18.0.1": "reserved",
    "::7f00:1": "reserved",
    "2001:db8::1": "reserved",
}


@pytest.mark.parametrize(("address", "kind"), NEVER_BY_DEFAULT.items(), ids=list(NEVER_BY_DEFAULT))
def test_it_refuses_every_non_public_address_by_default(address, kind):
    assert DEFAULT.refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_it_allows_public_addresses_including_nat64_and_mapped_ones(address):
    assert DEFAULT.refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.1.1", "100.64.0.1", "fd12:3456::1"])
def test_the_intranet_opt_in_allows_loopback_and_private_networks(address):
    assert INTRANET.refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fd00:ec2::254",
        "100.100.100.200",
        "169.254.1.1",
        "fe80::1",
        "224.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
    ],
)
def test_the_intranet_opt_in_still_refuses_metadata_link_local_and_multicast(address):
    assert INTRANET.refusal(ipaddress.ip_address(address)) is not None


def test_allowed_networks_open_exactly_those_networks():
    policy = AddressPolicy(
        allowed_networks=(ipaddress.ip_network("10.20.0.0/16"), ipaddress.ip_network("127.0.0.1/32"))
    )

    assert policy.refusal(ipaddress.ip_address("10.20.3.4")) is None
    assert policy.refusal(ipaddress.ip_address("127.0.0.1")) is None
    assert policy.refusal(ipaddress.ip_address("10.21.0.1")) == "private"
    assert policy.refusal(ipaddress.ip_address("127.0.0.2")) == "loopback"
    assert policy.refusal(ipaddress.ip_address("::1")) == "loopback"
