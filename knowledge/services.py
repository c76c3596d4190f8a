"""
Writes of the knowledge base: ingesting sources, importing FAQs, publishing
index versions. Admin, tasks and management commands all call these.

Indexing one source is idempotent and safe to run twice at once:

1. Fast path: if the source's input hashes to the `source_hash` of its last
   successful run, nothing is extracted or embedded.
2. Otherwise the worker takes a lease on the row (`lease_until`, a conditional
   update), extracts, chunks and embeds outside any transaction, then in one
   short transaction swaps the chunks and marks the source ready, but only if
   the row was not saved again meanwhile (`updated_at` unchanged); if it was,
   it starts over with the new content. A crashed worker's lease expires
   (`LEASE`), and `reindex` takes leases over at once.
3. A bad input fails that source alone (status "failed" and a plain reason);
   its previous chunks, the index and every other source stay as they were.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from knowledge import chunking, index
from knowledge.embeddings import (
    EmbeddingError,
    EmbeddingProvider,
    count_tokens,
    get_provider,
)
from knowledge.extraction import ExtractionError, detect_format, extract, parse_faq_csv
from knowledge.fetch import FetchError, fetch_url
from knowledge.models import FAQ, Chunk, Document, Embedding, IndexVersion, SourceStatus
from knowledge.selectors import active_chunks

logger = logging.getLogger(__name__)

PIPELINE_VERSION = 2  # bump when extraction or chunking output changes: forces re-chunking
LEASE = timedelta(minutes=10)
KEEP_OLD_VERSIONS = 2
STALE_BUILD_AGE = timedelta(hours=1)
DB_BATCH = 500
SOURCE_PROBLEMS = (ExtractionError, FetchError, EmbeddingError)


@dataclass(frozen=True)
class IngestOutcome:
    source: str  # "document:<id>" or "faq:<id>"
    status: str  # "indexed" | "unchanged" | "failed" | "busy" | "missing"
    chunks: int = 0
    tokens: int = 0
    embedded: int = 0
    reason: str = ""
    seconds: float = 0.0


@dataclass(frozen=True)
class PublishOutcome:
    status: str  # "published" | "unchanged" | "superseded"
    version_id: int | None
    chunk_count: int
    embedded: int = 0
    seconds: float = 0.0


@dataclass
class FaqImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    faq_ids: list[int] = field(default_factory=list)  # created or changed: the ones to index


@dataclass(frozen=True)
class _PreparedChunk:
    text: str
    heading_path: str
    page: int | None
    token_count: int
    search_text: str
    content_hash: str


@dataclass
class _Prepared:
    source_hash: str
    chunks: list[_PreparedChunk] | None  # None: unchanged since the last success
    updates: dict = field(default_factory=dict)  # extra fields to store with "ready"
    embedded: int = 0


def _pipeline_fingerprint() -> str:
    return f"pipeline={PIPELINE_VERSION};tokens={settings.CHUNK_TOKENS};overlap={settings.CHUNK_OVERLAP_TOKENS}"


def _hash(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


# --- Embedding cache ------------------------------------------------------------------------------


def embeddings_ensure(*, texts_by_hash: dict[str, str], provider: EmbeddingProvider | None = None) -> int:
    """Embeds the texts whose (model, hash) has no vector yet; returns how many were embedded."""
    provider = provider or get_provider()
    hashes = list(texts_by_hash)
    known: set[str] = set()
    for start in range(0, len(hashes), DB_BATCH):
        known.update(
            Embedding.objects.filter(
                model_id=provider.model_id, content_hash__in=hashes[start : start + DB_BATCH]
            ).values_list("content_hash", flat=True)
        )
    missing = [h for h in hashes if h not in known]
    if not missing:
        return 0
    vectors = provider.embed_documents([texts_by_hash[h] for h in missing])
    Embedding.objects.bulk_create(
        [
            Embedding(
                model_id=provider.model_id,
                content_hash=h,
                dimension=vector.shape[0],
                vector=vector.astype(np.float32).tobytes(),
            )
            for h, vector in zip(missing, vectors, strict=False)
        ],
        ignore_conflicts=True,
        batch_size=DB_BATCH,
    )
    return len(missing)


def embeddings_load(*, hashes: list[str], model_id: str) -> dict[str, np.ndarray]:
    vectors: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), DB_BATCH):
        rows = Embedding.objects.filter(model_id=model_id, content_hash__in=unique[start : start + DB_BATCH])
        for content_hash, vector in rows.values_list("content_hash", "vector"):
            vectors[content_hash] = np.frombuffer(bytes(vector), dtype=np.float32)
    return vectors


# --- Claiming and finishing one source ----------------------------------------------------------------


def _claim(model, pk: int, *, take_over: bool) -> bool:
    """Takes the source's lease (and shows it as indexing) unless another worker holds a live one."""
    now = timezone.now()
    rows = model.objects.filter(pk=pk)
    if not take_over:
        rows = rows.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    return rows.update(lease_until=now + LEASE, status=SourceStatus.INDEXING, status_changed_at=now) == 1


def _release(model, pk: int, **fields) -> None:
    model.objects.filter(pk=pk).update(lease_until=None, **fields)


def _run_claimed(
    model,
    pk: int,
    *,
    label: str,
    force: bool,
    take_over: bool,
    prepare: Callable[[object, bool], _Prepared],
    source=None,
) -> IngestOutcome:
    """
    `source` may be the row as read before the claim: `_finish` only succeeds
    if it was not saved since (same `updated_at`), otherwise the loop re-reads it.
    """
    started = time.perf_counter()
    if not _claim(model, pk, take_over=take_over):
        if not model.objects.filter(pk=pk).exists():
            return IngestOutcome(label, "missing")
        return IngestOutcome(label, "busy", reason="another worker is indexing this source")
    try:
        while True:
            if source is None:
                source = model.objects.filter(pk=pk).first()
                if source is None:
                    return IngestOutcome(label, "missing")
            seen = source.updated_at
            try:
                prepared = prepare(source, force)
                with transaction.atomic():
                    done = _finish(model, source, seen, prepared)
                if done is None:
                    source = None
                    continue
                chunks, tokens = done
                status = "unchanged" if prepared.chunks is None else "indexed"
                return IngestOutcome(
                    label,
                    status,
                    chunks=chunks,
                    tokens=tokens,
                    embedded=prepared.embedded,
                    seconds=time.perf_counter() - started,
                )
            except SOURCE_PROBLEMS as exc:
                if not _fail(model, pk, seen=seen, reason=str(exc)):
                    source = None
                    continue
                logger.info("%s failed: %s", label, exc)
                return IngestOutcome(label, "failed", reason=str(exc), seconds=time.perf_counter() - started)
    except KeyboardInterrupt:
        _release(model, pk, status=SourceStatus.QUEUED, status_reason="Interrupted; it will be indexed again.")
        raise
    except BaseException as exc:
        logger.exception("%s: unexpected error while indexing", label)
        _release(
            model,
            pk,
            status=SourceStatus.FAILED,
            status_changed_at=timezone.now(),
            status_reason=f"Internal error while indexing ({type(exc).__name__}: {exc}); see the server log.",
        )
        raise


def _fail(model, pk: int, *, seen, reason: str) -> bool:
    """Marks the source failed with `reason`, unless it was saved since `seen`."""
    return (
        model.objects.filter(pk=pk, updated_at=seen).update(
            status=SourceStatus.FAILED,
            status_reason=reason,
            status_changed_at=timezone.now(),
            lease_until=None,
        )
        == 1
    )


def _finish(model, source, seen, prepared: _Prepared) -> tuple[int, int] | None:
    """Inside a transaction: marks the source ready and swaps its chunks, unless it changed meanwhile."""
    now = timezone.now()
    fields = dict(
        status=SourceStatus.READY,
        status_reason="",
        status_changed_at=now,
        lease_until=None,
        source_hash=prepared.source_hash,
        **prepared.updates,
    )
    if prepared.chunks is not None:
        fields["indexed_at"] = now
    if model is Document and prepared.chunks is not None:
        fields["chunk_count"] = len(prepared.chunks)
    if not model.objects.filter(pk=source.pk, updated_at=seen).update(**fields):
        return None
    owner = "document" if model is Document else "faq"
    if prepared.chunks is not None:
        _sync_chunks(owner=owner, owner_id=source.pk, prepared=prepared.chunks)
        return len(prepared.chunks), sum(chunk.token_count for chunk in prepared.chunks)
    existing = Chunk.objects.filter(**{f"{owner}_id": source.pk})
    return existing.count(), sum(existing.values_list("token_count", flat=True))


def _sync_chunks(*, owner: str, owner_id: int, prepared: list[_PreparedChunk]) -> None:
    """
    Keeps the rows (and ids) of chunks whose text did not change, so that the
    index still serving keeps pointing at live rows; deletes and creates the rest.
    """
    existing = list(Chunk.objects.filter(**{f"{owner}_id": owner_id}).order_by("position", "id"))
    by_hash: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in existing:
        by_hash[chunk.content_hash].append(chunk)
    to_create: list[Chunk] = []
    to_update: list[Chunk] = []
    for position, item in enumerate(prepared):
        matches = by_hash.get(item.content_hash)
        if matches:
            chunk = matches.pop(0)
            if (chunk.position, chunk.page, chunk.token_count) != (position, item.page, item.token_count):
                chunk.position, chunk.page, chunk.token_count = position, item.page, item.token_count
                to_update.append(chunk)
            continue
        to_create.append(
            Chunk(
                **{f"{owner}_id": owner_id},
                position=position,
                text=item.text,
                heading_path=item.heading_path[:1000],
                page=item.page,
                token_count=item.token_count,
                search_text=item.search_text,
                content_hash=item.content_hash,
            )
        )
    stale = [chunk.pk for chunks in by_hash.values() for chunk in chunks]
    if stale:
        Chunk.objects.filter(pk__in=stale).delete()
    if to_update:
        Chunk.objects.bulk_update(to_update, ["position", "page", "token_count"], batch_size=DB_BATCH)
    if to_create:
        Chunk.objects.bulk_create(to_create, batch_size=DB_BATCH)


def _prepare_chunks(drafts: Iterable[chunking.ChunkDraft], *, title: str) -> list[_PreparedChunk]:
    prepared = []
    for draft in drafts:
        text = chunking.search_text(heading_path=draft.heading_path, title=title, text=draft.text)
        prepared.append(
            _PreparedChunk(
                text=draft.text,
                heading_path=draft.heading_path,
                page=draft.page,
                token_count=draft.token_count,
                search_text=text,
                content_hash=chunking.content_hash(text),
            )
        )
    return prepared


def _embed(prepared: list[_PreparedChunk]) -> int:
    return embeddings_ensure(texts_by_hash={chunk.content_hash: chunk.search_text for chunk in prepared})


# --- Documents --------------------------------------------------------------------------------------------


def _document_input(document: Document) -> bytes:
    if document.kind == Document.Kind.TEXT:
        return document.text.encode("utf-8")
    return bytes(document.content or b"")


def document_source_hash(*, document: Document, title: str | None = None) -> str:
    return _hash(
        _pipeline_fingerprint(),
        document.kind,
        title if title is not None else document.title,
        _document_input(document),
    )


def _needs_fetch(document: Document) -> bool:
    return document.kind == Document.Kind.URL and (not document.content or document.fetched_url != document.url)


def _prepare_document(document: Document, force: bool, *, refetch: bool = False, embed: bool = True) -> _Prepared:
    """Without `embed` the chunks' vectors are left to the caller (see `documents_ingest`)."""
    updates: dict = {}
    if document.kind == Document.Kind.URL:
        if not document.url:
            raise ExtractionError("A web-page source needs a URL.")
        if refetch or _needs_fetch(document):
            page = fetch_url(
                url=document.url, timeout=settings.URL_FETCH_TIMEOUT, max_bytes=settings.URL_FETCH_MAX_BYTES
            )
            document.content, document.content_type = page.body, page.content_type[:200]
            Document.objects.filter(pk=document.pk).update(
                content=page.body,
                content_type=document.content_type,
                size_bytes=len(page.body),
                fetched_url=document.url,
                fetched_at=timezone.now(),
            )
    if not force and document.source_hash and document.source_hash == document_source_hash(document=document):
        return _Prepared(source_hash=document.source_hash, chunks=None, updates=updates)

    if document.kind == Document.Kind.FILE and document.size_bytes > settings.UPLOAD_MAX_BYTES:
        raise ExtractionError(
            f"The file is {document.size_bytes / 1_048_576:,.1f} MB, over the "
            f"{settings.UPLOAD_MAX_BYTES / 1_048_576:,.0f} MB upload limit (UPLOAD_MAX_BYTES)."
        )
    if document.kind == Document.Kind.TEXT:
        if not document.text.strip():
            raise ExtractionError("The pasted text is empty.")
        extracted = extract(data=document.text.encode("utf-8"), filename="pasted.md", fallback_title=document.title)
    else:
        filename = document.identifier if document.kind == Document.Kind.FILE else document.url
        extracted = extract(
            data=_document_input(document),
            filename=filename,
            content_type=document.content_type,
            fallback_title=document.title,
        )
    title = document.title or extracted.title[:300]
    if title != document.title:
        updates["title"] = title
    drafts = chunking.chunk_blocks(
        blocks=extracted.blocks,
        title=title,
        max_tokens=settings.CHUNK_TOKENS,
        overlap_tokens=settings.CHUNK_OVERLAP_TOKENS,
        count_tokens=count_tokens,
    )
    if not drafts:
        raise ExtractionError("The document contains no text to index.")
    prepared = _prepare_chunks(drafts, title=title)
    embedded = _embed(prepared) if embed else 0
    return _Prepared(
        source_hash=document_source_hash(document=document, title=title),
        chunks=prepared,
        updates=updates,
        embedded=embedded,
    )


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
        Document.objects.filter(pk=document_id, updated_at=document.updated_at, lease_until__isnull=True).exclude(
            status=SourceStatus.READY
        ).update(status=SourceStatus.READY, status_reason="", status_changed_at=timezone.now())
        _schedule_refetch(document_id=document_id, after_fetch=False, kind=document.kind)
        return IngestOutcome(label, "unchanged", chunks=document.chunk_count)
    outcome = _run_claimed(
        Document,
        document_id,
        label=label,
        force=force,
        take_over=take_over,
        prepare=lambda doc, force_: _prepare_document(doc, force_, refetch=refetch),
        source=document,
    )
    if outcome.status in {"indexed", "unchanged", "failed"}:
        _schedule_refetch(
            document_id=document_id, after_fetch=refetch or outcome.status == "indexed", kind=document.kind
        )
    return outcome


_CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "markdown": "text/markdown",
    "html": "text/html",
    "text": "text/plain",
}


def document_apply_upload(*, document: Document, name: str, data: bytes | None, size: int) -> None:
    """
    Puts an uploaded file into `document` (not saved). A file over
    UPLOAD_MAX_BYTES is not stored: the source keeps its size and fails with
    that reason when indexed.
    """
    too_big = size > settings.UPLOAD_MAX_BYTES
    document.kind = Document.Kind.FILE
    document.content = b"" if too_big or data is None else data
    document.size_bytes = size
    document.content_type = _CONTENT_TYPES.get(_safe_format(name), "")
    document.url = ""
    document.text = ""


def document_save_file(
    *, name: str, data: bytes | None, size: int, title: str = "", send_signal: bool = True
) -> Document:
    """
    Creates or replaces the file source called `name` (its identifier). A file
    over UPLOAD_MAX_BYTES is not stored: the source records its size and fails
    with that reason. With `send_signal` (admin) indexing is enqueued on commit
    by the post_save receiver; without it (the `ingest` command, which indexes
    inline) the row is written with bulk operations that fire no signal.
    """
    identifier = Path(name).name[:500]
    existing = Document.objects.filter(identifier=identifier).defer("content").first()
    document = existing or Document(identifier=identifier)
    document_apply_upload(document=document, name=identifier, data=data, size=size)
    if title:
        document.title = title[:300]
    if send_signal:
        document.save()
        return document
    fields = dict(
        kind=document.kind,
        content=document.content,
        size_bytes=size,
        content_type=document.content_type,
        url="",
        text="",
        title=document.title,
    )
    if existing is None:
        document.status = SourceStatus.QUEUED
        Document.objects.bulk_create([document])
        return document if document.pk else Document.objects.defer("content").get(identifier=identifier)
    Document.objects.filter(pk=existing.pk).update(
        updated_at=timezone.now(), status=SourceStatus.QUEUED, status_reason="", **fields
    )
    return document


def _safe_format(filename: str) -> str:
    try:
        return detect_format(filename=filename)
    except ExtractionError:
        return ""


def document_store_file(*, path: Path, force: bool = False) -> tuple[Document, bool]:
    """
    Stores the file as a source if it changed. Returns the document and
    whether it needs indexing (False: these very
    bytes are indexed and ready).
    """
    size = path.stat().st_size
    data = path.read_bytes() if size <= settings.UPLOAD_MAX_BYTES else None
    existing = Document.objects.filter(identifier=path.name).first()
    if (
        existing is not None
        and not force
        and existing.kind == Document.Kind.FILE
        and data is not None
        and existing.source_hash
        and existing.source_hash == _hash(_pipeline_fingerprint(), Document.Kind.FILE, existing.title, data)
        and existing.status == SourceStatus.READY
    ):
        return existing, False
    if (
        existing is None
        or force
        or existing.kind != Document.Kind.FILE
        or bytes(existing.content) != (data or b"")
        or existing.size_bytes != size
    ):
        return document_save_file(name=path.name, data=data, size=size, send_signal=False), True
    return existing, True


def document_files_ingest(*, paths: list[Path], force: bool = False) -> list[IngestOutcome]:
    """The `ingest` command's door: stores the files that changed and indexes them together."""
    stored = [document_store_file(path=path, force=force) for path in paths]
    to_index = [document.pk for document, needs_indexing in stored if needs_indexing]
    outcomes = dict(zip(to_index, documents_ingest(document_ids=to_index, force=force), strict=False))
    return [
        outcomes[document.pk]
        if needs_indexing
        else IngestOutcome(f"document:{document.pk}", "unchanged", chunks=document.chunk_count)
        for document, needs_indexing in stored
    ]


def document_store_url(*, url: str) -> Document:
    """
    The web-page source for `url` (the URL is its identifier, as in admin):
    created, or pointed at the URL again. Written with bulk operations, which
    fire no signal: the caller indexes it. Raises `ExtractionError` when a file
    or text source already has that identifier (it is not overwritten).
    """
    identifier = url[:500]
    existing = Document.objects.filter(identifier=identifier).defer("content").first()
    if existing is None:
        Document.objects.bulk_create(
            [Document(kind=Document.Kind.URL, url=url, identifier=identifier, status=SourceStatus.QUEUED)]
        )
        return Document.objects.defer("content").get(identifier=identifier)
    if existing.kind != Document.Kind.URL:
        raise ExtractionError(
            f"The {existing.get_kind_display().lower()} source {identifier!r} already has "
            "this identifier; it was left as it is."
        )
    if existing.url != url:
        Document.objects.filter(pk=existing.pk).update(url=url, updated_at=timezone.now())
    return existing


def document_urls_ingest(*, urls: list[str], force: bool = False) -> list[IngestOutcome]:
    """The `ingest` command's door for web pages: stores each and fetches it now, through the fetch guard."""
    outcomes = []
    for url in urls:
        try:
            document = document_store_url(url=url)
        except ExtractionError as exc:
            outcomes.append(IngestOutcome(f"url:{url}", "failed", reason=str(exc)))
            continue
        outcomes.append(document_ingest(document_id=document.pk, force=force, refetch=True, take_over=True))
    return outcomes


def documents_ingest(*, document_ids: list[int], force: bool = False) -> list[IngestOutcome]:
    """
    Several stored files at once (the `ingest` command). Each is claimed,
    extracted and chunked on its own; then the new chunks of all of them are
    embedded in one call, which sorts them by length across files and so pads
    far less (about a quarter faster than one call per file on the sample
    knowledge base); then each is finished in its own transaction, so a bad
    file still fails alone. A document the batch cannot finish (saved again
    meanwhile, or the batch's embedding failed) goes through `document_ingest`.
    """
    started = time.perf_counter()
    outcomes: dict[int, IngestOutcome] = {}
    claimed: dict[int, tuple[Document, object, _Prepared]] = {}
    preparing: int | None = None
    embedded = 0
    try:
        for document in Document.objects.filter(pk__in=document_ids).order_by("pk"):
            if not _claim(Document, document.pk, take_over=True):
                continue
            preparing = document.pk
            try:
                claimed[document.pk] = (document, document.updated_at, _prepare_document(document, force, embed=False))
            except SOURCE_PROBLEMS as exc:
                label = f"document:{document.pk}"
                if _fail(Document, document.pk, seen=document.updated_at, reason=str(exc)):
                    logger.info("%s failed: %s", label, exc)
                    outcomes[document.pk] = IngestOutcome(label, "failed", reason=str(exc))
                else:
                    _release(Document, document.pk)
            preparing = None
        try:
            embedded = embeddings_ensure(
                texts_by_hash={
                    chunk.content_hash: chunk.search_text
                    for _, _, prepared in claimed.values()
                    for chunk in prepared.chunks or ()
                }
            )
        except EmbeddingError:
            for document_id in list(claimed):
                _release(Document, document_id)
                del claimed[document_id]
        for document_id, (document, seen, prepared) in list(claimed.items()):
            with transaction.atomic():
                done = _finish(Document, document, seen, prepared)
            del claimed[document_id]
            if done is None:
                _release(Document, document_id)
                continue
            status = "unchanged" if prepared.chunks is None else "indexed"
            outcomes[document_id] = IngestOutcome(f"document:{document_id}", status, chunks=done[0], tokens=done[1])
    except BaseException:
        unfinished = [*claimed, *([preparing] if preparing is not None else [])]
        Document.objects.filter(pk__in=unfinished).update(lease_until=None, status=SourceStatus.QUEUED)
        raise
    seconds = time.perf_counter() - started
    outcomes = {pk: dataclasses.replace(outcome, seconds=seconds) for pk, outcome in outcomes.items()}
    indexed = [pk for pk in document_ids if pk in outcomes and outcomes[pk].status == "indexed"]
    if indexed and embedded:
        outcomes[indexed[0]] = dataclasses.replace(outcomes[indexed[0]], embedded=embedded)
    for document_id in document_ids:
        if document_id not in outcomes:
            outcomes[document_id] = document_ingest(document_id=document_id, force=force, take_over=True)
    return [outcomes[document_id] for document_id in document_ids]


def _schedule_refetch(*, document_id: int, after_fetch: bool, kind: str | None = None) -> None:
    """
    Web pages with a re-fetch interval re-schedule themselves: one deferred
    `document_refetch_task` per due time. `next_fetch_at` names the one live
    chain; a task whose due time no longer matches it does nothing. Backends
    without deferred tasks rely on `manage.py refresh_sources` (cron).
    """
    from django_tasks import default_task_backend

    if kind is not None and kind != Document.Kind.URL:
        return
    document = (
        Document.objects.filter(pk=document_id)
        .only("kind", "refetch_interval_hours", "next_fetch_at", "fetched_at", "is_active")
        .first()
    )
    if document is None or document.kind != Document.Kind.URL:
        return
    if not document.refetch_interval_hours or not document.is_active:
        if document.next_fetch_at is not None:
            Document.objects.filter(pk=document_id).update(next_fetch_at=None)
        return
    now = timezone.now()
    due = now + timedelta(hours=document.refetch_interval_hours)
    if not after_fetch and document.next_fetch_at is not None and now < document.next_fetch_at <= due:
        return
    Document.objects.filter(pk=document_id).update(next_fetch_at=due)
    if default_task_backend.supports_defer:
        from knowledge.tasks import document_refetch_task

        transaction.on_commit(lambda: document_refetch_task.using(run_after=due).enqueue(document_id, due.isoformat()))


def document_refetch(*, document_id: int, due: str | None = None, take_over: bool = False) -> IngestOutcome:
    """Re-fetches one web page; with `due`, only if that is still the scheduled time (one live chain)."""
    if due is not None:
        from django.utils.dateparse import parse_datetime

        claimed = Document.objects.filter(pk=document_id, next_fetch_at=parse_datetime(due)).update(next_fetch_at=None)
        rerun_of_a_dead_attempt = (
            take_over and Document.objects.filter(pk=document_id, next_fetch_at__isnull=True).exists()
        )
        if not claimed and not rerun_of_a_dead_attempt:
            return IngestOutcome(f"document:{document_id}", "unchanged", reason="superseded schedule")
    return document_ingest(document_id=document_id, refetch=True, take_over=take_over)


def documents_due_for_refetch(*, include_all: bool = False) -> list[int]:
    rows = Document.objects.filter(kind=Document.Kind.URL, is_active=True)
    if not include_all:
        rows = rows.filter(refetch_interval_hours__isnull=False).filter(
            Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=timezone.now())
        )
    return list(rows.order_by("id").values_list("id", flat=True))


# --- FAQs -------------------------------------------------------------------------------------------------


def faq_search_text(*, question: str, answer: str) -> str:
    return f"{question.strip()}\n{answer.strip()}"


def _prepare_faq(faq: FAQ, force: bool) -> _Prepared:
    text = faq_search_text(question=faq.question, answer=faq.answer)
    source_hash = _hash(_pipeline_fingerprint(), "faq", text)
    if not force and faq.source_hash == source_hash:
        return _Prepared(source_hash=source_hash, chunks=None)
    if not faq.question.strip() or not faq.answer.strip():
        raise ExtractionError("An FAQ needs both a question and an answer.")
    prepared = [
        _PreparedChunk(
            text=text,
            heading_path="",
            page=None,
            token_count=count_tokens(text),
            search_text=text,
            content_hash=chunking.content_hash(text),
        )
    ]
    return _Prepared(source_hash=source_hash, chunks=prepared, embedded=_embed(prepared))


def faq_ingest(*, faq_id: int, force: bool = False, take_over: bool = False) -> IngestOutcome:
    """One FAQ pair becomes one chunk (question and answer together)."""
    label = f"faq:{faq_id}"
    faq = FAQ.objects.filter(pk=faq_id).first()
    if faq is None:
        return IngestOutcome(label, "missing")
    text = faq_search_text(question=faq.question, answer=faq.answer)
    if not force and faq.source_hash == _hash(_pipeline_fingerprint(), "faq", text):
        FAQ.objects.filter(pk=faq_id, updated_at=faq.updated_at, lease_until__isnull=True).exclude(
            status=SourceStatus.READY
        ).update(status=SourceStatus.READY, status_reason="", status_changed_at=timezone.now())
        return IngestOutcome(label, "unchanged", chunks=1)
    return _run_claimed(FAQ, faq_id, label=label, force=force, take_over=take_over, prepare=_prepare_faq, source=faq)


def faqs_ingest(*, faq_ids: list[int], force: bool = False, take_over: bool = False) -> list[IngestOutcome]:
    """
    Many FAQs at once (a CSV import): one lease update, one embedding batch and
    one transaction instead of one of each per FAQ. An FAQ the bulk path cannot
    finish (leased by another worker, saved again meanwhile, or failing) goes
    through `faq_ingest` on its own.
    """
    started = time.perf_counter()
    now = timezone.now()
    lease = now + LEASE
    rows = FAQ.objects.filter(pk__in=faq_ids)
    if not take_over:
        rows = rows.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    rows.update(lease_until=lease, status=SourceStatus.INDEXING, status_changed_at=now)
    claimed = list(FAQ.objects.filter(pk__in=faq_ids, lease_until=lease))
    outcomes: dict[int, IngestOutcome] = {}
    work: list[tuple[FAQ, str, _PreparedChunk | None]] = []
    try:
        for faq in claimed:
            text = faq_search_text(question=faq.question, answer=faq.answer)
            source_hash = _hash(_pipeline_fingerprint(), "faq", text)
            if not faq.question.strip() or not faq.answer.strip():
                continue  # fails through faq_ingest below, with its reason
            chunk = (
                None
                if (not force and faq.source_hash == source_hash)
                else _PreparedChunk(
                    text=text,
                    heading_path="",
                    page=None,
                    token_count=count_tokens(text),
                    search_text=text,
                    content_hash=chunking.content_hash(text),
                )
            )
            work.append((faq, source_hash, chunk))
        embedded = embeddings_ensure(texts_by_hash={c.content_hash: c.search_text for _, _, c in work if c is not None})
        with transaction.atomic():
            finished = {}
            for faq, source_hash, chunk in work:
                fields = dict(
                    status=SourceStatus.READY,
                    status_reason="",
                    status_changed_at=timezone.now(),
                    lease_until=None,
                    source_hash=source_hash,
                )
                if chunk is not None:
                    fields["indexed_at"] = fields["status_changed_at"]
                if FAQ.objects.filter(pk=faq.pk, updated_at=faq.updated_at).update(**fields):
                    finished[faq.pk] = chunk
            existing: dict[int, list[tuple[int, str]]] = defaultdict(list)
            changed_ids = [pk for pk, chunk in finished.items() if chunk is not None]
            for chunk_id, faq_id, content_hash in Chunk.objects.filter(faq_id__in=changed_ids).values_list(
                "id", "faq_id", "content_hash"
            ):
                existing[faq_id].append((chunk_id, content_hash))
            stale, fresh = [], []
            for faq_id in changed_ids:
                chunk = finished[faq_id]
                keep = next((cid for cid, h in existing[faq_id] if h == chunk.content_hash), None)
                stale += [cid for cid, _ in existing[faq_id] if cid != keep]
                if keep is None:
                    fresh.append(
                        Chunk(
                            faq_id=faq_id,
                            position=0,
                            text=chunk.text,
                            heading_path="",
                            page=None,
                            token_count=chunk.token_count,
                            search_text=chunk.search_text,
                            content_hash=chunk.content_hash,
                        )
                    )
            if stale:
                Chunk.objects.filter(pk__in=stale).delete()
            Chunk.objects.bulk_create(fresh, batch_size=DB_BATCH)
    except EmbeddingError:
        finished, embedded = {}, 0
    except BaseException:
        FAQ.objects.filter(pk__in=faq_ids, lease_until=lease).update(lease_until=None, status=SourceStatus.QUEUED)
        raise
    seconds = time.perf_counter() - started
    for faq_id, chunk in finished.items():
        outcomes[faq_id] = IngestOutcome(
            f"faq:{faq_id}",
            "unchanged" if chunk is None else "indexed",
            chunks=1,
            tokens=chunk.token_count if chunk else 0,
            embedded=0,
            seconds=seconds,
        )
    if outcomes and embedded:
        first = next(iter(outcomes))
        outcomes[first] = dataclasses.replace(outcomes[first], embedded=embedded)
    for faq_id in faq_ids:
        if faq_id not in outcomes:
            outcomes[faq_id] = faq_ingest(
                faq_id=faq_id, force=force, take_over=take_over or faq_id in {f.pk for f in claimed}
            )
    return [outcomes[faq_id] for faq_id in faq_ids]


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
        for faq in FAQ.objects.only("id", "question", "answer").order_by("id"):
            existing.setdefault(faq.question.strip().casefold(), faq)
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


# --- Activation and re-indexing from admin ---------------------------------------------------------------------


def sources_set_active(*, documents=None, faqs=None, active: bool) -> int:
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

    document_ids, faq_ids = list(document_ids), list(faq_ids)
    with transaction.atomic():
        Document.objects.filter(pk__in=document_ids).update(status=SourceStatus.QUEUED, status_reason="")
        FAQ.objects.filter(pk__in=faq_ids).update(status=SourceStatus.QUEUED, status_reason="")

        def enqueue() -> None:
            for pk in document_ids:
                document_index_task.enqueue(pk, True)
            for pk in faq_ids:
                faq_index_task.enqueue(pk, True)

        transaction.on_commit(enqueue)
    return len(document_ids) + len(faq_ids)


# --- Publishing index versions ------------------------------------------------------------------------------


def _signature(*, model_id: str, kind: str, rows: list[tuple[int, str]]) -> str:
    digest = hashlib.sha256(f"{index.FORMAT_VERSION}|{model_id}|{kind}\n".encode())
    for chunk_id, content_hash in rows:
        digest.update(f"{chunk_id}:{content_hash}\n".encode())
    return digest.hexdigest()


def index_publish(*, force: bool = False) -> PublishOutcome:
    """
    Builds a FAISS + BM25 snapshot of every active chunk from the database's
    vectors (embedding any that are missing, e.g. after a model switch) and
    makes it current in one short transaction. Unchanged data publishes nothing.
    """
    import tempfile

    started = time.perf_counter()
    provider = get_provider()
    reservation = IndexVersion.objects.create(state=IndexVersion.State.BUILDING, model_id=provider.model_id)
    try:
        rows = list(active_chunks().order_by("id").values_list("id", "content_hash", "search_text", "faq__question"))
        kind = index.index_kind_for(len(rows))
        signature = _signature(model_id=provider.model_id, kind=kind, rows=[(r[0], r[1]) for r in rows])
        current = IndexVersion.objects.filter(is_current=True).only("id", "signature", "chunk_count").first()
        if not force and current is not None and current.signature == signature:
            reservation.delete()
            return PublishOutcome("unchanged", current.pk, current.chunk_count, seconds=time.perf_counter() - started)
        # An FAQ's question is embedded on its own too: a rephrasing matches the question best.
        questions = [(position, question.strip()) for position, (*_, question) in enumerate(rows) if question]
        texts_by_hash = {content_hash: text for _, content_hash, text, _ in rows}
        texts_by_hash.update({chunking.content_hash(question): question for _, question in questions})
        embedded = embeddings_ensure(texts_by_hash=texts_by_hash, provider=provider)
        vectors_by_hash = embeddings_load(hashes=list(texts_by_hash), model_id=provider.model_id)
        dimension = next(iter(vectors_by_hash.values())).shape[0] if vectors_by_hash else 0
        vectors = np.zeros((len(rows), dimension), dtype=np.float32)
        for position, (_, content_hash, _, _) in enumerate(rows):
            vectors[position] = vectors_by_hash[content_hash]
        question_vectors = np.zeros((len(questions), dimension), dtype=np.float32)
        for row, (_, question) in enumerate(questions):
            question_vectors[row] = vectors_by_hash[chunking.content_hash(question)]
        with tempfile.TemporaryDirectory(prefix="index-build-") as folder:
            meta = index.build_snapshot(
                directory=Path(folder),
                chunk_ids=np.asarray([r[0] for r in rows], dtype=np.int64),
                vectors=vectors,
                texts=[r[2] for r in rows],
                model_id=provider.model_id,
                kind=kind,
                question_positions=np.asarray([position for position, _ in questions], dtype=np.int64),
                question_vectors=question_vectors,
            )
            blob = index.pack_directory(Path(folder))
        del vectors, vectors_by_hash, question_vectors
        build_seconds = time.perf_counter() - started
        with transaction.atomic():
            current = IndexVersion.objects.select_for_update().filter(is_current=True).only("id").first()
            if current is not None and current.pk > reservation.pk:
                IndexVersion.objects.filter(pk=reservation.pk).update(state=IndexVersion.State.DISCARDED)
                return PublishOutcome("superseded", current.pk, len(rows), embedded, time.perf_counter() - started)
            if current is not None:
                IndexVersion.objects.filter(pk=current.pk).update(is_current=False)
            IndexVersion.objects.filter(pk=reservation.pk).update(
                state=IndexVersion.State.READY,
                is_current=True,
                blob=blob,
                size_bytes=len(blob),
                signature=signature,
                dimension=meta["dimension"],
                index_kind=kind,
                chunk_count=len(rows),
                embedded_count=embedded,
                build_seconds=build_seconds,
                published_at=timezone.now(),
            )
    except BaseException:
        IndexVersion.objects.filter(pk=reservation.pk, is_current=False).delete()
        raise
    _prune_versions()
    logger.info("published index version %s: %s chunks (%s), %s embedded", reservation.pk, len(rows), kind, embedded)
    return PublishOutcome("published", reservation.pk, len(rows), embedded, time.perf_counter() - started)


def _prune_versions() -> None:
    old_ready = list(
        IndexVersion.objects.filter(is_current=False)
        .exclude(state=IndexVersion.State.BUILDING)
        .order_by("-id")
        .values_list("id", flat=True)[KEEP_OLD_VERSIONS:]
    )
    if old_ready:
        IndexVersion.objects.filter(pk__in=old_ready).delete()
    IndexVersion.objects.filter(
        state=IndexVersion.State.BUILDING, created_at__lt=timezone.now() - STALE_BUILD_AGE
    ).delete()


# --- Whole-base operations for commands ------------------------------------------------------------------------


@dataclass
class ReindexOutcome:
    outcomes: list[IngestOutcome]
    publish: PublishOutcome | None


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
