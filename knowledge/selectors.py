"""Reads of the knowledge base: hybrid search, readiness, the public source pages."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.db.models import Q, QuerySet
from django.http import Http404

from knowledge.models import FAQ, Chunk, Document
from knowledge.types import SearchResult

if TYPE_CHECKING:
    from knowledge.index import Candidate

logger = logging.getLogger(__name__)

MIN_CANDIDATES = 32


def active_chunks() -> QuerySet[Chunk]:
    """Chunks of active sources: the only ones an index or a search may return."""
    return Chunk.objects.filter(Q(document__is_active=True) | Q(faq__is_active=True))


def search(*, query: str, k: int = 8) -> list[SearchResult]:
    """
    Hybrid retrieval (`knowledge.index.hybrid`): FAISS (cosine on normalised
    vectors, and for FAQs also their own question's vector) and BM25, fused by
    standardised score. `score` is the fused score (it orders the results);
    `confidence` is the cosine similarity of the chunk to the query, computed
    for keyword-side hits too, so it is comparable across queries; `lift`,
    `coverage` and `missing_words` are the evidence the answer decision weighs.

    Chunks are read from the database at the end, so a source deleted or
    deactivated a moment ago never comes back, even before the next index
    version is published.
    """
    from knowledge.embeddings import EmbeddingError, get_provider
    from knowledge.index import accessor, hybrid

    query = (query or "").strip()
    if not query or k <= 0:
        return []
    snapshot = accessor.current()
    if snapshot is None or snapshot.count == 0:
        return []
    candidates = max(k * 4, MIN_CANDIDATES)
    provider = get_provider()
    query_vector: np.ndarray | None = None
    if provider.model_id == snapshot.model_id:
        try:
            query_vector = provider.embed_query(query)
        except EmbeddingError as exc:
            logger.warning("query embedding failed (%s): keyword search only, confidence 0", exc)
    else:
        logger.warning(
            "index v%s was built with %s, not %s: keyword search only until `reindex`",
            snapshot.version_id,
            snapshot.model_id,
            provider.model_id,
        )
    fused = hybrid(snapshot, query=query, query_vector=query_vector, n=candidates)
    if not fused:
        return []

    results: list[SearchResult] = []
    offset = 0
    window = k + 8
    while len(results) < k and offset < len(fused):
        batch = fused[offset : offset + window]
        offset += window
        chunk_ids = [int(snapshot.chunk_ids[candidate.position]) for candidate in batch]
        rows = {
            chunk.pk: chunk
            for chunk in active_chunks()
            .filter(pk__in=chunk_ids)
            .select_related("document", "faq")
            .only(
                "id",
                "text",
                "heading_path",
                "page",
                "document__id",
                "document__kind",
                "document__title",
                "document__identifier",
                "document__url",
                "faq__id",
                "faq__question",
            )
        }
        for candidate in batch:
            chunk = rows.get(int(snapshot.chunk_ids[candidate.position]))
            if chunk is None:
                continue
            results.append(_result(chunk, candidate))
            if len(results) == k:
                break
    return results


def _result(chunk: Chunk, candidate: Candidate) -> SearchResult:
    faq, document = chunk.faq, chunk.document
    if faq is not None:
        source_type, source_id, identifier = "faq", faq.pk, f"faq:{faq.pk}"
        title, url = faq.question, faq.get_absolute_url()
    else:
        assert document is not None, "a chunk belongs to a document or an FAQ"
        source_type, source_id, identifier = "document", document.pk, document.identifier
        title = document.title or document.identifier
        if document.kind == Document.Kind.URL and document.url:
            url = document.url
        else:
            url = f"{document.get_absolute_url()}#chunk-{chunk.pk}"
    return SearchResult(
        chunk_id=chunk.pk,
        text=chunk.text,
        source_type=source_type,
        source_id=source_id,
        source_identifier=identifier,
        title=title,
        heading_path=chunk.heading_path,
        page=chunk.page,
        url=url,
        score=candidate.score,
        confidence=max(0.0, min(1.0, candidate.similarity)),
        dense_rank=candidate.dense_rank,
        keyword_rank=candidate.keyword_rank,
        question_similarity=candidate.question_similarity,
        lift=candidate.lift,
        coverage=candidate.coverage,
        missing_words=candidate.missing_words,
    )


def _search_in_worker_thread(query: str, k: int) -> list[SearchResult]:
    """Like a request, drops this thread's stale or expired database connection before and after."""
    close_old_connections()
    try:
        return search(query=query, k=k)
    finally:
        close_old_connections()


async def asearch(*, query: str, k: int = 8) -> list[SearchResult]:
    """`search` off the event loop: embedding, FAISS and the ORM run in a worker thread."""
    return await sync_to_async(_search_in_worker_thread, thread_sensitive=False)(query, k)


def index_readiness() -> tuple[bool, str]:
    """Whether this process can answer searches; the reason when it cannot."""
    from knowledge.embeddings import get_provider
    from knowledge.index import accessor

    try:
        snapshot = accessor.current()
    except Exception as exc:  # noqa: BLE001 - any failure to load means "not ready"
        return False, f"the current index version could not be loaded: {exc}"
    if snapshot is None:
        if not active_chunks().exists():
            return True, "empty knowledge base"
        return False, "no index version has been published yet (is the task worker running? `manage.py reindex`)"
    model_id = get_provider().model_id
    if snapshot.count and snapshot.model_id != model_id:
        return False, (
            f"index v{snapshot.version_id} was built with {snapshot.model_id} but the configured "
            f"embeddings are {model_id}: run `manage.py reindex`"
        )
    return True, f"index v{snapshot.version_id}: {snapshot.count} chunks ({snapshot.kind})"


def index_ready_check() -> None:
    """`/readyz`'s knowledge_index check (core.health): raises with the reason when not ready."""
    ready, detail = index_readiness()
    if not ready:
        raise RuntimeError(detail)


def public_document_get(*, document_id: int) -> tuple[Document, list[Chunk]]:
    """An active document and its chunks, for the page citations link to; 404 otherwise."""
    document = Document.objects.defer("content").filter(pk=document_id, is_active=True).first()
    if document is None:
        raise Http404("No such source")
    return document, list(document.chunks.order_by("position").only("id", "text", "heading_path", "page"))


def public_faq_get(*, faq_id: int) -> FAQ:
    faq = FAQ.objects.filter(pk=faq_id, is_active=True).first()
    if faq is None:
        raise Http404("No such FAQ")
    return faq
