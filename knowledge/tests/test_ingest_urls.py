"""`manage.py ingest` takes http(s) URLs as web-page sources, fetched through the fetch guard."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from knowledge.fetch import PAGE_UNAVAILABLE
from knowledge.models import Document, SourceStatus
from knowledge.selectors import search
from knowledge.tests.factories import TextDocumentFactory
from knowledge.tests.servers import Page, PageServer

pytestmark = pytest.mark.django_db

HOURS = b"<html><head><title>Opening hours</title></head><body><p>The showroom opens at 10 am.</p></body></html>"


def ingest(*args) -> list[dict]:
    out = StringIO()
    call_command("ingest", *args, json=True, stdout=out, stderr=StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_ingest_indexes_a_web_page_given_by_its_url(site):
    site.pages["/hours"] = Page(HOURS)

    records = ingest(site.url("/hours"))

    assert records[0]["url"] == site.url("/hours") and records[0]["status"] == "indexed"
    summary = records[-1]["summary"]
    assert (summary["files"], summary["pages"], summary["indexed"], summary["index"]) == (0, 1, 1, "published")
    document = Document.objects.get()
    assert (document.kind, document.identifier, document.title) == ("url", site.url("/hours"), "Opening hours")
    assert search(query="when does the showroom open", k=1)[0].url == site.url("/hours")


def test_ingest_takes_files_and_urls_together(site, tmp_path):
    (tmp_path / "returns.md").write_text("# Returns\n\nReturn any bike within 30 days.\n")
    site.pages["/hours"] = Page(HOURS)

    records = ingest(str(tmp_path), site.url("/hours"))

    assert [r.get("file") or r.get("url") for r in records[:-1]] == [str(tmp_path / "returns.md"), site.url("/hours")]
    assert records[-1]["summary"]["indexed"] == 2


def test_ingesting_a_url_again_fetches_it_again_into_the_same_source(site):
    site.pages["/hours"] = Page(HOURS)
    ingest(site.url("/hours"))
    site.pages["/hours"] = Page(HOURS.replace(b"10 am", b"9 am"))

    records = ingest(site.url("/hours"))

    assert records[0]["status"] == "indexed" and site.hits == ["/hours", "/hours"]
    assert Document.objects.count() == 1
    assert "9 am" in Document.objects.get().chunks.get().text


def test_ingest_refuses_a_loopback_url_without_the_intranet_opt_in(settings):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = False
    settings.FETCH_ALLOWED_NETWORKS = []
    with PageServer() as internal:
        internal.pages["/secret"] = Page(b"<p>internal only</p>")

        records = ingest(internal.url("/secret"))

        assert internal.hits == []
    assert (records[0]["status"], records[0]["reason"]) == ("failed", PAGE_UNAVAILABLE)
    assert Document.objects.get().status == SourceStatus.FAILED


@pytest.mark.parametrize("argument", ["ftp://files.example.com/faq.pdf", "http://", "https://exa mple.com/"])
def test_ingest_rejects_a_url_that_is_not_http_before_doing_anything(tmp_path, argument):
    (tmp_path / "returns.md").write_text("# Returns\n\nReturn any bike within 30 days.\n")

    with pytest.raises(CommandError, match="Not an http\\(s\\) URL"):
        ingest(str(tmp_path), argument)

    assert not Document.objects.exists()


def test_ingest_leaves_a_text_source_alone_when_it_has_the_url_as_identifier(site):
    note = TextDocumentFactory(identifier=site.url("/hours"), text="# Kept\n\nThis text stays.")

    records = ingest(site.url("/hours"))

    assert records[0]["status"] == "failed" and "already has this identifier" in records[0]["reason"]
    note.refresh_from_db()
    assert (note.kind, note.text) == ("text", "# Kept\n\nThis text stays.") and site.hits == []
