import threading

import numpy as np
import pytest

from knowledge import services
from knowledge.embeddings import EmbeddingError
from knowledge.index import accessor
from knowledge.models import FAQ, IndexVersion
from knowledge.selectors import index_readiness, search
from knowledge.tests.factories import FAQFactory, TextDocumentFactory

pytestmark = pytest.mark.django_db


def indexed_faq(**kwargs):
    faq = FAQFactory(**kwargs)
    services.faq_ingest(faq_id=faq.pk)
    return faq


def test_publishing_unchanged_data_creates_no_new_version():
    indexed_faq()
    first = services.index_publish()

    second = services.index_publish()

    assert (first.status, second.status) == ("published", "unchanged")
    assert second.version_id == first.version_id
    assert IndexVersion.objects.count() == 1


def test_exactly_one_version_is_current_and_old_ones_are_pruned():
    for n in range(5):
        indexed_faq(question=f"Question {n}?", answer=f"Answer {n}.")
        services.index_publish()

    assert IndexVersion.objects.filter(is_current=True).count() == 1
    assert IndexVersion.objects.count() == 1 + services.KEEP_OLD_VERSIONS
    assert IndexVersion.objects.get(is_current=True).chunk_count == 5


def test_a_crash_in_the_middle_of_a_build_leaves_the_last_good_version_serving(settings, fake_embeddings):
    faq = indexed_faq(question="Where is the Portland showroom?", answer="412 SE Water Ave.")
    good = services.index_publish()
    settings.EMBEDDING_PROVIDER, settings.OPENAI_BASE_URL, settings.LLM_MAX_RETRIES = (
        "openai",
        fake_embeddings.openai_base_url,
        0,
    )
    fake_embeddings.failures.append(500)

    with pytest.raises(EmbeddingError):
        services.index_publish()

    settings.EMBEDDING_PROVIDER = "local"
    assert IndexVersion.objects.get(is_current=True).pk == good.version_id
    assert IndexVersion.objects.count() == 1
    assert search(query="Portland showroom address", k=1)[0].source_id == faq.pk


@pytest.mark.django_db(transaction=True)
def test_an_older_build_never_replaces_a_younger_current_version(openai_embeddings, settings):
    settings.EMBEDDING_PROVIDER = "local"
    faq = FAQ.objects.bulk_create([FAQ(question="Can I rent a bike?", answer="Yes, at every showroom.")])[0]
    services.faq_ingest(faq_id=faq.pk)
    settings.EMBEDDING_PROVIDER = "openai"
    in_flight = openai_embeddings.hold(limit=1)  # the older build's embedding call waits for the younger build
    older: dict = {}
    thread = threading.Thread(target=lambda: older.update(outcome=services.index_publish()))

    thread.start()
    assert in_flight.arrived.wait(60), "the older build never asked for its embeddings"
    younger = services.index_publish()
    in_flight.release()
    thread.join(timeout=60)

    assert not thread.is_alive() and younger.status == "published"
    assert older["outcome"].status == "superseded"
    assert IndexVersion.objects.get(is_current=True).pk == younger.version_id
    assert older["outcome"].version_id == younger.version_id


def test_each_process_swaps_to_a_new_version_without_touching_the_old_snapshot():
    indexed_faq(question="Is there a night light?", answer="Yes, integrated lights.")
    services.index_publish()
    first = accessor.current()

    indexed_faq(question="Do you have a helmet?", answer="Yes, with a light, for $99.")
    services.index_publish()
    second = accessor.current()

    assert second is not first and second.version_id > first.version_id
    assert (first.count, second.count) == (1, 2)
    assert len(first.dense(np.ones(384, dtype=np.float32) / np.sqrt(384), 5)) == 1


def test_switching_the_embedding_model_rebuilds_with_the_new_model(openai_embeddings, settings):
    settings.EMBEDDING_PROVIDER = "local"
    indexed_faq(question="How long is the warranty on the motor?", answer="3 years.")
    local = services.index_publish()
    settings.EMBEDDING_PROVIDER = "openai"

    assert index_readiness()[0] is False
    switched = services.index_publish()

    version = IndexVersion.objects.get(is_current=True)
    # The FAQ's question + answer, and its question alone.
    assert switched.status == "published" and switched.embedded == 2
    assert version.model_id.startswith("openai:") and version.dimension == 64
    assert index_readiness()[0] is True
    assert search(query="motor warranty", k=1)[0].confidence > 0

    settings.EMBEDDING_PROVIDER = "local"
    back = services.index_publish()
    assert back.status == "published" and back.embedded == 0 and back.version_id != local.version_id


def test_readiness_is_true_for_an_empty_knowledge_base():
    assert index_readiness() == (True, "empty knowledge base")


def test_readiness_is_false_while_chunks_wait_for_their_first_version():
    TextDocumentFactory()
    services.document_ingest(document_id=TextDocumentFactory().pk)

    ready, detail = index_readiness()

    assert ready is False
    assert "no index version has been published yet" in detail


def test_readiness_names_the_loaded_version():
    indexed_faq()
    version = services.index_publish().version_id

    assert index_readiness() == (True, f"index v{version}: 1 chunks (flat)")
