"""Redirects are followed by the guard itself: every hop checked, other schemes refused, at most five."""

import ipaddress

import pytest

from core.netguard import MAX_REDIRECTS, AddressPolicy, Refused, guarded_request
from testsupport.web import Page, PageServer, TcpPort

INTRANET = AddressPolicy(allow_private=True)


def get(url: str, policy: AddressPolicy) -> tuple[str, bytes]:
    with guarded_request(url=url, timeout=5, policy=policy) as response:
        return response.url, response.read(1 << 20)


@pytest.fixture
def sites():
    """A "public" site on 127.0.0.1 (the policy allows that address alone) and an internal one on 127.0.0.2."""
    with PageServer(host="127.0.0.1") as public, PageServer(host="127.0.0.2") as internal:
        internal.pages["/secret"] = Page(b"internal only")
        public.pages["/start"] = Page.redirect(internal.url("/secret"))
        yield public, internal


def test_a_redirect_to_a_refused_address_is_not_followed(sites):
    public, internal = sites
    policy = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))

    with pytest.raises(Refused) as refused:
        get(public.url("/start"), policy)

    assert public.hits == ["/start"] and internal.hits == []
    assert "127.0.0.2, a loopback address" in refused.value.detail


def test_a_redirect_to_an_allowed_address_is_followed(sites):
    public, internal = sites
    policy = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))

    assert get(public.url("/start"), policy) == (internal.url("/secret"), b"internal only")


@pytest.mark.parametrize("scheme", ["ftp", "gopher", "dict", "file"])
def test_a_redirect_to_another_scheme_is_refused_without_connecting(scheme):
    with PageServer() as site, TcpPort() as other_service:
        site.pages["/start"] = Page.redirect(other_service.url(scheme))

        with pytest.raises(Refused):
            get(site.url("/start"), INTRANET)

        assert other_service.connections() == 0


def test_it_follows_five_redirects():
    with PageServer() as site:
        for hop in range(MAX_REDIRECTS):
            site.pages[f"/{hop}"] = Page.redirect(f"/{hop + 1}", status=(301, 302, 303, 307, 308)[hop % 5])
        site.pages[f"/{MAX_REDIRECTS}"] = Page(b"arrived")

        assert get(site.url("/0"), INTRANET) == (site.url(f"/{MAX_REDIRECTS}"), b"arrived")


def test_it_refuses_the_sixth_redirect_without_requesting_it():
    with PageServer() as site:
        for hop in range(MAX_REDIRECTS + 1):
            site.pages[f"/{hop}"] = Page.redirect(f"/{hop + 1}")
        site.pages[f"/{MAX_REDIRECTS + 1}"] = Page(b"too far")

        with pytest.raises(Refused):
            get(site.url("/0"), INTRANET)

        assert site.hits == [f"/{hop}" for hop in range(MAX_REDIRECTS + 1)]


def test_without_follow_redirects_the_redirect_itself_is_the_answer():
    with PageServer() as site:
        site.pages["/hook"] = Page.redirect("http://169.254.169.254/latest/meta-data/")

        with guarded_request(url=site.url("/hook"), timeout=5, policy=INTRANET, follow_redirects=False) as answer:
            assert (answer.status, answer.headers["Location"]) == (302, "http://169.254.169.254/latest/meta-data/")
