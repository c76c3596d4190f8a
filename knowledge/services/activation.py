"""Admin's bulk actions on sources: (de)activation and re-indexing. Bulk updates fire no signals: these enqueue."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from knowledge.models import FAQ, Document, SourceStatus


def sources_set_active(
    *, documents: QuerySet[Document] | None = None, faqs: QuerySet[FAQ] | None = None, active: bool
) -> int:
    """Bulk (de)activation fires no signals: the index rebuild is enqueued here."""
    from knowledge.tasks import index_publish_task

    changed = 0
    with transaction.atomic():
        if documents is not None:
            changed += documents.exclude(is_active=active).update(is_active=active, updated_at=timezone.now())
        if faqs is not None:
            changed += faqs.exclude(is_active=active).update(is_active=active, updated_at=timezone.now())
        if changed:
            transaction.on_commit(lambda: index_publish_task.enqueue())
    return changed


def sources_enqueue_reindex(*, document_ids: Iterable[int] = (), faq_ids: Iterable[int] = ()) -> int:
    from knowledge.tasks import document_index_task, faq_index_task

    documents, faqs = list(document_ids), list(faq_ids)
    with transaction.atomic():
        Document.objects.filter(pk__in=documents).update(status=SourceStatus.QUEUED, status_reason="")
        FAQ.objects.filter(pk__in=faqs).update(status=SourceStatus.QUEUED, status_reason="")

        def enqueue() -> None:
            for pk in documents:
                document_index_task.enqueue(pk, True)
            for pk in faqs:
                faq_index_task.enqueue(pk, True)

        transaction.on_commit(enqueue)
    return len(documents) + len(faqs)
