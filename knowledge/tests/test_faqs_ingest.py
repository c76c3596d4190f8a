import pytest

from knowledge import services
from knowledge.models import FAQ, Chunk, Embedding, SourceStatus
from knowledge.tests.factories import FAQFactory

pytestmark = pytest.mark.django_db


def test_many_faqs_are_indexed_with_one_embedding_batch():
    faqs = FAQFactory.create_batch(4)

    outcomes = services.faqs_ingest(faq_ids=[f.pk for f in faqs])

    assert [o.status for o in outcomes] == ["indexed"] * 4
    assert sum(o.embedded for o in outcomes) == 4 == Embedding.objects.count()
    assert set(FAQ.objects.values_list("status", flat=True)) == {SourceStatus.READY}
    assert Chunk.objects.filter(faq__in=faqs).count() == 4
    assert not FAQ.objects.filter(lease_until__isnull=False).exists()


def test_a_second_run_changes_only_the_edited_faq_and_keeps_the_other_chunks():
    faqs = FAQFactory.create_batch(3)
    services.faqs_ingest(faq_ids=[f.pk for f in faqs])
    kept = set(Chunk.objects.filter(faq__in=faqs[1:]).values_list("id", flat=True))
    FAQ.objects.filter(pk=faqs[0].pk).update(answer="A completely new answer.")

    outcomes = services.faqs_ingest(faq_ids=[f.pk for f in faqs])

    assert [o.status for o in outcomes] == ["indexed", "unchanged", "unchanged"]
    assert kept <= set(Chunk.objects.values_list("id", flat=True))
    assert Chunk.objects.get(faq=faqs[0]).text.endswith("A completely new answer.")
    assert Chunk.objects.count() == 3


def test_an_faq_leased_by_another_worker_is_left_to_it_and_a_broken_one_fails_alone():
    leased, broken, fine = FAQFactory.create_batch(3)
    services._claim(FAQ, leased.pk, take_over=False)
    FAQ.objects.filter(pk=broken.pk).update(answer="   ")

    outcomes = {o.source: o for o in services.faqs_ingest(faq_ids=[leased.pk, broken.pk, fine.pk])}

    assert outcomes[f"faq:{leased.pk}"].status == "busy"
    assert outcomes[f"faq:{broken.pk}"].status == "failed"
    assert FAQ.objects.get(pk=broken.pk).status_reason == "An FAQ needs both a question and an answer."
    assert outcomes[f"faq:{fine.pk}"].status == "indexed"


def test_an_embedding_outage_fails_each_faq_with_the_reason(openai_embeddings):
    faqs = FAQFactory.create_batch(2)
    openai_embeddings.failures.extend([500, 500, 500])

    outcomes = services.faqs_ingest(faq_ids=[f.pk for f in faqs])

    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert all("answered 500" in reason for reason in FAQ.objects.values_list("status_reason", flat=True))
    assert not FAQ.objects.filter(lease_until__isnull=False).exists()
