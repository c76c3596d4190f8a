"""
Documents (uploaded files, pasted text, web pages) through the ingest runner:
one at a time (admin saves, tasks, re-fetches) or several files at once (the
`ingest` command).
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.utils import timezone

from knowledge import chunking
from knowledge.embeddings import count_tokens
from knowledge.extraction import Extracted, ExtractionError, extract
from knowledge.fetch import fetch_url
from knowledge.models import Document
from knowledge.services.refetch import document_refetch_due_claim, document_refetch_schedule
from knowledge.services.runner import (
    IngestOutcome,
    Prepared,
    ingest_run,
    input_hash,
    mark_ready_if_unchanged,
    pipeline_fingerprint,
    prepared_chunks,
)


def document_input_hash(*, kind: str, title: str, data: bytes) -> str:
    """The source hash of a document with this kind, title and input (the file's or page's bytes, the text)."""
    return input_hash(pipeline_fingerprint(), kind, title, data)


def document_source_hash(*, document: Document, title: str | None = None) -> str:
    return document_input_hash(
        kind=document.kind, title=title if title is not None else document.title, data=_document_input(document)
    )


def _document_input(document: Document) -> bytes:
    if document.kind == Document.Kind.TEXT:
        return document.text.encode("utf-8")
    return bytes(document.content or b"")


def _needs_fetch(document: Document) -> bool:
    return document.kind == Document.Kind.URL and (not document.content or document.fetched_url != document.url)


def document_ingest(
    *, document_id: int, force: bool = False, refetch: bool = False, take_over: bool = False
) -> IngestOutcome:
    """Extracts, chunks and embeds one document (not the index: see `index_publish`)."""
    label = f"document:{document_id}"
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return IngestOutcome(label, "missing")
    if (
        not force
        and not refetch
        and not _needs_fetch(document)
        and document.source_hash == document_source_hash(document=document)
    ):
        mark_ready_if_unchanged(Document, document)
        document_refetch_schedule(document_id=document_id, after_fetch=False, kind=document.kind)
        return IngestOutcome(label, "unchanged", chunks=document.chunk_count)
    [outcome] = ingest_run(
        model=Document,
        source_ids=[document_id],
        prepare=partial(document_prepare, refetch=refetch),
        force=force,
        take_over=take_over,
        preloaded=[document],
    )
    if outcome.status in {"indexed", "unchanged", "failed"}:
        document_refetch_schedule(
            document_id=document_id, after_fetch=refetch or outcome.status == "indexed", kind=document.kind
        )
    return outcome


def documents_ingest(*, document_ids: list[int], force: bool = False) -> list[IngestOutcome]:
    """
    Several stored files at once (the `ingest` command), through the runner
    as one batch: each is extracted and chunked on its own, then the new
    chunks of all of them are embedded in one call, which sorts them by
    length across files and so pads far less (about a quarter faster than
    one call per file on the sample knowledge base); a bad file still fails
    alone. The command's leases are taken over at once.
    """
    return ingest_run(model=Document, source_ids=document_ids, prepare=document_prepare, force=force, take_over=True)


def document_refetch(*, document_id: int, due: str | None = None, take_over: bool = False) -> IngestOutcome:
    """Re-fetches one web page; with `due`, only if that is still the scheduled time (one live chain)."""
    if due is not None and not document_refetch_due_claim(document_id=document_id, due=due, take_over=take_over):
        return IngestOutcome(f"document:{document_id}", "unchanged", reason="superseded schedule")
    return document_ingest(document_id=document_id, refetch=True, take_over=take_over)


def document_prepare(document: Document, force: bool, *, refetch: bool = False) -> Prepared:
    """The runner's prepare step for a document: fetched if need be, then extracted and chunked."""
    if document.kind == Document.Kind.URL:
        if not document.url:
            raise ExtractionError("A web-page source needs a URL.")
        if refetch or _needs_fetch(document):
            _fetch(document)
    if not force and document.source_hash and document.source_hash == document_source_hash(document=document):
        return Prepared(source_hash=document.source_hash, chunks=None)
    extracted = _extract(document)
    title = document.title or extracted.title[:300]
    drafts = chunking.chunk_blocks(
        blocks=extracted.blocks,
        title=title,
        max_tokens=settings.CHUNK_TOKENS,
        overlap_tokens=settings.CHUNK_OVERLAP_TOKENS,
        count_tokens=count_tokens,
    )
    if not drafts:
        raise ExtractionError("The document contains no text to index.")
    return Prepared(
        source_hash=document_source_hash(document=document, title=title),
        chunks=prepared_chunks(drafts, title=title),
        updates={"title": title} if title != document.title else {},
    )


def _fetch(document: Document) -> None:
    """Fetches the page (through the fetch guard) into the row and the instance; `updated_at` is left as it was."""
    page = fetch_url(url=document.url, timeout=settings.URL_FETCH_TIMEOUT, max_bytes=settings.URL_FETCH_MAX_BYTES)
    document.content, document.content_type = page.body, page.content_type[:200]
    Document.objects.filter(pk=document.pk).update(
        content=page.body,
        content_type=document.content_type,
        size_bytes=len(page.body),
        fetched_url=document.url,
        fetched_at=timezone.now(),
    )


def _extract(document: Document) -> Extracted:
    if document.kind == Document.Kind.FILE and document.size_bytes > settings.UPLOAD_MAX_BYTES:
        raise ExtractionError(
            f"The file is {document.size_bytes / 1_048_576:,.1f} MB, over the "
            f"{settings.UPLOAD_MAX_BYTES / 1_048_576:,.0f} MB upload limit (UPLOAD_MAX_BYTES)."
        )
    if document.kind == Document.Kind.TEXT:
        if not document.text.strip():
            raise ExtractionError("The pasted text is empty.")
        return extract(data=document.text.encode("utf-8"), filename="pasted.md", fallback_title=document.title)
    return extract(
        data=_document_input(document),
        filename=document.identifier if document.kind == Document.Kind.FILE else document.url,
        content_type=document.content_type,
        fallback_title=document.title,
    )
