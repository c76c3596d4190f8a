"""
Web-page sources reach public addresses only, through the fetch guard
(core.netguard): the server-side request forgery findings of issue 15.
"""

import pytest
from rest_framework.test import APIClient

from knowledge import services
from knowledge.fetch import PAGE_UNAVAILABLE
from knowledge.models import Chunk, Document, SourceStatus
from knowledge.selectors import search
from testsupport.web import Page, PageServer, TcpPort, closed_port

pytestmark = pytest.mark.django_db

SECRET_PAGE = b"<h1>Internal notes</h1><p>The vault code is zq-4471-vault, kept on the intranet.</p>"


@pytest.fixture(autouse=True)
def no_opt_in(settings):
    """The defaults, spelled out: no private addresses, no allowed networks; short timeouts."""
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = False
    settings.FETCH_ALLOWED_NETWORKS = []
    settings.URL_FETCH_TIMEOUT = 1.0


@pytest.fixture
def internal():
    with PageServer() as site:
        site.pages["/secret"] = Page(SECRET_PAGE)
        yield site


def url_source(url: str, on_commit, **fields) -> Document:
    with on_commit():
        document = Document.objects.create(kind=Document.Kind.URL, url=url, identifier=url, **fields)
    document.refresh_from_db()
    return document


@pytest.mark.django_db(transaction=True)
def test_a_loopback_page_is_not_fetched_and_visitors_cannot_read_it(internal, settings):
    settings.LLM_PROVIDER = "extractive"
    document = Document.objects.create(
        kind=Document.Kind.URL, url=internal.url("/secret"), identifier=internal.url("/secret")
    )
    document.refresh_from_db()
    search(query="warm up", k=1)  # loads the current index version in this process

    answer = APIClient().post("/api/chat/", {"message": "What is the vault code?"}, format="json")
    source_page = APIClient().get(f"/kb/sources/{document.pk}/")

    assert internal.hits == []
    assert (document.status, document.status_reason) == (SourceStatus.FAILED, PAGE_UNAVAILABLE)
    assert not Chunk.objects.filter(text__contains="zq-4471").exists()
    assert answer.status_code == 200 and "zq-4471" not in answer.content.decode()
    assert "zq-4471" not in source_page.content.decode()


def test_the_same_page_is_indexed_with_the_intranet_opt_in(internal, settings, on_commit):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True

    document = url_source(internal.url("/secret"), on_commit)

    assert document.status == SourceStatus.READY and internal.hits == ["/secret"]
    assert "zq-4471-vault" in search(query="vault code", k=1)[0].text


@pytest.mark.parametrize("host", ["2130706433", "0177.0.0.1", "0x7f.1", "[::ffff:127.0.0.1]", "0.0.0.0", "localhost"])
def test_other_spellings_of_loopback_are_refused_too(internal, on_commit, host):
    document = url_source(f"http://{host}:{internal.port}/secret", on_commit)

    assert (document.status, document.status_reason) == (SourceStatus.FAILED, PAGE_UNAVAILABLE)
    assert internal.hits == []


@pytest.mark.parametrize("opt_in", [False, True], ids=["default", "intranet-opt-in"])
@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/",
        "http://169.254.1.1/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
    ],
)
def test_metadata_and_link_local_addresses_are_refused_even_with_the_opt_in(settings, on_commit, url, opt_in):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = opt_in

    document = url_source(url, on_commit)

    assert (document.status, document.status_reason) == (SourceStatus.FAILED, PAGE_UNAVAILABLE)


def test_a_page_that_redirects_to_an_internal_address_fails_and_indexes_nothing(settings, on_commit):
    """The "public" site is 127.0.0.1, allowed by FETCH_ALLOWED_NETWORKS; the internal one is 127.0.0.2."""
    settings.FETCH_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with PageServer(host="127.0.0.1") as public, PageServer(host="127.0.0.2") as intranet:
        intranet.pages["/secret"] = Page(SECRET_PAGE)
        public.pages["/news"] = Page.redirect(intranet.url("/secret"))

        document = url_source(public.url("/news"), on_commit)

        assert public.hits == ["/news"] and intranet.hits == []
    assert (document.status, document.status_reason) == (SourceStatus.FAILED, PAGE_UNAVAILABLE)
    assert not Chunk.objects.filter(text__contains="zq-4471").exists()


def test_a_redirect_to_ftp_makes_no_connection(settings, on_commit):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True
    with PageServer() as site, TcpPort() as ftp:
        site.pages["/files"] = Page.redirect(ftp.url("ftp", "/pub/"))

        document = url_source(site.url("/files"), on_commit)

        assert ftp.connections() == 0
    assert (document.status, document.status_reason) == (SourceStatus.FAILED, PAGE_UNAVAILABLE)


def test_a_redis_port_is_not_reached(on_commit):
    with TcpPort() as redis:
        document = url_source(redis.url("http", "/"), on_commit)

        assert redis.connections() == 0
    assert (document.status, document.status_reason) == (SourceStatus.FAILED, PAGE_UNAVAILABLE)


@pytest.mark.parametrize("opt_in", [False, True], ids=["default", "intranet-opt-in"])
def test_open_and_closed_ports_give_staff_the_same_reason(settings, on_commit, opt_in):
    """A port scanner through the failure reason: a service that is not HTTP (as Redis answers) vs nothing."""
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = opt_in
    with TcpPort(reply=b"-ERR wrong number of arguments for 'get' command\r\n") as redis:
        open_port = url_source(redis.url("http", "/"), on_commit)
    closed = url_source(f"http://127.0.0.1:{closed_port()}/", on_commit)

    assert open_port.status_reason == closed.status_reason == PAGE_UNAVAILABLE


def test_a_refetch_is_checked_again_and_keeps_the_last_good_chunks(internal, settings, on_commit):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True
    document = url_source(internal.url("/secret"), on_commit, refetch_interval_hours=1)
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = False

    outcome = services.document_refetch(document_id=document.pk)

    document.refresh_from_db()
    assert (outcome.status, outcome.reason) == ("failed", PAGE_UNAVAILABLE)
    assert internal.hits == ["/secret"]
    assert document.chunks.filter(text__contains="zq-4471").exists()
