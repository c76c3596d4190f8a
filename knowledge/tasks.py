"""
Background work of the knowledge base (queue "index").

Every task is idempotent: running one twice, or after a worker died half-way,
converges to the same chunks and index. Arguments are ids, never objects.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import TaskContext, default_task_backend, task

from knowledge import services

BUSY_RETRY = timedelta(seconds=30)


def _retry_later(task_obj, *args) -> None:
    """Another worker holds the source's lease: look again later (it may have died)."""
    if default_task_backend.supports_defer:
        task_obj.using(run_after=timezone.now() + BUSY_RETRY).enqueue(*args)


def _rerun(context: TaskContext) -> bool:
    """
    A second attempt means the worker of the first one died (core/task_leases.py
    requeues such tasks): the source lease it left behind is taken over at once.
    """
    return context.attempt > 1


@task(queue_name="index", takes_context=True)
def document_index_task(context: TaskContext, document_id: int, force: bool = False) -> dict:
    outcome = services.document_ingest(document_id=document_id, force=force, take_over=_rerun(context))
    if outcome.status == "busy":
        _retry_later(document_index_task, document_id, force)
    publish = services.index_publish()
    return {"source": outcome.status, "reason": outcome.reason, "index": publish.status, "version": publish.version_id}


@task(queue_name="index", takes_context=True)
def faq_index_task(context: TaskContext, faq_id: int, force: bool = False) -> dict:
    outcome = services.faq_ingest(faq_id=faq_id, force=force, take_over=_rerun(context))
    if outcome.status == "busy":
        _retry_later(faq_index_task, faq_id, force)
    publish = services.index_publish()
    return {"source": outcome.status, "reason": outcome.reason, "index": publish.status, "version": publish.version_id}


@task(queue_name="index", takes_context=True)
def faqs_index_task(context: TaskContext, faq_ids: list[int]) -> dict:
    """A CSV import: every FAQ first, then a single index version."""
    statuses: dict[str, int] = {}
    busy = []
    for outcome in services.faqs_ingest(faq_ids=faq_ids, take_over=_rerun(context)):
        statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
        if outcome.status == "busy":
            busy.append(int(outcome.source.split(":")[1]))
    if busy:
        _retry_later(faqs_index_task, busy)
    publish = services.index_publish()
    return {"sources": statuses, "index": publish.status, "version": publish.version_id}


@task(queue_name="index")
def index_publish_task() -> dict:
    publish = services.index_publish()
    return {"index": publish.status, "version": publish.version_id}


@task(queue_name="index", takes_context=True)
def document_refetch_task(context: TaskContext, document_id: int, due: str) -> dict:
    outcome = services.document_refetch(document_id=document_id, due=due, take_over=_rerun(context))
    publish = services.index_publish()
    return {"source": outcome.status, "reason": outcome.reason, "index": publish.status}
