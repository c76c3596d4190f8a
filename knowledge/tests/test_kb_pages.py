import pytest

from knowledge import services
from knowledge.models import Document
from knowledge.tests.factories import FAQFactory, TextDocumentFactory

pytestmark = pytest.mark.django_db


def test_the_source_page_shows_each_chunk_escaped_with_its_anchor(client):
    document = TextDocumentFactory(
        title="Tricky <b>title</b>", text="# Notes\n\nUse `<script>alert(1)</script>` never."
    )
    services.document_ingest(document_id=document.pk)
    chunk = document.chunks.get()

    response = client.get(f"/kb/sources/{document.pk}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert f'id="chunk-{chunk.pk}"' in body
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "Tricky &lt;b&gt;title&lt;/b&gt;" in body


def test_an_inactive_or_missing_source_is_not_found(client):
    document = TextDocumentFactory(is_active=False)

    assert client.get(f"/kb/sources/{document.pk}/").status_code == 404
    assert client.get("/kb/sources/999999/").status_code == 404


def test_the_faq_page_shows_question_and_answer_only_while_active(client):
    faq = FAQFactory(question="Do you price match?", answer="Yes, within 14 days.")

    assert "Yes, within 14 days." in client.get(f"/kb/faqs/{faq.pk}/").content.decode()
    faq.is_active = False
    faq.save()
    assert client.get(f"/kb/faqs/{faq.pk}/").status_code == 404


def test_a_web_page_source_links_to_the_page_itself():
    document = Document(kind=Document.Kind.URL, url="https://example.com/hours", identifier="https://example.com/hours")

    assert document.get_absolute_url() == "https://example.com/hours"
