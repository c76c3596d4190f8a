"""
Publishing index versions: a FAISS + BM25 snapshot of every active chunk,
built from the database's vectors and made current in one short transaction.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone

from knowledge import chunking, index
from knowledge.embeddings import EmbeddingProvider, get_provider
from knowledge.models import IndexVersion
from knowledge.selectors import active_chunks
from knowledge.services.embedding_cache import embeddings_ensure, embeddings_load

# One logger for the whole package, under the name it had before the package was split.
logger = logging.getLogger("knowledge.services")

KEEP_OLD_VERSIONS = 2
STALE_BUILD_AGE = timedelta(hours=1)

# (chunk id, content hash, search text, the FAQ's question or None), in chunk id order.
_Row = tuple[int, str, str, str | None]


@dataclass(frozen=True)
class PublishOutcome:
    status: str  # "published" | "unchanged" | "superseded"
    version_id: int | None
    chunk_count: int
    embedded: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class _Build:
    blob: bytes
    dimension: int
    embedded: int


def index_publish(*, force: bool = False) -> PublishOutcome:
    """
    Builds a FAISS + BM25 snapshot of every active chunk from the database's
    vectors (embedding any that are missing, e.g. after a model switch) and
    makes it current in one short transaction. Unchanged data publishes nothing.
    """
    started = time.perf_counter()
    provider = get_provider()
    reservation = IndexVersion.objects.create(state=IndexVersion.State.BUILDING, model_id=provider.model_id)
    try:
        rows: list[_Row] = list(
            active_chunks().order_by("id").values_list("id", "content_hash", "search_text", "faq__question")
        )
        kind = index.index_kind_for(len(rows))
        signature = _signature(model_id=provider.model_id, kind=kind, rows=[(r[0], r[1]) for r in rows])
        current = IndexVersion.objects.filter(is_current=True).only("id", "signature", "chunk_count").first()
        if not force and current is not None and current.signature == signature:
            reservation.delete()
            return PublishOutcome("unchanged", current.pk, current.chunk_count, seconds=time.perf_counter() - started)
        build = _build(rows, kind=kind, provider=provider)
        newer = _make_current(
            reservation,
            build,
            signature=signature,
            kind=kind,
            chunk_count=len(rows),
            build_seconds=time.perf_counter() - started,
        )
        if newer is not None:
            return PublishOutcome("superseded", newer, len(rows), build.embedded, time.perf_counter() - started)
    except BaseException:
        IndexVersion.objects.filter(pk=reservation.pk, is_current=False).delete()
        raise
    _prune_versions()
    logger.info(
        "published index version %s: %s chunks (%s), %s embedded", reservation.pk, len(rows), kind, build.embedded
    )
    return PublishOutcome("published", reservation.pk, len(rows), build.embedded, time.perf_counter() - started)


def _signature(*, model_id: str, kind: str, rows: list[tuple[int, str]]) -> str:
    digest = hashlib.sha256(f"{index.FORMAT_VERSION}|{model_id}|{kind}\n".encode())
    for chunk_id, content_hash in rows:
        digest.update(f"{chunk_id}:{content_hash}\n".encode())
    return digest.hexdigest()


def _build(rows: list[_Row], *, kind: str, provider: EmbeddingProvider) -> _Build:
    """The snapshot's packed folder, embedding first whatever the provider's model lacks."""
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
        return _Build(blob=index.pack_directory(Path(folder)), dimension=meta["dimension"], embedded=embedded)


def _make_current(
    reservation: IndexVersion, build: _Build, *, signature: str, kind: str, chunk_count: int, build_seconds: float
) -> int | None:
    """
    Swaps the reserved version in as current, in one short transaction; or,
    when a build reserved later was published meanwhile, discards it and
    returns that newer version's id.
    """
    with transaction.atomic():
        current = IndexVersion.objects.select_for_update().filter(is_current=True).only("id").first()
        if current is not None and current.pk > reservation.pk:
            IndexVersion.objects.filter(pk=reservation.pk).update(state=IndexVersion.State.DISCARDED)
            return current.pk
        if current is not None:
            IndexVersion.objects.filter(pk=current.pk).update(is_current=False)
        IndexVersion.objects.filter(pk=reservation.pk).update(
            state=IndexVersion.State.READY,
            is_current=True,
            blob=build.blob,
            size_bytes=len(build.blob),
            signature=signature,
            dimension=build.dimension,
            index_kind=kind,
            chunk_count=chunk_count,
            embedded_count=build.embedded,
            build_seconds=build_seconds,
            published_at=timezone.now(),
        )
    return None


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
