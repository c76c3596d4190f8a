import pytest

from knowledge import services
from knowledge.models import Chunk, Document, Embedding, SourceStatus
from knowledge.selectors import search
from knowledge.tests.factories import FileDocumentFactory, TextDocumentFactory
from knowledge.tests.samples import SAMPLE_KB

pytestmark = pytest.mark.django_db

GUIDE = """# Sizing guide

## Frame sizes

Riders from 5'0" to 5'6" take size S. Riders from 5'6" to 6'0" take size M.

## Saddle height

Set the saddle so that your leg is almost straight at the bottom of the pedal stroke.
"""


def ingest(document) -> services.IngestOutcome:
    return services.document_ingest(document_id=document.pk)


def test_a_pasted_text_becomes_ready_with_one_chunk_per_section():
    document = TextDocumentFactory(title="", text=GUIDE)

    outcome = ingest(document)

    document.refresh_from_db()
    assert outcome.status == "indexed"
    assert (document.status, document.status_reason, document.chunk_count) == (SourceStatus.READY, "", 2)
    assert document.title == "Sizing guide"
    assert document.indexed_at is not None
    paths = list(document.chunks.order_by("position").values_list("heading_path", flat=True))
    assert paths == ["Sizing guide > Frame sizes", "Sizing guide > Saddle height"]


def test_an_unchanged_source_is_neither_chunked_nor_embedded_again():
    document = TextDocumentFactory(text=GUIDE)
    ingest(document)
    chunk_ids = set(document.chunks.values_list("id", flat=True))
    embeddings = Embedding.objects.count()

    outcome = ingest(document)

    assert outcome.status == "unchanged"
    assert set(document.chunks.values_list("id", flat=True)) == chunk_ids
    assert Embedding.objects.count() == embeddings


def test_editing_one_section_embeds_that_section_alone_and_keeps_the_other_chunk_rows():
    document = TextDocumentFactory(text=GUIDE)
    ingest(document)
    kept = document.chunks.get(heading_path__endswith="Frame sizes")
    embeddings = Embedding.objects.count()

    Document.objects.filter(pk=document.pk).update(text=GUIDE.replace("almost straight", "nearly straight"))
    outcome = ingest(document)

    assert outcome.status == "indexed"
    assert outcome.embedded == 1
    assert Embedding.objects.count() == embeddings + 1
    assert document.chunks.filter(pk=kept.pk).exists()
    assert "nearly straight" in document.chunks.get(heading_path__endswith="Saddle height").text


def test_a_full_rebuild_re_chunks_but_embeds_nothing_unchanged():
    document = TextDocumentFactory(text=GUIDE)
    ingest(document)

    outcome = services.document_ingest(document_id=document.pk, force=True)

    assert outcome.status == "indexed"
    assert outcome.embedded == 0


def test_a_bad_file_fails_alone_with_its_reason_and_keeps_its_previous_chunks():
    good = FileDocumentFactory(identifier="good.md", content=b"# Good\n\nThe good file speaks of pedals.")
    bad = FileDocumentFactory(identifier="later-bad.md", content=b"# Fine\n\nAt first this file speaks of gears.")
    ingest(good), ingest(bad)
    services.index_publish()
    old_chunks = list(bad.chunks.values_list("id", flat=True))

    Document.objects.filter(pk=bad.pk).update(content=bytes(range(256)) * 8)
    outcome = ingest(bad)
    publish = services.index_publish()

    bad.refresh_from_db()
    assert outcome.status == "failed"
    assert bad.status == SourceStatus.FAILED
    assert bad.status_reason == "The file is named as Markdown but contains binary data, not text."
    assert list(bad.chunks.values_list("id", flat=True)) == old_chunks
    assert publish.status == "unchanged"
    good.refresh_from_db()
    assert good.status == SourceStatus.READY
    assert search(query="gears", k=3)[0].source_identifier == "later-bad.md"


def test_a_file_over_the_upload_limit_fails_with_the_limit_named(settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    document = services.document_save_file(name="huge.pdf", data=None, size=3 * 1024 * 1024, send_signal=False)

    outcome = ingest(document)

    document.refresh_from_db()
    assert outcome.status == "failed"
    assert document.status_reason == "The file is 3.0 MB, over the 1 MB upload limit (UPLOAD_MAX_BYTES)."
    assert document.content == b"" or bytes(document.content) == b""


def test_a_source_leased_by_another_worker_is_left_to_it():
    document = TextDocumentFactory(text=GUIDE)
    assert services._claim(Document, document.pk, take_over=False)

    outcome = ingest(document)

    assert outcome.status == "busy"
    assert not Chunk.objects.filter(document=document).exists()


def test_a_source_stuck_indexing_after_a_worker_died_is_taken_over_by_reindex():
    document = TextDocumentFactory(text=GUIDE)
    services._claim(Document, document.pk, take_over=False)
    Document.objects.filter(pk=document.pk).update(status=SourceStatus.INDEXING)

    result = services.sources_reindex(full=False)

    document.refresh_from_db()
    assert [o.status for o in result.outcomes] == ["indexed"]
    assert document.status == SourceStatus.READY and document.lease_until is None
    assert result.publish.status == "published"


def test_sample_pdf_chunks_know_their_page_and_heading_path():
    document = services.document_save_file(
        name="returns-policy.pdf",
        data=(SAMPLE_KB / "returns-policy.pdf").read_bytes(),
        size=(SAMPLE_KB / "returns-policy.pdf").stat().st_size,
        send_signal=False,
    )

    ingest(document)

    refunds = document.chunks.get(heading_path="Returns policy > Refunds")
    assert refunds.page == 2
    assert refunds.search_text.startswith("Returns policy > Refunds\nWe inspect returned items")
