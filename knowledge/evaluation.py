"""
Retrieval quality on a BEIR-format folder (corpus.jsonl, queries.jsonl,
qrels/test.tsv), through the same chunking, embedding, FAISS, BM25 and fusion
as the live index, but in a throwaway snapshot in a temporary folder: the
database and the live index are not touched.

A document's rank is the rank of its best chunk. nDCG uses linear gains (as
pytrec_eval / BEIR do).
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from knowledge import chunking, index
from knowledge.embeddings import EmbeddingProvider, count_tokens, get_provider
from knowledge.extraction import extract_text

MODES = ("dense", "keyword", "hybrid")


class EvaluationError(Exception):
    pass


@dataclass(frozen=True)
class BeirSet:
    corpus: dict[str, dict]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except ValueError as exc:
                    raise EvaluationError(f"{path.name} line {number} is not JSON: {exc}") from None
    return rows


def load_beir(directory: Path, *, split: str = "test") -> BeirSet:
    for name in ("corpus.jsonl", "queries.jsonl", f"qrels/{split}.tsv"):
        if not (directory / name).exists():
            raise EvaluationError(f"{directory} has no {name} (expected a BEIR-format folder)")
    corpus = {str(row["_id"]): row for row in _read_jsonl(directory / "corpus.jsonl")}
    queries = {str(row["_id"]): row["text"] for row in _read_jsonl(directory / "queries.jsonl")}
    qrels: dict[str, dict[str, int]] = {}
    with (directory / f"qrels/{split}.tsv").open(encoding="utf-8") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if not row or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    qrels = {qid: docs for qid, docs in qrels.items() if qid in queries}
    if not qrels:
        raise EvaluationError("no query of queries.jsonl has relevance judgements in the qrels file")
    return BeirSet(corpus=corpus, queries=queries, qrels=qrels)


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    positives = {doc for doc, g in relevant.items() if g > 0}
    return len(positives & set(ranked[:k])) / len(positives) if positives else 0.0


def mrr_at(ranked: list[str], relevant: dict[str, int], k: int) -> float:
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def _vector_cache(provider: EmbeddingProvider) -> Path:
    safe = "".join(c if c.isalnum() else "_" for c in provider.model_id)
    return Path(settings.DATA_DIR) / "kb_eval_cache" / f"{safe}.npz"


def _embed_with_cache(texts: list[str], provider: EmbeddingProvider) -> np.ndarray:
    """Vectors keyed by text hash in DATA_DIR/kb_eval_cache, so re-runs on a big set are quick."""
    path = _vector_cache(provider)
    cached: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path) as stored:
            cached = {key: stored[key] for key in stored.files}
    hashes = [chunking.content_hash(text) for text in texts]
    missing = [i for i, h in enumerate(hashes) if h not in cached]
    if missing:
        vectors = provider.embed_documents([texts[i] for i in missing])
        for i, vector in zip(missing, vectors, strict=False):
            cached[hashes[i]] = vector
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = cached  # numpy's stub would read a key as its allow_pickle flag
        np.savez(path, **arrays)
    return np.vstack([cached[h] for h in hashes]) if hashes else np.zeros((0, 0), dtype=np.float32)


def evaluate(
    directory: Path,
    *,
    k: int = 10,
    split: str = "test",
    limit: int | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    data = load_beir(directory, split=split)
    provider = get_provider()
    started = time.perf_counter()
    chunk_docs: list[str] = []
    texts: list[str] = []
    for doc_id, doc in data.corpus.items():
        title = (doc.get("title") or "").strip()
        extracted = extract_text(doc.get("text") or "")
        drafts = chunking.chunk_blocks(
            blocks=extracted.blocks,
            title=title,
            max_tokens=settings.CHUNK_TOKENS,
            overlap_tokens=settings.CHUNK_OVERLAP_TOKENS,
            count_tokens=count_tokens,
        )
        for draft in drafts:
            chunk_docs.append(doc_id)
            texts.append(chunking.search_text(heading_path=draft.heading_path, title=title, text=draft.text))
    if on_progress:
        on_progress("embedding", 0, len(texts))
    vectors = _embed_with_cache(texts, provider)
    ingest_seconds = time.perf_counter() - started

    query_ids = sorted(data.qrels)[:limit] if limit else sorted(data.qrels)
    scores: dict[str, dict[str, list[float]]] = {mode: {"ndcg": [], "recall": [], "mrr": []} for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as folder:
        index.build_snapshot(
            directory=Path(folder),
            chunk_ids=np.arange(len(texts), dtype=np.int64),
            vectors=vectors,
            texts=texts,
            model_id=provider.model_id,
        )
        snapshot = index.Snapshot(version_id=0, signature="eval", directory=Path(folder))
        candidates = max(k * 10, 100)
        for number, query_id in enumerate(query_ids, start=1):
            query = data.queries[query_id]
            query_vector = provider.embed_query(query)
            dense = snapshot.dense(query_vector, candidates)
            keyword = snapshot.keyword(query, candidates)
            rankings = {
                "dense": [hit.position for hit in dense],
                "keyword": [hit.position for hit in keyword],
                "hybrid": [
                    c.position for c in index.hybrid(snapshot, query=query, query_vector=query_vector, n=candidates)
                ],
            }
            for mode, positions in rankings.items():
                ranked = list(dict.fromkeys(chunk_docs[p] for p in positions))
                relevant = data.qrels[query_id]
                scores[mode]["ndcg"].append(ndcg_at(ranked, relevant, k))
                scores[mode]["recall"].append(recall_at(ranked, relevant, k))
                scores[mode]["mrr"].append(mrr_at(ranked, relevant, k))
            if on_progress:
                on_progress("queries", number, len(query_ids))
    return {
        "set": directory.name,
        "model": provider.model_id,
        "documents": len(data.corpus),
        "chunks": len(texts),
        "queries": len(query_ids),
        "k": k,
        "ingest_seconds": round(ingest_seconds, 2),
        "metrics": {
            mode: {f"{name}@{k}": round(float(np.mean(values)), 4) for name, values in metrics.items()}
            for mode, metrics in scores.items()
        },
    }
