"""
The local embedding model's throughput by batch size, on the chunks of the
sample knowledge base and of a generated corpus, batch sizes interleaved
round by round so that a noisy moment hurts them all alike.

    python -m bench.embedding_batch_size [--sections 200] [--rounds 5] [--json]

It chose the default of `EMBEDDING_BATCH_SIZE` for the local model.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.knowledge_common import (
    SAMPLE_KB,
    corpus_label,
    django_setup,
    generated_markdown_corpus,
    machine,
    parser,
    report,
)
from bench.knowledge_ingest import ingest_run
from bench.results import Figure, run_save, run_start

BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64)


def measure(texts: list[str], *, rounds: int) -> dict:
    from knowledge.embeddings import LocalOnnxProvider, count_tokens

    providers = {size: LocalOnnxProvider(batch_size=size) for size in BATCH_SIZES}
    providers[BATCH_SIZES[0]].embed_documents(["warm up", "the model"])
    seconds: dict[int, list[float]] = {size: [] for size in BATCH_SIZES}
    for _ in range(rounds):
        for size, provider in providers.items():
            started = time.perf_counter()
            provider.embed_documents(texts)
            seconds[size].append(time.perf_counter() - started)
    tokens = sum(min(count_tokens(text) + 2, 256) for text in texts)
    medians = {size: statistics.median(values) for size, values in seconds.items()}
    best = min(medians, key=medians.get)
    return {
        "chunks": len(texts),
        "model_tokens": tokens,
        "tokens_per_s": {str(size): round(tokens / median) for size, median in medians.items()},
        "seconds_median": {str(size): round(median, 3) for size, median in medians.items()},
        "fastest_batch_size": best,
        "batch_8_vs_32_speedup": round(medians[32] / medians[8], 2),
    }


def headline(figures: dict) -> list[Figure]:
    return [
        Figure(
            f"Local model throughput by batch size, {corpus_label(name)} ({corpus['chunks']:,} chunks)",
            f"fastest: batches of {corpus['fastest_batch_size']}; a batch of 8 gives "
            f"{corpus['batch_8_vs_32_speedup']}x the throughput of a batch of 32; tokens/s by batch size "
            + ", ".join(f"{size}: {rate:,}" for size, rate in corpus["tokens_per_s"].items()),
        )
        for name, corpus in figures.items()
        if name != "machine"
    ]


def main() -> None:
    args_parser = parser("Local embedding throughput by batch size.")
    args_parser.add_argument("--sections", type=int, default=200, help="Chunks of the generated corpus.")
    args_parser.add_argument("--rounds", type=int, default=5)
    args = args_parser.parse_args()
    run = run_start(benchmark="embedding_batch_size", area="Knowledge base")
    django_setup(prefix="batch-size")
    figures = {"machine": machine()}
    figures["sample_kb"] = measure(ingest_run(SAMPLE_KB)["texts"], rounds=args.rounds)
    corpus = generated_markdown_corpus(Path(tempfile.mkdtemp(prefix="bench-corpus-")), sections=args.sections)
    figures[f"generated_{args.sections}"] = measure(ingest_run(corpus)["texts"], rounds=args.rounds)
    run_save(run=run, figures=figures, headline=headline(figures))
    report("local embedding throughput by batch size", figures, as_json=args.json)


if __name__ == "__main__":
    main()
