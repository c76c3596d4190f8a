"""
FAQs through the ingest runner (one pair becomes one chunk, question and
answer together), one at a time or many at once, and the CSV import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from knowledge import chunking
from knowledge.embeddings import count_tokens
from knowledge.extraction import ExtractionError, parse_faq_csv
from knowledge.models import FAQ, SourceStatus
from knowledge.services.embedding_cache import DB_BATCH
from knowledge.services.runner import (
    IngestOutcome,
    Prepared,
    PreparedChunk,
    ingest_run,
    input_hash,
    mark_ready_if_unchanged,
    pipeline_fingerprint,
)


@dataclass
class FaqImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    faq_ids: list[int] = field(default_factory=list)  # created or changed: the ones to index


def faq_search_text(*, question: str, answer: str) -> str:
    return f"{question.strip()}\n{answer.strip()}"


def faq_source_hash(*, faq: FAQ) -> str:
    return input_hash(pipeline_fingerprint(), "faq", faq_search_text(question=faq.question, answer=faq.answer))


def faq_ingest(*, faq_id: int, force: bool = False, take_over: bool = False) -> IngestOutcome:
    """One FAQ pair becomes one chunk (question and answer together)."""
    label = f"faq:{faq_id}"
    faq = FAQ.objects.filter(pk=faq_id).first()
    if faq is None:
        return IngestOutcome(label, "missing")
    if not force and faq.source_hash == faq_source_hash(faq=faq):
        mark_ready_if_unchanged(FAQ, faq)
        return IngestOutcome(label, "unchanged", chunks=1)
    [outcome] = ingest_run(
        model=FAQ, source_ids=[faq_id], prepare=faq_prepare, force=force, take_over=take_over, preloaded=[faq]
    )
    return outcome


def faqs_ingest(*, faq_ids: list[int], force: bool = False, take_over: bool = False) -> list[IngestOutcome]:
    """
    Many FAQs at once (a CSV import), through the runner as one batch: one
    lease update, one embedding call and one transaction instead of one of
    each per FAQ. An FAQ another worker holds is left to it ("busy").
    """
    return ingest_run(model=FAQ, source_ids=faq_ids, prepare=faq_prepare, force=force, take_over=take_over)


def faq_prepare(faq: FAQ, force: bool) -> Prepared:
    """The runner's prepare step for an FAQ: its one chunk, unless it is unchanged."""
    source_hash = faq_source_hash(faq=faq)
    if not force and faq.source_hash == source_hash:
        return Prepared(source_hash=source_hash, chunks=None)
    if not faq.question.strip() or not faq.answer.strip():
        raise ExtractionError("An FAQ needs both a question and an answer.")
    text = faq_search_text(question=faq.question, answer=faq.answer)
    chunk = PreparedChunk(
        text=text,
        heading_path="",
        page=None,
        token_count=count_tokens(text),
        search_text=text,
        content_hash=chunking.content_hash(text),
    )
    return Prepared(source_hash=source_hash, chunks=[chunk])


def faq_import_csv(*, data: bytes, enqueue: bool = True) -> FaqImportResult:
    """
    Imports `question,answer` rows: a new question creates an FAQ, a known one
    (same text, any case) gets the new answer, an identical pair is left alone.
    Bulk writes fire no signals, so indexing is enqueued here, once, on commit.
    Raises `ExtractionError` (nothing imported) when the file itself is unusable.
    """
    parsed = parse_faq_csv(data)
    result = FaqImportResult(skipped=list(parsed.skipped))
    latest: dict[str, tuple[str, str]] = {}
    for row in parsed.rows:
        latest[row.question.casefold()] = (row.question, row.answer)
    with transaction.atomic():
        existing: dict[str, FAQ] = {}
        for known in FAQ.objects.only("id", "question", "answer").order_by("id"):
            existing.setdefault(known.question.strip().casefold(), known)
        now = timezone.now()
        to_create: list[FAQ] = []
        to_update: list[FAQ] = []
        for key, (question, answer) in latest.items():
            faq = existing.get(key)
            if faq is None:
                to_create.append(FAQ(question=question, answer=answer, status=SourceStatus.QUEUED))
            elif faq.answer.strip() != answer:
                faq.answer, faq.status, faq.status_reason, faq.updated_at = answer, SourceStatus.QUEUED, "", now
                to_update.append(faq)
            else:
                result.unchanged += 1
        created = FAQ.objects.bulk_create(to_create, batch_size=DB_BATCH)
        if to_update:
            FAQ.objects.bulk_update(to_update, ["answer", "status", "status_reason", "updated_at"], batch_size=DB_BATCH)
        result.created, result.updated = len(created), len(to_update)
        result.faq_ids = [faq.pk for faq in created] + [faq.pk for faq in to_update]
        if enqueue and result.faq_ids:
            from knowledge.tasks import faqs_index_task

            ids = list(result.faq_ids)
            transaction.on_commit(lambda: faqs_index_task.enqueue(ids))
    return result
