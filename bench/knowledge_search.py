"""
Hybrid search latency (query embedding included) and resident memory at
10,000 and 100,000 chunks.

The chunks are generated text and their vectors generated unit vectors (a
mixture of 2,000 clusters in 384 dimensions): embedding 100,000 real chunks
takes hours on two cores. Everything else is the production path: chunk and
vector rows in the database, `index_publish()` builds and stores the version
(FAISS HNSW above INDEX_HNSW_THRESHOLD, BM25), and a fresh process loads it and
answers real questions through `knowledge.selectors.search` (ONNX query
embedding, FAISS, BM25, fusion, chunk rows from the database).

    python -m bench.knowledge_search [--sizes 10000,100000] [--queries 300] [--json]

Targets at 100,000 chunks: p50 <= 20 ms, p99 <= 50 ms, RSS <= 1.5 GB.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench.knowledge_common import (
    BASE_DIR,
    TIDEWATER_SET,
    django_setup,
    latency_ms,
    machine,
    parser,
    report,
    sentence,
)

DIMENSION = 384
CLUSTERS = 2000


def populate(size: int, *, seed: int = 11) -> None:
    """`size` chunks with text and vectors in the database, bypassing extraction and embedding."""
    from django.db import transaction

    from knowledge.chunking import content_hash
    from knowledge.embeddings import get_provider
    from knowledge.models import (
        FAQ,
        Chunk,
        Document,
        Embedding,
        IndexVersion,
        SourceStatus,
    )

    for model in (Chunk, Document, FAQ, IndexVersion, Embedding):
        model.objects.all().delete()
    rng = random.Random(seed)
    vectors_rng = np.random.default_rng(seed)
    centres = vectors_rng.standard_normal((CLUSTERS, DIMENSION)).astype(np.float32)
    model_id = get_provider().model_id
    per_document = 100
    batch = 2000
    with transaction.atomic():
        documents = Document.objects.bulk_create([
            Document(kind=Document.Kind.TEXT, title=f"Generated handbook {n}", identifier=f"text:generated-{n}",
                     status=SourceStatus.READY, text="(generated)")
            for n in range((size + per_document - 1) // per_document)
        ])
    for start in range(0, size, batch):
        chunks, embeddings = [], []
        count = min(batch, size - start)
        noise = vectors_rng.standard_normal((count, DIMENSION)).astype(np.float32) * 0.6
        vectors = centres[vectors_rng.integers(0, CLUSTERS, count)] + noise
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for offset in range(count):
            number = start + offset
            heading = f"Generated handbook {number // per_document} > Topic {number % per_document}"
            text = " ".join(sentence(rng) for _ in range(3))
            search_text = f"{heading}\n{text}"
            digest = content_hash(search_text)
            chunks.append(Chunk(document=documents[number // per_document], position=number % per_document,
                                text=text, heading_path=heading, token_count=len(text.split()),
                                search_text=search_text, content_hash=digest))
            embeddings.append(Embedding(model_id=model_id, content_hash=digest, dimension=DIMENSION,
                                        vector=vectors[offset].tobytes()))
        with transaction.atomic():
            Chunk.objects.bulk_create(chunks, batch_size=500)
            Embedding.objects.bulk_create(embeddings, batch_size=500, ignore_conflicts=True)


def questions() -> list[str]:
    path = TIDEWATER_SET / "queries.jsonl"
    return [json.loads(line)["text"] for line in path.read_text().splitlines() if line.strip()]


def probe(queries: int) -> dict:
    """Runs in a fresh process: loads the current version, then times `search()` calls."""
    import psutil

    from knowledge.embeddings import get_provider
    from knowledge.index import accessor
    from knowledge.selectors import search

    process = psutil.Process()
    started = time.perf_counter()
    snapshot = accessor.current()
    load_seconds = time.perf_counter() - started
    provider = get_provider()
    texts = questions()
    for text in texts[:10]:
        search(query=text, k=8)
    embed, total = [], []
    for number in range(queries):
        text = texts[number % len(texts)]
        begin = time.perf_counter()
        provider.embed_query(text)
        embed.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        results = search(query=text, k=8)
        total.append(time.perf_counter() - begin)
        assert len(results) == 8
    return {
        "chunks": snapshot.count,
        "index_kind": snapshot.kind,
        "first_load_seconds": round(load_seconds, 2),
        "search": latency_ms(total),
        "query_embedding_alone": latency_ms(embed),
        "rss_mb": round(process.memory_info().rss / 1_048_576),
    }


def measure(size: int, *, queries: int, data_dir: Path) -> dict:
    from knowledge.models import IndexVersion
    from knowledge.services import index_publish

    started = time.perf_counter()
    populate(size)
    populate_seconds = time.perf_counter() - started
    publish = index_publish()
    version = IndexVersion.objects.defer("blob").get(pk=publish.version_id)
    result = subprocess.run(
        [sys.executable, "-m", "bench.knowledge_search", "--probe", "--data-dir", str(data_dir),
         "--queries", str(queries)],
        cwd=BASE_DIR, capture_output=True, text=True, check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures.update(populate_seconds=round(populate_seconds, 1), build_and_publish_seconds=round(publish.seconds, 1),
                   snapshot_mb=round(version.size_bytes / 1_048_576, 1))
    return figures


def main() -> None:
    args_parser = parser("Hybrid search latency and memory at 10k and 100k chunks.")
    args_parser.add_argument("--sizes", default="10000,100000")
    args_parser.add_argument("--queries", type=int, default=300)
    args_parser.add_argument("--probe", action="store_true", help=argparse_hidden())
    args_parser.add_argument("--data-dir", type=Path, help=argparse_hidden())
    args = args_parser.parse_args()
    if args.probe:
        django_setup(prefix="search", data_dir=args.data_dir)
        print(json.dumps(probe(args.queries)))
        return
    data_dir = django_setup(prefix="search")
    figures = {"machine": machine()}
    for size in [int(value) for value in args.sizes.split(",") if value.strip()]:
        figures[f"chunks_{size}"] = measure(size, queries=args.queries, data_dir=data_dir)
    report("knowledge hybrid search latency and memory", figures, as_json=args.json)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
