import pytest

from knowledge.models import FAQ, Embedding, IndexVersion, SourceStatus
from knowledge.selectors import search
from knowledge.tests.factories import FAQFactory

pytestmark = pytest.mark.django_db


def test_saving_an_faq_indexes_it_through_a_task_enqueued_on_commit(on_commit):
    with on_commit() as callbacks:
        faq = FAQFactory(question="Do you deliver on Saturdays?", answer="Yes, in Portland only.")

    faq.refresh_from_db()
    assert len(callbacks) >= 1
    assert faq.status == SourceStatus.READY and faq.indexed_at is not None
    assert [c.text for c in faq.chunks.all()] == ["Do you deliver on Saturdays?\nYes, in Portland only."]
    top = search(query="weekend delivery", k=1)[0]
    assert (top.source_type, top.source_id, top.title, top.url) == ("faq", faq.pk, faq.question, f"/kb/faqs/{faq.pk}/")


def test_nothing_is_indexed_before_the_transaction_commits():
    faq = FAQFactory()

    faq.refresh_from_db()
    assert faq.status == SourceStatus.QUEUED
    assert not faq.chunks.exists()


def test_editing_one_faq_embeds_that_faq_alone(on_commit):
    with on_commit():
        faqs = FAQFactory.create_batch(3)
    before = Embedding.objects.count()

    with on_commit():
        faqs[1].answer = "A brand new answer about tyre pressure."
        faqs[1].save()

    assert Embedding.objects.count() == before + 1
    assert search(query="tyre pressure", k=1)[0].source_id == faqs[1].pk


def test_an_admin_save_marks_the_faq_queued_until_its_task_runs():
    faq = FAQ.objects.create(question="Q?", answer="A.", status=SourceStatus.READY)

    faq.answer = "Changed."
    faq.save()

    faq.refresh_from_db()
    assert faq.status == SourceStatus.QUEUED


def test_a_deleted_faq_never_comes_back(on_commit):
    with on_commit():
        keep = FAQFactory(question="How heavy is the Commuter 2?", answer="48 lb.")
        gone = FAQFactory(question="Is the Commuter 2 foldable?", answer="No, it does not fold.")
    version = IndexVersion.objects.get(is_current=True).pk

    with on_commit():
        gone.delete()

    ids = {r.source_id for r in search(query="Commuter 2 foldable", k=5)}
    assert ids == {keep.pk}
    assert IndexVersion.objects.get(is_current=True).pk != version


def test_a_deactivated_faq_is_hidden_at_once_and_dropped_from_the_next_version(on_commit):
    with on_commit():
        faq = FAQFactory(question="Do you sell unicycles?", answer="No, only e-bikes.")

    FAQ.objects.filter(pk=faq.pk).update(is_active=False)
    assert search(query="unicycles", k=3) == []

    with on_commit():
        faq.refresh_from_db()
        faq.save()

    assert IndexVersion.objects.get(is_current=True).chunk_count == 0
