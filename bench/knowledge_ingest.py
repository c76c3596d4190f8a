"""
Ingestion throughput: the whole `ingest` pipeline (extraction, chunking,
embedding, database writes, index build and publish) against the bare model
encoding the very same chunk texts, side by side in one process.

    python -m bench.knowledge_ingest [--chunks 2000] [--json]

Target: pipeline throughput at least 80% of the bare model's. Both wall-clock
and CPU-time ratios are printed: on a shared machine the CPU-time one (all
threads of this process) is the steadier of the two.
"""

from __future__ import annotations

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
from bench.results import Figure, run_save, run_start

TARGET_RATIO = 0.80


def ingest_run(path: Path) -> dict:
    """Runs the `ingest` command on a fresh knowledge base; returns its summary and the chunk texts."""
    import json
    from io import StringIO

    from django.core.management import call_command

    from knowledge.embeddings import count_tokens
    from knowledge.models import FAQ, Chunk, Document, Embedding, IndexVersion

    for model in (Chunk, Document, FAQ, IndexVersion, Embedding):
        model.objects.all().delete()
    count_tokens.cache_clear()  # a fresh ingestion: no token counts remembered from the previous round
    out = StringIO()
    started, cpu_started = time.perf_counter(), time.process_time()
    call_command("ingest", str(path), json=True, stdout=out)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    summary = json.loads(out.getvalue().splitlines()[-1])["summary"]
    texts = list(Chunk.objects.order_by("id").values_list("search_text", flat=True))
    return {"summary": summary, "seconds": seconds, "cpu_seconds": cpu_seconds, "texts": texts}


def bare_encode(texts: list[str], *, backend: str) -> tuple[float, float]:
    """Wall and CPU seconds (all threads) of the model alone on `texts`."""
    from django.conf import settings

    from knowledge.embeddings import LocalOnnxProvider, LocalTorchProvider

    provider_class = LocalOnnxProvider if backend == "onnx" else LocalTorchProvider
    provider = provider_class(batch_size=settings.EMBEDDING_BATCH_SIZE)
    provider.embed_documents(["warm up"])
    started, cpu_started = time.perf_counter(), time.process_time()
    provider.embed_documents(texts)
    return time.perf_counter() - started, time.process_time() - cpu_started


def measure(name: str, path: Path, *, rounds: int, torch_reference: bool) -> dict:
    """Pipeline and bare model alternate, `rounds` times each; medians are compared (the machine is shared)."""
    import statistics

    from knowledge.embeddings import count_tokens, get_provider

    get_provider().embed_documents(["warm up the model before the clock starts"])
    ingest_run(SAMPLE_KB)  # warm-up: loads the parsers and index libraries once, as a running worker has
    pipeline, bare, pipeline_cpu, bare_cpu = [], [], [], []
    for _ in range(rounds):
        run = ingest_run(path)
        pipeline.append(run["seconds"])
        pipeline_cpu.append(run["cpu_seconds"])
        wall, cpu = bare_encode(run["texts"], backend="onnx")
        bare.append(wall)
        bare_cpu.append(cpu)
    chunks = len(run["texts"])
    tokens = sum(min(count_tokens(text) + 2, 256) for text in run["texts"])
    pipeline_s, bare_s = statistics.median(pipeline), statistics.median(bare)
    figures = {
        "files": run["summary"]["files"],
        "chunks": chunks,
        "model_tokens": tokens,
        "rounds": rounds,
        "pipeline_seconds_median": round(pipeline_s, 2),
        "pipeline_chunks_per_s": round(chunks / pipeline_s, 1),
        "pipeline_tokens_per_s": round(tokens / pipeline_s),
        "bare_onnx_seconds_median": round(bare_s, 2),
        "bare_onnx_chunks_per_s": round(chunks / bare_s, 1),
        "bare_onnx_tokens_per_s": round(tokens / bare_s),
        "pipeline_vs_bare_model": round(bare_s / pipeline_s, 3),
        "pipeline_vs_bare_model_median_of_pairs": round(
            statistics.median(b / p for b, p in zip(bare, pipeline, strict=False)), 3
        ),
        "pipeline_vs_bare_model_cpu_time": round(statistics.median(bare_cpu) / statistics.median(pipeline_cpu), 3),
        "all_pipeline_seconds": [round(v, 2) for v in pipeline],
        "all_bare_seconds": [round(v, 2) for v in bare],
    }
    if torch_reference:
        bare_torch, _ = bare_encode(run["texts"], backend="torch")
        figures["bare_sentence_transformers_chunks_per_s"] = round(chunks / bare_torch, 1)
    return {name: figures}


def headline(figures: dict) -> list[Figure]:
    rows = []
    for name, corpus in figures.items():
        if name == "machine":
            continue
        ratio = corpus["pipeline_vs_bare_model"]
        rows.append(
            Figure(
                f"Ingestion, {corpus_label(name)} ({corpus['files']} files, {corpus['chunks']:,} chunks, "
                f"{corpus['model_tokens']:,} tokens)",
                f"pipeline {corpus['pipeline_seconds_median']} s: {corpus['pipeline_chunks_per_s']} chunks/s, "
                f"{corpus['pipeline_tokens_per_s']:,} tokens/s; bare ONNX model on the same chunks "
                f"{corpus['bare_onnx_seconds_median']} s: {corpus['bare_onnx_chunks_per_s']} chunks/s; pipeline at "
                f"{ratio:.0%} of the model ({corpus['pipeline_vs_bare_model_cpu_time']:.0%} in CPU time)",
                target=f"≥ {TARGET_RATIO:.0%} of the model",
                met=ratio >= TARGET_RATIO,
            )
        )
    return rows


def main() -> None:
    args_parser = parser("Ingestion throughput of the knowledge pipeline vs the bare embedding model.")
    args_parser.add_argument(
        "--chunks", type=int, default=2000, help="Size of the generated corpus (chunks; 0 skips it)."
    )
    args_parser.add_argument("--rounds", type=int, default=3, help="Alternating runs of each (median reported).")
    args_parser.add_argument("--torch", action="store_true", help="Also time sentence-transformers (PyTorch).")
    args = args_parser.parse_args()
    run = run_start(benchmark="knowledge_ingest", area="Knowledge base")
    django_setup(prefix="ingest")
    figures = {"machine": machine()}
    figures.update(measure("sample_kb", SAMPLE_KB, rounds=max(args.rounds, 9), torch_reference=False))
    if args.chunks > 0:
        corpus = generated_markdown_corpus(Path(tempfile.mkdtemp(prefix="bench-corpus-")), sections=args.chunks)
        figures.update(measure(f"generated_{args.chunks}", corpus, rounds=args.rounds, torch_reference=args.torch))
    run_save(run=run, figures=figures, headline=headline(figures))
    report("knowledge ingestion throughput", figures, as_json=args.json)


if __name__ == "__main__":
    main()
