"""Whole-base operations for commands: re-index what is not ready (or everything), then publish."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from knowledge.models import FAQ, Document, SourceStatus
from knowledge.services.documents import document_ingest
from knowledge.services.faqs import faq_ingest
from knowledge.services.publish import PublishOutcome, index_publish
from knowledge.services.runner import IngestOutcome


@dataclass
class ReindexOutcome:
    outcomes: list[IngestOutcome]
    publish: PublishOutcome


def sources_reindex(
    *,
    full: bool,
    on_progress: Callable[[IngestOutcome], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> ReindexOutcome:
    """
    Without `full`: every source that is not ready (queued, failed, or stuck
    "indexing" after a worker crash: its lease is taken over), then a publish
    that embeds whatever the current model lacks. With `full`: every source is
    re-extracted and re-chunked; the embedding cache still spares unchanged text.
    """
    documents = Document.objects.all()
    faqs = FAQ.objects.all()
    if not full:
        documents = documents.exclude(status=SourceStatus.READY)
        faqs = faqs.exclude(status=SourceStatus.READY)
    document_ids = list(documents.order_by("id").values_list("id", flat=True))
    faq_ids = list(faqs.order_by("id").values_list("id", flat=True))
    if on_total:
        on_total(len(document_ids) + len(faq_ids))
    outcomes = []
    for pk in document_ids:
        outcome = document_ingest(document_id=pk, force=full, take_over=True)
        outcomes.append(outcome)
        if on_progress:
            on_progress(outcome)
    for pk in faq_ids:
        outcome = faq_ingest(faq_id=pk, force=full, take_over=True)
        outcomes.append(outcome)
        if on_progress:
            on_progress(outcome)
    return ReindexOutcome(outcomes=outcomes, publish=index_publish(force=full))
