"""
The derived search index: FAISS for vectors, BM25 (bm25s) for keywords.

A snapshot is built from the canonical vectors and texts in the database,
written to a folder, packed into one blob and stored as an `IndexVersion` row.
Each process keeps the snapshot it last loaded and, on every search, compares
its version with the current row (one indexed query); when they differ it
unpacks the new blob into INDEX_CACHE_DIR (once per machine) and swaps its
reference. Searches that arrive meanwhile keep using the old snapshot.

Snapshots are immutable once loaded, so they are safe to share between threads.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 96
# Reciprocal rank fusion with the usual k=60. The keyword side counts half:
# visitors paraphrase, so BM25's ranks are noisier than the dense ones. Chosen on
# the dev half of bench/data/tidewater (nDCG@10 0.920 vs 0.900 at equal weights),
# reported on its test half (see the README).
RRF_K = 60
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.5
META_FILE = "meta.json"
IDS_FILE = "chunk_ids.npy"
FAISS_FILE = "vectors.faiss"
BM25_DIR = "bm25"


class IndexLoadError(Exception):
    """A published index version could not be loaded."""


def index_kind_for(count: int) -> str:
    """Exact search below INDEX_HNSW_THRESHOLD chunks, HNSW from there on."""
    return "hnsw" if count >= settings.INDEX_HNSW_THRESHOLD else "flat"


_STEMMER_LOCAL = threading.local()


def _stem_words(words: list[str]) -> list[str]:
    """PyStemmer objects are not thread-safe: one per thread."""
    stemmer = getattr(_STEMMER_LOCAL, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _STEMMER_LOCAL.stemmer = Stemmer.Stemmer("english")
    return stemmer.stemWords(words)


@functools.cache
def _bm25s():
    """bm25s sets its own logger to DEBUG when imported; put it back to WARNING."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def keyword_tokens(texts: list[str]):
    bm25s = _bm25s()

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stem_words, show_progress=False)


def keyword_query_tokens(query: str) -> list[str]:
    bm25s = _bm25s()

    return bm25s.tokenize([query], stopwords="en", stemmer=_stem_words, return_ids=False, show_progress=False)[0]


def build_snapshot(*, directory: Path, chunk_ids: np.ndarray, vectors: np.ndarray, texts: list[str],
                   model_id: str, kind: str | None = None) -> dict:
    """Writes a snapshot folder; returns its metadata."""
    import faiss

    bm25s = _bm25s()
    directory.mkdir(parents=True, exist_ok=True)
    count = len(chunk_ids)
    kind = kind or index_kind_for(count)
    dimension = int(vectors.shape[1]) if count else 0
    np.save(directory / IDS_FILE, np.asarray(chunk_ids, dtype=np.int64))
    if count:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # per thread: only this build uses every core
        if kind == "hnsw":
            index = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        else:
            index = faiss.IndexFlatIP(dimension)
        index.add(vectors)
        faiss.write_index(index, str(directory / FAISS_FILE))
        retriever = bm25s.BM25()
        retriever.index(keyword_tokens(texts), show_progress=False)
        retriever.save(str(directory / BM25_DIR), show_progress=False)
    meta = {"format": FORMAT_VERSION, "model_id": model_id, "dimension": dimension, "count": count, "kind": kind}
    (directory / META_FILE).write_text(json.dumps(meta))
    return meta


def pack_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def unpack_to(blob: bytes, directory: Path) -> None:
    """Extracts into a temporary sibling, then renames: readers never see half a folder."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=directory.parent))
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            for name in archive.namelist():
                if name.startswith("/") or ".." in Path(name).parts:
                    raise IndexLoadError(f"unsafe path in index blob: {name}")
            archive.extractall(staging)
        try:
            os.rename(staging, directory)
        except OSError:
            if not (directory / META_FILE).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


@dataclass(frozen=True)
class Hit:
    position: int
    score: float


class Snapshot:
    """One loaded index version. Read-only after construction."""

    def __init__(self, *, version_id: int, signature: str, directory: Path):
        import faiss

        bm25s = _bm25s()
        meta = json.loads((directory / META_FILE).read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise IndexLoadError(f"index format {meta.get('format')} is not {FORMAT_VERSION}")
        self.version_id = version_id
        self.signature = signature
        self.model_id: str = meta["model_id"]
        self.dimension: int = meta["dimension"]
        self.kind: str = meta["kind"]
        self.chunk_ids: np.ndarray = np.load(directory / IDS_FILE)
        self.count = int(meta["count"])
        self._faiss = faiss.read_index(str(directory / FAISS_FILE)) if self.count else None
        if self._faiss is not None and self.kind == "hnsw":
            faiss.downcast_index(self._faiss).hnsw.efSearch = HNSW_EF_SEARCH
        self._bm25 = (
            bm25s.BM25.load(str(directory / BM25_DIR), load_vocab=True, show_progress=False)
            if self.count else None
        )

    def dense(self, query_vector: np.ndarray, n: int) -> list[Hit]:
        """
        One query runs on one OpenMP thread (set per calling thread): on a
        shared 2-core machine a parallel search of a single query spends more
        time synchronising threads than searching (p99 3x worse, measured).
        """
        import faiss

        if not self.count or query_vector.shape[-1] != self.dimension:
            return []
        faiss.omp_set_num_threads(1)
        scores, positions = self._faiss.search(query_vector.reshape(1, -1).astype(np.float32), min(n, self.count))
        return [Hit(int(p), float(s)) for p, s in zip(positions[0], scores[0]) if p >= 0]

    def keyword(self, query: str, n: int) -> list[Hit]:
        if not self.count:
            return []
        tokens = [token for token in keyword_query_tokens(query) if token in self._bm25.vocab_dict]
        if not tokens:
            return []
        positions, scores = self._bm25.retrieve([tokens], k=min(n, self.count), show_progress=False, n_threads=1)
        return [Hit(int(p), float(s)) for p, s in zip(positions[0], scores[0]) if s > 0]

    def vectors(self, positions: list[int]) -> np.ndarray:
        if not positions:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._faiss.reconstruct_batch(np.asarray(positions, dtype=np.int64))


def fuse(dense: list[Hit], keyword: list[Hit], *, k: int = RRF_K, dense_weight: float = DENSE_WEIGHT,
         keyword_weight: float = KEYWORD_WEIGHT) -> list[tuple[int, float, int | None, int | None]]:
    """Weighted reciprocal rank fusion: (position, score, dense rank, keyword rank), best first."""
    fused: dict[int, list] = {}
    for rank, hit in enumerate(dense, start=1):
        fused.setdefault(hit.position, [0.0, None, None])
        fused[hit.position][0] += dense_weight / (k + rank)
        fused[hit.position][1] = rank
    for rank, hit in enumerate(keyword, start=1):
        fused.setdefault(hit.position, [0.0, None, None])
        fused[hit.position][0] += keyword_weight / (k + rank)
        fused[hit.position][2] = rank
    ordered = sorted(fused.items(), key=lambda item: (-item[1][0], min(r for r in item[1][1:] if r is not None)))
    return [(position, score, dense_rank, keyword_rank) for position, (score, dense_rank, keyword_rank) in ordered]


_DIR_RE = re.compile(r"^v(\d+)-([0-9a-f]{16})$")
KEEP_LOCAL_VERSIONS = 3


class SnapshotAccessor:
    """
    This process's view of the current index version.

    `current()` costs one indexed query when nothing changed. A new version is
    loaded by one thread while the others keep answering from the old one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None

    def current(self) -> Snapshot | None:
        from knowledge.models import IndexVersion

        row = IndexVersion.objects.filter(is_current=True).values_list("id", "signature").first()
        if row is None:
            return None
        snapshot = self._snapshot
        if snapshot is not None and (snapshot.version_id, snapshot.signature) == row:
            return snapshot
        if not self._lock.acquire(blocking=snapshot is None):
            return snapshot
        try:
            snapshot = self._snapshot
            if snapshot is not None and (snapshot.version_id, snapshot.signature) == row:
                return snapshot
            try:
                loaded = self._load(*row)
            except Exception:
                if snapshot is None:
                    raise
                logger.exception("index version %s could not be loaded; still serving version %s",
                                 row[0], snapshot.version_id)
                return snapshot
            self._snapshot = loaded
            return loaded
        finally:
            self._lock.release()

    def loaded(self) -> Snapshot | None:
        return self._snapshot

    def _load(self, version_id: int, signature: str) -> Snapshot:
        from knowledge.models import IndexVersion

        cache_dir = Path(settings.INDEX_CACHE_DIR)
        directory = cache_dir / f"v{version_id}-{signature[:16]}"
        if not (directory / META_FILE).exists():
            blob = IndexVersion.objects.filter(pk=version_id).values_list("blob", flat=True).first()
            if blob is None:
                raise IndexLoadError(f"index version {version_id} has no stored snapshot")
            unpack_to(bytes(blob), directory)
        try:
            snapshot = Snapshot(version_id=version_id, signature=signature, directory=directory)
        except IndexLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged local copy is dropped and re-fetched next time
            shutil.rmtree(directory, ignore_errors=True)
            raise IndexLoadError(f"index version {version_id} could not be loaded: {exc}") from exc
        self._prune_local(cache_dir, keep=directory.name)
        logger.info("loaded index version %s (%s chunks, %s)", version_id, snapshot.count, snapshot.kind)
        return snapshot

    @staticmethod
    def _prune_local(cache_dir: Path, *, keep: str) -> None:
        versions = []
        for path in cache_dir.iterdir():
            match = _DIR_RE.match(path.name)
            if match and path.name != keep:
                versions.append((int(match.group(1)), path))
        for _, path in sorted(versions, reverse=True)[KEEP_LOCAL_VERSIONS - 1:]:
            shutil.rmtree(path, ignore_errors=True)


accessor = SnapshotAccessor()
