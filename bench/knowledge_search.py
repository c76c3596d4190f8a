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
import subprocess
import sys
import time
from pathlib import Path

from bench.knowledge_common import (
    BASE_DIR,
    TIDEWATER_SET,
    django_setup,
    generated_chunks_create,
    latency_ms,
    machine,
    parser,
    report,
)
from bench.results import Figure, run_save, run_start


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
    generated_chunks_create(size=size)
    populate_seconds = time.perf_counter() - started
    publish = index_publish()
    version = IndexVersion.objects.defer("blob").get(pk=publish.version_id)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.knowledge_search",
            "--probe",
            "--data-dir",
            str(data_dir),
            "--queries",
            str(queries),
        ],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    figures.update(
        populate_seconds=round(populate_seconds, 1),
        build_and_publish_seconds=round(publish.seconds, 1),
        snapshot_mb=round(version.size_bytes / 1_048_576, 1),
    )
    return figures


TARGET_SIZE = 100_000
TARGET_P50_MS, TARGET_P99_MS, TARGET_RSS_MB = 20, 50, 1536


def headline(figures: dict) -> list[Figure]:
    rows = []
    for key, size_figures in figures.items():
        if not key.startswith("chunks_"):
            continue
        size = int(key.removeprefix("chunks_"))
        search, embed = size_figures["search"], size_figures["query_embedding_alone"]
        targeted = size == TARGET_SIZE
        rows += [
            Figure(
                f"Hybrid search, {size:,} chunks ({size_figures['index_kind']}), query embedding included",
                f"p50 {search['p50_ms']} ms, p99 {search['p99_ms']} ms (query embedding alone p50 "
                f"{embed['p50_ms']} ms)",
                target=f"p50 ≤ {TARGET_P50_MS} ms, p99 ≤ {TARGET_P99_MS} ms" if targeted else "",
                met=(search["p50_ms"] <= TARGET_P50_MS and search["p99_ms"] <= TARGET_P99_MS) if targeted else None,
            ),
            Figure(
                f"Resident memory of a searching process, {size:,} chunks",
                f"{size_figures['rss_mb']} MB",
                target="≤ 1.5 GB" if targeted else "",
                met=size_figures["rss_mb"] <= TARGET_RSS_MB if targeted else None,
            ),
            Figure(
                f"Build and publish a {size:,}-chunk version",
                f"{size_figures['build_and_publish_seconds']} s, {size_figures['snapshot_mb']} MB snapshot; "
                f"loaded by another process in {size_figures['first_load_seconds']} s",
            ),
        ]
    return rows


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
    run = run_start(benchmark="knowledge_search", area="Knowledge base")
    data_dir = django_setup(prefix="search")
    figures = {"machine": machine()}
    for size in [int(value) for value in args.sizes.split(",") if value.strip()]:
        figures[f"chunks_{size}"] = measure(size, queries=args.queries, data_dir=data_dir)
    run_save(run=run, figures=figures, headline=headline(figures))
    report("knowledge hybrid search latency and memory", figures, as_json=args.json)


def argparse_hidden() -> str:
    import argparse

    return argparse.SUPPRESS


if __name__ == "__main__":
    main()
