"""
The ingest protocol, one runner for every door: a single document or FAQ (an
admin save, a task), the `ingest` command's batches of files and a CSV
import's FAQs all go through `ingest_run`.

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

A batch takes its leases in one update, prepares each source on its own, then
embeds the new chunks of all of them in one call (which sorts them by length
across files and so pads far less) and finishes them in one transaction. If
that embedding call fails, each source's chunks are embedded alone, so a
source whose text cannot be embedded fails alone too.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from knowledge import chunking
from knowledge.embeddings import EmbeddingError
from knowledge.extraction import ExtractionError
from knowledge.fetch import FetchError
from knowledge.models import FAQ, Chunk, Document, SourceStatus
from knowledge.services.embedding_cache import DB_BATCH, embeddings_ensure

# One logger for the whole package, under the name it had before the package was split.
logger = logging.getLogger("knowledge.services")

PIPELINE_VERSION = 2  # bump when extraction or chunking output changes: forces re-chunking
LEASE = timedelta(minutes=10)
SOURCE_PROBLEMS = (ExtractionError, FetchError, EmbeddingError)

SourceModel = type[Document] | type[FAQ]


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
class PreparedChunk:
    text: str
    heading_path: str
    page: int | None
    token_count: int
    search_text: str
    content_hash: str


@dataclass
class Prepared:
    """What one source becomes before it is embedded and finished."""

    source_hash: str
    chunks: list[PreparedChunk] | None  # None: unchanged since the last success
    updates: dict[str, Any] = field(default_factory=dict)  # extra fields to store with "ready"


# Extracts and chunks one source (its row as read, and `force`); raises one of SOURCE_PROBLEMS on bad input.
Prepare = Callable[[Any, bool], Prepared]


def pipeline_fingerprint() -> str:
    return f"pipeline={PIPELINE_VERSION};tokens={settings.CHUNK_TOKENS};overlap={settings.CHUNK_OVERLAP_TOKENS}"


def input_hash(*parts: str | bytes) -> str:
    """The hash of a source's input: each part length-prefixed, so no two part lists collide."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else bytes(part)
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    return digest.hexdigest()


def prepared_chunks(drafts: Iterable[chunking.ChunkDraft], *, title: str) -> list[PreparedChunk]:
    prepared = []
    for draft in drafts:
        text = chunking.search_text(heading_path=draft.heading_path, title=title, text=draft.text)
        prepared.append(
            PreparedChunk(
                text=draft.text,
                heading_path=draft.heading_path,
                page=draft.page,
                token_count=draft.token_count,
                search_text=text,
                content_hash=chunking.content_hash(text),
            )
        )
    return prepared


def mark_ready_if_unchanged(model: SourceModel, source: Document | FAQ) -> None:
    """The fast path's write: an unchanged source that nobody holds shows as ready again."""
    model.objects.filter(pk=source.pk, updated_at=source.updated_at, lease_until__isnull=True).exclude(
        status=SourceStatus.READY
    ).update(status=SourceStatus.READY, status_reason="", status_changed_at=timezone.now())


# --- Leases ---------------------------------------------------------------------------------------------------


def _take_leases(model: SourceModel, pks: list[int], *, take_over: bool) -> tuple[datetime, set[int]]:
    """
    Takes the sources' leases (and shows them as indexing) in one update,
    except those another worker holds a live lease on (unless `take_over`).
    Returns the lease's end, which also tells this run's rows apart, and the
    ids taken.
    """
    now = timezone.now()
    lease = now + LEASE
    rows = model.objects.filter(pk__in=pks)
    if not take_over:
        rows = rows.filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
    taken = rows.update(lease_until=lease, status=SourceStatus.INDEXING, status_changed_at=now)
    if len(pks) == 1:  # one source, the common case: the update's count says it all
        return lease, set(pks) if taken else set()
    return lease, set(model.objects.filter(pk__in=pks, lease_until=lease).values_list("pk", flat=True))


def _claim(model: SourceModel, pk: int, *, take_over: bool) -> bool:
    """Takes the source's lease (and shows it as indexing) unless another worker holds a live one."""
    return bool(_take_leases(model, [pk], take_over=take_over)[1])


# --- The runner -----------------------------------------------------------------------------------------------


def ingest_run(
    *,
    model: SourceModel,
    source_ids: Sequence[int],
    prepare: Prepare,
    force: bool = False,
    take_over: bool = False,
    preloaded: Sequence[Document | FAQ] = (),
) -> list[IngestOutcome]:
    """
    Claims, prepares, embeds and finishes the sources (of one model); one
    outcome per id, in the order given. `preloaded` rows may have been read
    before the claim: they are only finished if not saved since (same
    `updated_at`), otherwise they are read again and prepared anew.
    """
    started = time.perf_counter()
    ids = list(dict.fromkeys(source_ids))
    lease, claimed = _take_leases(model, ids, take_over=take_over)
    run = _Run(model, prepare=prepare, force=force, lease=lease, held=claimed)
    try:
        unclaimed = _unclaimed_outcomes(model, [pk for pk in ids if pk not in claimed])
        rows = [row for row in preloaded if row.pk in claimed]
        rows += run.read([pk for pk in ids if pk in claimed and pk not in {row.pk for row in rows}])
        while rows:
            rows = run.round(rows)
    except KeyboardInterrupt:
        run.release_interrupted()
        raise
    except BaseException as exc:
        run.release_broken(exc)
        raise
    return run.results(ids, unclaimed=unclaimed, seconds=time.perf_counter() - started)


def _label(model: SourceModel, pk: int) -> str:
    return f"{_owner(model)}:{pk}"


def _owner(model: SourceModel) -> str:
    """The source's name in outcome labels, and its foreign key on `Chunk` (`<owner>_id`)."""
    return "document" if model is Document else "faq"


def _unclaimed_outcomes(model: SourceModel, pks: list[int]) -> dict[int, IngestOutcome]:
    existing = set(model.objects.filter(pk__in=pks).values_list("pk", flat=True)) if pks else set()
    return {
        pk: IngestOutcome(_label(model, pk), "busy", reason="another worker is indexing this source")
        if pk in existing
        else IngestOutcome(_label(model, pk), "missing")
        for pk in pks
    }


@dataclass
class _Work:
    source: Any  # the Document or FAQ row as read
    seen: datetime  # its `updated_at` then: finishing is conditional on it
    prepared: Prepared


class _Run:
    """One pass of the protocol over the claimed sources of one model; it knows which leases it still holds."""

    def __init__(self, model: SourceModel, *, prepare: Prepare, force: bool, lease: datetime, held: set[int]) -> None:
        self.model, self.owner = model, _owner(model)
        self.prepare, self.force, self.lease = prepare, force, lease
        self.held = set(held)  # claimed, neither finished nor failed yet
        self.current: list[int] = []  # the sources of the step under way, blamed if it breaks
        self.outcomes: dict[int, IngestOutcome] = {}
        self.embedded = 0

    def read(self, pks: list[int]) -> list[Any]:
        """The rows as they are now; one that was deleted meanwhile is "missing"."""
        self.current = pks
        rows = list(self.model.objects.filter(pk__in=pks).order_by("pk")) if pks else []
        for pk in set(pks) - {row.pk for row in rows}:
            self.held.discard(pk)
            self.outcomes[pk] = IngestOutcome(_label(self.model, pk), "missing")
        return rows

    def round(self, rows: list[Any]) -> list[Any]:
        """Prepares, embeds and finishes the rows; returns those saved again meanwhile, read anew."""
        again: list[int] = []
        works = []
        for source in rows:
            self.current = [source.pk]
            try:
                works.append(_Work(source=source, seen=source.updated_at, prepared=self.prepare(source, self.force)))
            except SOURCE_PROBLEMS as exc:
                if not self._fail(source.pk, source.updated_at, exc):
                    again.append(source.pk)
        works, embedding_failed = self._embed(works)
        for work, error in embedding_failed:
            if not self._fail(work.source.pk, work.seen, error):
                again.append(work.source.pk)
        again += self._finish(works)
        return self.read(again)

    def _embed(self, works: list[_Work]) -> tuple[list[_Work], list[tuple[_Work, EmbeddingError]]]:
        """
        The new chunks of every source in one call; if it fails, each source's
        on its own. Returns the works ready to finish, and those whose chunks
        could not be embedded, with the error.
        """
        new = [work for work in works if work.prepared.chunks]
        self.current = [work.source.pk for work in new]
        failed: list[tuple[_Work, EmbeddingError]] = []
        try:
            if new:
                self.embedded += _embed_chunks(new)
        except EmbeddingError as exc:
            failed = [(new[0], exc)] if len(new) == 1 else self._embed_each(new)
        failed_works = {id(work) for work, _ in failed}
        return [work for work in works if id(work) not in failed_works], failed

    def _embed_each(self, works: list[_Work]) -> list[tuple[_Work, EmbeddingError]]:
        failed = []
        for work in works:
            self.current = [work.source.pk]
            try:
                self.embedded += _embed_chunks([work])
            except EmbeddingError as exc:
                failed.append((work, exc))
        return failed

    def _fail(self, pk: int, seen: datetime, exc: Exception) -> bool:
        """Marks the source failed with the error as its reason, unless it was saved since `seen`."""
        self.current = [pk]
        failed = self.model.objects.filter(pk=pk, updated_at=seen).update(
            status=SourceStatus.FAILED,
            status_reason=str(exc),
            status_changed_at=timezone.now(),
            lease_until=None,
        )
        if failed:
            label = _label(self.model, pk)
            logger.info("%s failed: %s", label, exc)
            self.held.discard(pk)
            self.outcomes[pk] = IngestOutcome(label, "failed", reason=str(exc))
        return bool(failed)

    def _finish(self, works: list[_Work]) -> list[int]:
        """
        In one transaction: marks each source ready and swaps its chunks,
        unless it was saved since it was read. Returns the ids of those saved
        since, to be done again.
        """
        self.current = [work.source.pk for work in works]
        if not works:
            return []
        with transaction.atomic():
            done = [work for work in works if self._mark_ready(work)]
            chunks_sync(
                owner=self.owner,
                prepared={work.source.pk: work.prepared.chunks for work in done if work.prepared.chunks is not None},
            )
            kept = self._chunk_totals([work.source.pk for work in done if work.prepared.chunks is None])
        for work in done:
            pk, chunks = work.source.pk, work.prepared.chunks
            if chunks is None:
                count, tokens = kept.get(pk, (0, 0))
                self.outcomes[pk] = IngestOutcome(_label(self.model, pk), "unchanged", chunks=count, tokens=tokens)
            else:
                tokens = sum(chunk.token_count for chunk in chunks)
                self.outcomes[pk] = IngestOutcome(_label(self.model, pk), "indexed", chunks=len(chunks), tokens=tokens)
            self.held.discard(pk)
        done_ids = {work.source.pk for work in done}
        return [work.source.pk for work in works if work.source.pk not in done_ids]

    def _mark_ready(self, work: _Work) -> bool:
        now = timezone.now()
        prepared = work.prepared
        fields: dict[str, Any] = dict(
            status=SourceStatus.READY,
            status_reason="",
            status_changed_at=now,
            lease_until=None,
            source_hash=prepared.source_hash,
            **prepared.updates,
        )
        if prepared.chunks is not None:
            fields["indexed_at"] = now
            if self.model is Document:
                fields["chunk_count"] = len(prepared.chunks)
        return bool(self.model.objects.filter(pk=work.source.pk, updated_at=work.seen).update(**fields))

    def _chunk_totals(self, pks: list[int]) -> dict[int, tuple[int, int]]:
        """(chunks, tokens) of the sources as they stand."""
        if not pks:
            return {}
        key = f"{self.owner}_id"
        rows = (
            Chunk.objects.filter(**{f"{key}__in": pks})
            .order_by()
            .values(key)
            .annotate(count=Count("id"), tokens=Sum("token_count"))
            .values_list(key, "count", "tokens")
        )
        return {pk: (count, tokens or 0) for pk, count, tokens in rows}

    def release_interrupted(self) -> None:
        """Ctrl-C: the sources still held go back to the queue; nothing half-done is kept."""
        self.model.objects.filter(pk__in=self.held, lease_until=self.lease).update(
            lease_until=None, status=SourceStatus.QUEUED, status_reason="Interrupted; it will be indexed again."
        )

    def release_broken(self, exc: BaseException) -> None:
        """
        An unexpected error (a bug, the database gone): the one source whose
        step broke fails with the error named; any other still held goes back
        to the queue, as nothing says it is at fault.
        """
        blamed = self.current if len(self.current) == 1 and self.current[0] in self.held else []
        logger.exception(
            "%s: unexpected error while indexing", ", ".join(_label(self.model, pk) for pk in self.current) or "-"
        )
        held = self.model.objects.filter(lease_until=self.lease)
        held.filter(pk__in=blamed).update(
            lease_until=None,
            status=SourceStatus.FAILED,
            status_changed_at=timezone.now(),
            status_reason=f"Internal error while indexing ({type(exc).__name__}: {exc}); see the server log.",
        )
        held.filter(pk__in=self.held - set(blamed)).update(lease_until=None, status=SourceStatus.QUEUED)

    def results(self, ids: list[int], *, unclaimed: dict[int, IngestOutcome], seconds: float) -> list[IngestOutcome]:
        """
        One outcome per id. Each source of the run shows the run's time; the
        embedding count goes to the first indexed one (it was one call).
        """
        outcomes = {pk: dataclasses.replace(outcome, seconds=seconds) for pk, outcome in self.outcomes.items()}
        first_indexed = next((pk for pk in ids if pk in outcomes and outcomes[pk].status == "indexed"), None)
        if first_indexed is not None and self.embedded:
            outcomes[first_indexed] = dataclasses.replace(outcomes[first_indexed], embedded=self.embedded)
        outcomes.update(unclaimed)
        return [outcomes[pk] for pk in ids]


def _embed_chunks(works: list[_Work]) -> int:
    return embeddings_ensure(
        texts_by_hash={chunk.content_hash: chunk.search_text for work in works for chunk in work.prepared.chunks or ()}
    )


def chunks_sync(*, owner: str, prepared: dict[int, list[PreparedChunk]]) -> None:
    """
    Replaces the chunks of each source (by id) with its prepared ones. Keeps
    the rows (and ids) of chunks whose text did not change, so that the index
    still serving keeps pointing at live rows; deletes and creates the rest.
    """
    if not prepared:
        return
    key = f"{owner}_id"
    existing: dict[int, dict[str, list[Chunk]]] = defaultdict(lambda: defaultdict(list))
    rows = Chunk.objects.filter(**{f"{key}__in": list(prepared)}).only(
        "id", key, "position", "page", "token_count", "content_hash"
    )
    for chunk in rows.order_by(key, "position", "id"):
        existing[getattr(chunk, key)][chunk.content_hash].append(chunk)
    to_create: list[Chunk] = []
    to_update: list[Chunk] = []
    for owner_id, items in prepared.items():
        by_hash = existing[owner_id]
        for position, item in enumerate(items):
            matches = by_hash.get(item.content_hash)
            if matches:
                chunk = matches.pop(0)
                if (chunk.position, chunk.page, chunk.token_count) != (position, item.page, item.token_count):
                    chunk.position, chunk.page, chunk.token_count = position, item.page, item.token_count
                    to_update.append(chunk)
                continue
            to_create.append(_chunk(key, owner_id, position, item))
    stale = [chunk.pk for by_hash in existing.values() for chunks in by_hash.values() for chunk in chunks]
    if stale:
        Chunk.objects.filter(pk__in=stale).delete()
    if to_update:
        Chunk.objects.bulk_update(to_update, ["position", "page", "token_count"], batch_size=DB_BATCH)
    if to_create:
        Chunk.objects.bulk_create(to_create, batch_size=DB_BATCH)


def _chunk(key: str, owner_id: int, position: int, item: PreparedChunk) -> Chunk:
    return Chunk(
        **{key: owner_id},
        position=position,
        text=item.text,
        heading_path=item.heading_path[:1000],
        page=item.page,
        token_count=item.token_count,
        search_text=item.search_text,
        content_hash=item.content_hash,
    )
