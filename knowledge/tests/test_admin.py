import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from knowledge.models import FAQ, Document, SourceStatus
from knowledge.tests.factories import FAQFactory
from knowledge.tests.samples import SAMPLE_KB

pytestmark = pytest.mark.django_db


def sample_upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (SAMPLE_KB / name).read_bytes())


def test_several_files_in_one_upload_each_become_a_source(admin_client, on_commit, settings):
    settings.UPLOAD_MAX_BYTES = 20_000
    files = [
        sample_upload("returns-policy.pdf"),
        sample_upload("warranty.docx"),
        sample_upload("products.md"),
        SimpleUploadedFile("broken.md", bytes(range(256)) * 10),
    ]

    with on_commit():
        response = admin_client.post("/admin/knowledge/document/upload/", {"files": files}, follow=True)

    assert response.status_code == 200
    statuses = dict(Document.objects.values_list("identifier", "status"))
    assert statuses == {
        "returns-policy.pdf": SourceStatus.READY,
        "warranty.docx": SourceStatus.FAILED,
        "products.md": SourceStatus.READY,
        "broken.md": SourceStatus.FAILED,
    }
    assert "Over the 0 MB limit, marked failed: warranty.docx" in response.content.decode()
    warranty = Document.objects.get(identifier="warranty.docx")
    assert "over the 0 MB upload limit" in warranty.status_reason
    assert bytes(warranty.content) == b""


def test_the_source_list_shows_status_chunk_count_and_the_reason_of_a_failure(admin_client, on_commit):
    with on_commit():
        admin_client.post(
            "/admin/knowledge/document/upload/",
            {"files": [sample_upload("products.md"), SimpleUploadedFile("empty.md", b"  ")]},
        )

    page = admin_client.get("/admin/knowledge/document/").content.decode()

    assert "Ready" in page and "Failed" in page
    assert "The file is empty." in page
    assert f'<td class="field-chunk_count">{Document.objects.get(identifier="products.md").chunk_count}</td>' in page


def test_pasted_text_is_added_through_the_add_form(admin_client, on_commit):
    with on_commit():
        response = admin_client.post(
            "/admin/knowledge/document/add/",
            {
                "kind": "text",
                "title": "Holiday hours",
                "identifier": "",
                "text": "We close on December 25th.",
                "url": "",
                "refetch_interval_hours": "",
                "is_active": "on",
            },
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    document = Document.objects.get()
    assert (document.identifier, document.status, document.chunk_count) == ("text:holiday-hours", "ready", 1)


def test_a_url_source_needs_a_url(admin_client):
    response = admin_client.post(
        "/admin/knowledge/document/add/",
        {
            "kind": "url",
            "title": "",
            "identifier": "",
            "text": "",
            "url": "",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "Enter the web page" in response.content.decode()
    assert not Document.objects.exists()


def test_faqs_are_edited_inline_in_the_list_and_re_indexed(admin_client, on_commit):
    with on_commit():
        faq = FAQFactory(question="Old question?", answer="Old answer.")
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "form-0-id": str(faq.pk),
        "form-0-question": "Do you repair other brands?",
        "form-0-answer": "Yes, for a $30 inspection fee.",
        "form-0-is_active": "on",
        "_save": "Save",
    }

    with on_commit():
        response = admin_client.post("/admin/knowledge/faq/", data)

    assert response.status_code == 302
    faq.refresh_from_db()
    assert faq.status == SourceStatus.READY
    assert faq.chunks.get().text == "Do you repair other brands?\nYes, for a $30 inspection fee."


def test_the_search_page_shows_ranked_chunks_with_scores_and_which_side_found_them(admin_client, on_commit):
    with on_commit():
        FAQFactory(question="Can I ride in the rain?", answer="Yes, all bikes are rated IPX5.")
        FAQFactory(question="Do you sell helmets?", answer="Yes, with an integrated light.")

    page = admin_client.get("/admin/knowledge/document/search/", {"query": "IPX5 rain", "k": 2}).content.decode()

    assert page.index("Can I ride in the rain?") < page.index("Do you sell helmets?")
    assert "both (dense #1, keyword #1)" in page
    assert "dense #2" in page
    assert "index v" in page


def test_deactivating_from_the_list_enqueues_a_rebuild(admin_client, on_commit):
    with on_commit():
        faq = FAQFactory()

    with on_commit() as callbacks:
        admin_client.post("/admin/knowledge/faq/", {"action": "deactivate", "_selected_action": [faq.pk]})

    assert FAQ.objects.get().is_active is False
    assert len(callbacks) == 1


def test_index_versions_are_listed_without_loading_their_blobs(admin_client, on_commit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with on_commit():
        FAQFactory()

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/knowledge/indexversion/")

    assert response.status_code == 200
    assert "flat" in response.content.decode()
    version_queries = [q["sql"] for q in queries.captured_queries if "knowledge_indexversion" in q["sql"]]
    assert version_queries and not any('"blob"' in sql for sql in version_queries)


def test_the_document_list_does_not_load_file_contents(admin_client, on_commit):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with on_commit():
        admin_client.post("/admin/knowledge/document/upload/", {"files": [sample_upload("products.md")]})

    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/admin/knowledge/document/")

    document_queries = [q["sql"] for q in queries.captured_queries if 'FROM "knowledge_document"' in q["sql"]]
    assert document_queries and not any('"content"' in sql for sql in document_queries)


def test_a_single_file_is_uploaded_through_the_add_form(admin_client, on_commit):
    with on_commit():
        response = admin_client.post(
            "/admin/knowledge/document/add/",
            {
                "kind": "file",
                "title": "",
                "identifier": "",
                "upload": sample_upload("returns-policy.pdf"),
                "text": "",
                "url": "",
                "refetch_interval_hours": "",
                "is_active": "on",
            },
        )

    assert response.status_code == 302
    document = Document.objects.get()
    assert (document.identifier, document.title, document.status) == ("returns-policy.pdf", "Returns policy", "ready")
    assert document.chunks.filter(heading_path="Returns policy > Refunds", page=2).exists()
