"""A fetch resolves its host once, checks every address and connects to a checked one."""

import ipaddress

import pytest

from core.netguard import AddressPolicy, Refused, Unreachable, guarded_request
from testsupport.web import Page, PageServer

ONLY_127_0_0_1 = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))


@pytest.fixture
def secret_site():
    with PageServer() as site:
        site.pages["/secret"] = Page(b"<p>internal only</p>")
        yield site


def get(url: str, policy: AddressPolicy | None = None) -> bytes:
    with guarded_request(url=url, timeout=5, policy=policy or AddressPolicy()) as response:
        return response.read(1 << 20)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "localhost",
        "LOCALHOST",
        "127.1",
        "2130706433",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "0x7f000001",
        "0.0.0.0",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
    ],
)
def test_it_refuses_loopback_in_every_spelling_without_connecting(secret_site, host):
    with pytest.raises(Refused):
        get(f"http://{host}:{secret_site.port}/secret")

    assert secret_site.hits == []


def test_the_same_urls_are_fetched_with_the_intranet_opt_in(secret_site):
    assert (
        get(f"http://2130706433:{secret_site.port}/secret", AddressPolicy(allow_private=True))
        == b"<p>internal only</p>"
    )


def test_a_public_looking_name_that_resolves_to_loopback_is_refused(secret_site, resolver):
    resolver.answers["docs.example.com"] = [["127.0.0.1"]]

    with pytest.raises(Refused) as refused:
        get(f"http://docs.example.com:{secret_site.port}/secret")

    assert secret_site.hits == []
    assert "resolves to 127.0.0.1, a loopback address" in refused.value.detail


@pytest.mark.parametrize(
    "addresses", [["93.184.216.34", "10.0.0.7"], ["10.0.0.7", "93.184.216.34"], ["2606:2800:220:1::1", "fd00:ec2::254"]]
)
def test_one_internal_address_among_public_ones_refuses_the_name(resolver, addresses):
    resolver.answers["mixed.example.com"] = [addresses]

    with pytest.raises(Refused):  # not Unreachable: no connection was tried
        get("http://mixed.example.com/")


def test_the_connection_goes_to_the_checked_address_not_to_a_second_dns_answer(resolver):
    """DNS rebinding: the name answers an allowed address first, then another one."""
    with PageServer(host="127.0.0.1") as allowed, PageServer(host="127.0.0.2", port=allowed.port) as other:
        allowed.pages["/page"] = Page(b"checked")
        other.pages["/page"] = Page(b"rebound")
        resolver.answers["kb.example.test"] = [["127.0.0.1"], ["127.0.0.2"]]

        body = get(f"http://kb.example.test:{allowed.port}/page", ONLY_127_0_0_1)

        assert body == b"checked" and other.hits == []
        assert resolver.lookups["kb.example.test"] == 1
        assert allowed.host_headers == [f"kb.example.test:{allowed.port}"]


def test_a_name_that_does_not_resolve_is_unreachable(resolver):
    resolver.answers["nowhere.example.test"] = [[]]

    with pytest.raises(Unreachable):
        get("http://nowhere.example.test/")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "gopher://127.0.0.1:6379/_INFO",
        "dict://127.0.0.1:11211/stat",
        "http:///no-host",
        "http://127.0.0.1:99999/",
    ],
)
def test_it_refuses_what_is_not_an_http_url(url):
    with pytest.raises(Refused):
        get(url, AddressPolicy(allow_private=True))
