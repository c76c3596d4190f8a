"""HTTPS to the checked address still presents and verifies the original host name."""

import ipaddress

import pytest

from core.netguard import AddressPolicy, Unreachable, guarded_request
from testsupport.web import Page, PageServer, TestCertificates

LOOPBACK_ONLY = AddressPolicy(allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),))


def test_https_sends_the_host_name_as_sni_and_checks_the_certificate_for_it(resolver):
    certificates = TestCertificates("kb.example.test")
    with PageServer(tls=certificates.server_context()) as site:
        site.pages["/faq"] = Page(b"secure page")
        resolver.answers["kb.example.test"] = [["127.0.0.1"]]

        with guarded_request(
            url=f"https://kb.example.test:{site.port}/faq",
            timeout=5,
            policy=LOOPBACK_ONLY,
            tls=certificates.client_context(),
        ) as response:
            body = response.read(1024)

        assert body == b"secure page"
        assert site.server_names == ["kb.example.test"]
        assert site.host_headers == [f"kb.example.test:{site.port}"]


def test_a_certificate_for_another_name_is_refused(resolver):
    certificates = TestCertificates("other.example.test")
    with PageServer(tls=certificates.server_context()) as site:
        site.pages["/faq"] = Page(b"secure page")
        resolver.answers["kb.example.test"] = [["127.0.0.1"]]

        with pytest.raises(Unreachable) as failed:
            guarded_request(
                url=f"https://kb.example.test:{site.port}/faq",
                timeout=5,
                policy=LOOPBACK_ONLY,
                tls=certificates.client_context(),
            )

        assert "CERTIFICATE_VERIFY_FAILED" in failed.value.detail or "hostname" in failed.value.detail
        assert site.hits == []
