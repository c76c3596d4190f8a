from datetime import timedelta

import pytest
from django.utils import timezone

from knowledge import services
from knowledge.models import Document, IndexVersion, SourceStatus
from knowledge.selectors import search
from knowledge.tests.factories import FAQFactory
from knowledge.tests.servers import Page

pytestmark = pytest.mark.django_db

PAGE = b"""<html><head><title>Opening hours</title><script>var track = "zzsecretzz";</script>
<style>.x{color:red}</style></head><body><nav>Home | Shop</nav>
<h1>Opening hours</h1><p>The Portland showroom opens at 10 am from Tuesday to Sunday.</p></body></html>"""


def url_source(site, path: str, **kwargs) -> Document:
    return Document.objects.create(kind=Document.Kind.URL, url=site.url(path), identifier=site.url(path), **kwargs)


def test_a_web_page_is_fetched_and_indexed_as_text_only(site, on_commit):
    site.pages["/hours"] = Page(PAGE)

    with on_commit():
        document = url_source(site, "/hours")

    document.refresh_from_db()
    result = search(query="when does the Portland showroom open", k=1)[0]
    assert document.status == SourceStatus.READY and document.title == "Opening hours"
    assert result.url == site.url("/hours") and result.source_identifier == site.url("/hours")
    assert "zzsecretzz" not in result.text and "color" not in result.text and "Shop" not in result.text
    leak = search(query="zzsecretzz", k=3)
    assert all(r.keyword_rank is None and r.confidence < 0.2 for r in leak)


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (Page(b"gone", status=404), "The page answered 404 Not Found."),
        (Page(PAGE, hang=True), "The page did not answer within 1 s."),
        (
            Page(lambda: iter([b"x" * 65536] * 800), declare_length=False),
            "The page is larger than the 1.0 MB allowed (URL_FETCH_MAX_BYTES).",
        ),
        (Page(b"y" * (50 * 1024 * 1024)), "The page is 50.0 MB, more than the 1.0 MB allowed (URL_FETCH_MAX_BYTES)."),
    ],
    ids=["404", "timeout", "endless-body", "declared-50MB"],
)
def test_a_bad_page_fails_its_source_alone_with_a_plain_reason(site, settings, on_commit, page, reason):
    settings.URL_FETCH_TIMEOUT = 1
    settings.URL_FETCH_MAX_BYTES = 1024 * 1024
    with on_commit():
        other = FAQFactory(question="Do you sell gift cards?", answer="Yes, from $25.")
    version = IndexVersion.objects.get(is_current=True).pk
    site.pages["/bad"] = page

    with on_commit():
        document = url_source(site, "/bad")

    document.refresh_from_db()
    assert document.status == SourceStatus.FAILED
    assert document.status_reason == reason
    assert IndexVersion.objects.get(is_current=True).pk == version
    assert search(query="gift cards", k=1)[0].source_id == other.pk


def test_a_refetch_picks_up_a_changed_page_and_reschedules_itself(site, on_commit):
    site.pages["/news"] = Page(b"<h1>News</h1><p>The spring sale starts in March.</p>")
    with on_commit():
        document = url_source(site, "/news", refetch_interval_hours=6)
    document.refresh_from_db()
    first_due = document.next_fetch_at
    assert first_due is not None and first_due > timezone.now() + timedelta(hours=5)

    site.pages["/news"] = Page(b"<h1>News</h1><p>The autumn sale starts in October.</p>")
    Document.objects.filter(pk=document.pk).update(next_fetch_at=timezone.now() - timedelta(minutes=1))
    assert services.documents_due_for_refetch() == [document.pk]
    outcome = services.document_refetch(document_id=document.pk)
    services.index_publish()

    document.refresh_from_db()
    assert outcome.status == "indexed"
    assert "autumn sale" in search(query="when is the sale", k=1)[0].text
    assert document.next_fetch_at > timezone.now() + timedelta(hours=5)
    assert site.hits.count("/news") == 2


def test_a_stale_scheduled_refetch_does_nothing(site, on_commit):
    site.pages["/p"] = Page(b"<p>Some page text for the test.</p>")
    with on_commit():
        document = url_source(site, "/p", refetch_interval_hours=1)

    outcome = services.document_refetch(document_id=document.pk, due="2001-01-01T00:00:00+00:00")

    assert outcome.reason == "superseded schedule"
    assert site.hits == ["/p"]


def test_with_the_database_backend_the_refetch_is_a_deferred_task(site, settings, on_commit):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index"]}}
    site.pages["/d"] = Page(b"<p>Deferred refetch test page.</p>")
    document = url_source(site, "/d", refetch_interval_hours=12)
    with on_commit():
        services.document_ingest(document_id=document.pk)

    deferred = DBTaskResult.objects.filter(task_path="knowledge.tasks.document_refetch_task")
    assert deferred.count() == 1
    assert deferred.get().run_after > timezone.now() + timedelta(hours=11)


def test_refresh_sources_refetches_the_pages_that_are_due(site, on_commit):
    from io import StringIO

    from django.core.management import call_command

    site.pages["/a"] = Page(b"<p>Page A says the shop opens at nine.</p>")
    site.pages["/b"] = Page(b"<p>Page B says the shop closes at six.</p>")
    with on_commit():
        due = url_source(site, "/a", refetch_interval_hours=1)
        url_source(site, "/b", refetch_interval_hours=1)
    Document.objects.filter(pk=due.pk).update(next_fetch_at=timezone.now() - timedelta(seconds=1))
    site.pages["/a"] = Page(b"<p>Page A now says the shop opens at eight.</p>")

    out = StringIO()
    call_command("refresh_sources", "--json", stdout=out)

    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert '"summary"' in lines[-1] and '"pages": 1' in lines[-1]
    assert site.hits.count("/a") == 2 and site.hits.count("/b") == 1
    assert "opens at eight" in search(query="when does the shop open", k=1)[0].text
