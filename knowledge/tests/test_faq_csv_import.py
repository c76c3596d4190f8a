import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from knowledge import services
from knowledge.extraction import ExtractionError
from knowledge.models import FAQ, SourceStatus
from knowledge.selectors import search

pytestmark = pytest.mark.django_db

CSV = b"question,answer\nDo you ship to Canada?,Yes: 6-10 business days.\nIs there a kids bike?,Not yet.\n"


def test_it_creates_faqs_and_indexes_them_with_one_task(on_commit):
    with on_commit() as callbacks:
        result = services.faq_import_csv(data=CSV)

    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert len(callbacks) == 1
    assert set(FAQ.objects.values_list("status", flat=True)) == {SourceStatus.READY}
    assert search(query="shipping to Canada", k=1)[0].title == "Do you ship to Canada?"


def test_a_second_import_updates_changed_answers_and_leaves_the_rest(on_commit):
    with on_commit():
        services.faq_import_csv(data=CSV)

    with on_commit():
        result = services.faq_import_csv(
            data=b"Question,Answer\ndo you ship to canada?,Yes: 5-9 business days.\nIs there a kids bike?,Not yet.\n"
        )

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert FAQ.objects.count() == 2
    assert FAQ.objects.get(question="Do you ship to Canada?").answer == "Yes: 5-9 business days."
    assert "5-9 business days" in search(query="canada shipping", k=1)[0].text


def test_a_file_without_the_columns_imports_nothing():
    with pytest.raises(ExtractionError):
        services.faq_import_csv(data=b"title,body\nx,y\n")

    assert not FAQ.objects.exists()


def test_the_admin_csv_import_uses_the_same_import(admin_client, on_commit):
    upload = SimpleUploadedFile("faqs.csv", CSV + b",missing question\n", content_type="text/csv")

    with on_commit():
        response = admin_client.post("/admin/knowledge/faq/import-csv/", {"file": upload}, follow=True)

    body = response.content.decode()
    assert "Imported 2 new and 0 changed FAQ(s)" in body
    assert "Skipped line 4: the question is empty" in body
    assert FAQ.objects.filter(status=SourceStatus.READY).count() == 2


def test_the_admin_csv_import_shows_a_bad_file_error_on_the_form(admin_client):
    upload = SimpleUploadedFile("faqs.csv", b"\x00\x01\x02binary", content_type="text/csv")

    response = admin_client.post("/admin/knowledge/faq/import-csv/", {"file": upload})

    assert response.status_code == 200
    assert "binary data" in response.content.decode()
    assert not FAQ.objects.exists()
