import pytest

from knowledge import services
from knowledge.selectors import search
from knowledge.tests.factories import FAQFactory

pytestmark = pytest.mark.django_db


def test_an_unreachable_embedding_service_degrades_search_to_keywords_with_zero_confidence(openai_embeddings):
    faq = FAQFactory(question="Do you sell replacement chains?", answer="Yes, for every model.")
    FAQFactory(question="Do you sell helmets?", answer="Yes, with a light.")
    services.faq_ingest(faq_id=faq.pk)
    services.index_publish()
    openai_embeddings.failures.append(500)

    results = search(query="replacement chains", k=2)

    assert [r.source_id for r in results] == [faq.pk]
    assert results[0].dense_rank is None and results[0].keyword_rank == 1
    assert results[0].confidence == 0.0
