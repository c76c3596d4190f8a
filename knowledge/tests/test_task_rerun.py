import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from knowledge import services
from knowledge.models import FAQ, Document, SourceStatus
from knowledge.tasks import document_index_task, faq_index_task

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index"]}}


def run_queue() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--queue-name", "*", verbosity=0)


def rows_bypassing_signals():
    document = Document.objects.bulk_create(
        [Document(kind=Document.Kind.TEXT, identifier="text:hours", title="Hours", text="# Hours\n\nOpen 9 to 5.")]
    )[0]
    faq = FAQ.objects.bulk_create([FAQ(question="Open on Sunday?", answer="No.")])[0]
    return document, faq


def test_a_rerun_of_a_task_whose_worker_died_takes_over_the_source_lease(database_tasks):
    document, faq = rows_bypassing_signals()
    for model, pk in ((Document, document.pk), (FAQ, faq.pk)):
        assert services._claim(model, pk, take_over=False)  # the dead worker's lease, still valid
    results = [document_index_task.enqueue(document.pk), faq_index_task.enqueue(faq.pk)]
    DBTaskResult.objects.filter(pk__in=[r.id for r in results]).update(worker_ids=["the-dead-worker"])

    run_queue()

    document.refresh_from_db()
    faq.refresh_from_db()
    assert (document.status, document.chunk_count, document.lease_until) == (SourceStatus.READY, 1, None)
    assert faq.status == SourceStatus.READY and faq.chunks.count() == 1


def test_a_first_attempt_leaves_a_live_lease_to_its_holder(database_tasks):
    document, _ = rows_bypassing_signals()
    services._claim(Document, document.pk, take_over=False)
    result = document_index_task.enqueue(document.pk)

    run_queue()

    assert DBTaskResult.objects.get(pk=result.id).return_value["source"] == "busy"
    assert not Document.objects.get(pk=document.pk).chunks.exists()
