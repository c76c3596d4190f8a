"""
The one ingest runner behind every door (`knowledge.services.runner`): a
single source and a batch, documents and FAQs, go through the same claim,
prepare, embed and finish steps, and each source of a batch ends with its own
outcome, whatever happens to the others.
"""

import pytest

from knowledge import services
from knowledge.models import FAQ, Chunk, Document, SourceStatus
from knowledge.tests.factories import FAQFactory, FileDocumentFactory

pytestmark = pytest.mark.django_db

MISSING_ID = 987_654


def policy(name: str) -> bytes:
    return f"# {name.title()}\n\n## Who\n\nEvery {name} question goes to the {name} desk.\n".encode()


def files(*names: str) -> list[Document]:
    return [FileDocumentFactory(identifier=f"{name}.md", content=policy(name)) for name in names]


def embedding_requests(fake) -> list[dict]:
    return [request for request in fake.requests if request["path"] == "/v1/embeddings"]


def statuses(model, rows) -> list[tuple[str, str]]:
    by_pk = {row.pk: row for row in model.objects.filter(pk__in=[row.pk for row in rows])}
    return [(by_pk[row.pk].status, by_pk[row.pk].status_reason) for row in rows]


def test_a_batch_of_documents_ends_with_one_outcome_per_source_in_the_order_given():
    unchanged, broken, fresh = files("returns", "broken", "shipping")
    services.document_ingest(document_id=unchanged.pk)
    Document.objects.filter(pk=broken.pk).update(content=bytes(range(256)) * 8)

    outcomes = services.documents_ingest(document_ids=[broken.pk, MISSING_ID, fresh.pk, unchanged.pk])

    assert [(o.source, o.status) for o in outcomes] == [
        (f"document:{broken.pk}", "failed"),
        (f"document:{MISSING_ID}", "missing"),
        (f"document:{fresh.pk}", "indexed"),
        (f"document:{unchanged.pk}", "unchanged"),
    ]
    assert outcomes[0].reason == "The file is named as Markdown but contains binary data, not text."
    assert (outcomes[2].chunks, outcomes[3].chunks) == (1, 1)
    assert statuses(Document, [broken, fresh, unchanged]) == [
        (SourceStatus.FAILED, outcomes[0].reason),
        (SourceStatus.READY, ""),
        (SourceStatus.READY, ""),
    ]
    assert not Document.objects.filter(lease_until__isnull=False).exists()


def test_a_batch_of_faqs_ends_with_one_outcome_per_source_in_the_order_given():
    unchanged, broken, leased, fresh = FAQFactory.create_batch(4)
    services.faq_ingest(faq_id=unchanged.pk)
    FAQ.objects.filter(pk=broken.pk).update(question="  ")
    assert services._claim(FAQ, leased.pk, take_over=False)  # another worker's

    outcomes = services.faqs_ingest(faq_ids=[fresh.pk, leased.pk, MISSING_ID, broken.pk, unchanged.pk])

    assert [o.status for o in outcomes] == ["indexed", "busy", "missing", "failed", "unchanged"]
    assert outcomes[3].reason == "An FAQ needs both a question and an answer."
    assert Chunk.objects.get(faq=fresh).text == f"{fresh.question}\n{fresh.answer}"
    assert not Chunk.objects.filter(faq__in=[leased, broken]).exists()
    assert list(FAQ.objects.filter(lease_until__isnull=False).values_list("pk", flat=True)) == [leased.pk]


def test_the_batch_and_the_single_path_hash_an_faq_alike():
    faq = FAQFactory()
    services.faqs_ingest(faq_ids=[faq.pk])
    faq.refresh_from_db()
    assert faq.source_hash == services.faq_source_hash(faq=faq)

    outcome = services.faq_ingest(faq_id=faq.pk)

    assert outcome.status == "unchanged"
    assert FAQ.objects.get(pk=faq.pk).status_changed_at == faq.status_changed_at, "no lease was taken"


@pytest.mark.parametrize("batch", [False, True], ids=["alone", "in-a-batch"])
def test_a_document_saved_again_while_it_is_prepared_is_indexed_with_its_new_content(batch):
    edited, other = files("returns", "shipping")

    def prepare_while_staff_edit(document, force):
        prepared = services.document_prepare(document, force)
        if document.pk == edited.pk and b"45 days" not in bytes(document.content):
            row = Document.objects.get(pk=edited.pk)
            row.content = b"# Returns\n\nReturns now take 45 days.\n"
            row.save()
        return prepared

    ids = [edited.pk, other.pk] if batch else [edited.pk]
    outcomes = services.ingest_run(model=Document, source_ids=ids, prepare=prepare_while_staff_edit)

    assert {o.status for o in outcomes} == {"indexed"}
    assert list(Chunk.objects.filter(document=edited).values_list("text", flat=True)) == ["Returns now take 45 days."]
    assert Document.objects.get(pk=edited.pk).status == SourceStatus.READY


def test_an_faq_saved_again_while_it_is_prepared_is_indexed_with_its_new_answer():
    faq, other = FAQFactory.create_batch(2)

    def prepare_while_staff_edit(row, force):
        prepared = services.faq_prepare(row, force)
        if row.pk == faq.pk and row.answer != "Edited meanwhile.":
            edited = FAQ.objects.get(pk=faq.pk)
            edited.answer = "Edited meanwhile."
            edited.save()
        return prepared

    outcomes = services.ingest_run(model=FAQ, source_ids=[faq.pk, other.pk], prepare=prepare_while_staff_edit)

    assert [o.status for o in outcomes] == ["indexed", "indexed"]
    assert Chunk.objects.get(faq=faq).text.endswith("Edited meanwhile.")
    assert FAQ.objects.get(pk=faq.pk).source_hash == services.faq_source_hash(faq=FAQ.objects.get(pk=faq.pk))


def test_when_the_batch_cannot_be_embedded_each_source_is_embedded_alone_and_fails_alone(openai_embeddings):
    first, second = files("returns", "shipping")
    openai_embeddings.failures.extend([500, 500])  # the batch's call, then the first file's own

    outcomes = services.documents_ingest(document_ids=[first.pk, second.pk])

    assert [o.status for o in outcomes] == ["failed", "indexed"]
    assert "answered 500" in outcomes[0].reason
    assert [len(request["body"]["input"]) for request in embedding_requests(openai_embeddings)] == [2, 1, 1]
    assert statuses(Document, [first, second])[1] == (SourceStatus.READY, "")
    assert outcomes[1].embedded == 1


def test_an_unexpected_error_fails_the_source_that_raised_it_and_puts_the_others_back_in_the_queue():
    prepared_first, crashing, never_reached = files("returns", "crashing", "shipping")

    def prepare_with_a_bug(document, force):
        if document.pk == crashing.pk:
            raise RuntimeError("a bug in an extractor")
        return services.document_prepare(document, force)

    with pytest.raises(RuntimeError):
        services.ingest_run(
            model=Document, source_ids=[prepared_first.pk, crashing.pk, never_reached.pk], prepare=prepare_with_a_bug
        )

    assert statuses(Document, [prepared_first, crashing, never_reached]) == [
        (SourceStatus.QUEUED, ""),
        (
            SourceStatus.FAILED,
            "Internal error while indexing (RuntimeError: a bug in an extractor); see the server log.",
        ),
        (SourceStatus.QUEUED, ""),
    ]
    assert not Document.objects.filter(lease_until__isnull=False).exists()
    assert not Chunk.objects.exists()


def test_ctrl_c_puts_every_source_the_batch_held_back_in_the_queue():
    faqs = FAQFactory.create_batch(3)

    def prepare_until_ctrl_c(faq, force):
        if faq.pk == faqs[1].pk:
            raise KeyboardInterrupt
        return services.faq_prepare(faq, force)

    with pytest.raises(KeyboardInterrupt):
        services.ingest_run(model=FAQ, source_ids=[faq.pk for faq in faqs], prepare=prepare_until_ctrl_c)

    assert statuses(FAQ, faqs) == [(SourceStatus.QUEUED, "Interrupted; it will be indexed again.")] * 3
    assert not FAQ.objects.filter(lease_until__isnull=False).exists()
