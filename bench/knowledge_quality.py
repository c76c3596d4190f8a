"""
Retrieval quality on the labelled Tidewater set (BEIR format, built from the
sample knowledge base, stored in bench/data/tidewater): nDCG@10, Recall@10 and
MRR@10 of dense, keyword and hybrid retrieval, on each judged split. Same code
as `manage.py kb_eval DIR [--split dev]`.

    python -m bench.knowledge_quality [--dir DIR] [--json]

Target: hybrid nDCG@10 at least that of dense-only and of keyword-only on every set.
"""

from __future__ import annotations

from pathlib import Path

from bench.knowledge_common import TIDEWATER_SET, django_setup, machine, parser, report
from bench.results import Figure, run_save, run_start


def headline(figures: dict) -> list[Figure]:
    rows = []
    for name, split in figures.items():
        if name == "machine":
            continue
        modes = ("dense", "keyword", "hybrid")
        rows.append(
            Figure(
                f"Retrieval, {name.rsplit('_', 1)[0]} labelled set, {name.rsplit('_', 1)[1]} split "
                f"({split['queries']} questions, {split['documents']} documents)",
                "; ".join(
                    f"{label} " + " / ".join(f"{split[mode][metric]:.3f}" for mode in modes)
                    for metric, label in (("ndcg@10", "nDCG@10"), ("recall@10", "Recall@10"), ("mrr@10", "MRR@10"))
                )
                + " (dense / keyword / hybrid)",
                target="hybrid nDCG@10 ≥ dense and keyword",
                met=split["hybrid_at_least_dense_and_keyword"],
            )
        )
    return rows


def main() -> None:
    args_parser = parser("Retrieval quality (nDCG@10, Recall@10, MRR@10) of dense, keyword and hybrid search.")
    args_parser.add_argument(
        "--dir", type=Path, action="append", help="A BEIR-format folder (repeatable); default: bench/data/tidewater."
    )
    args = args_parser.parse_args()
    run = run_start(benchmark="knowledge_quality", area="Knowledge base")
    django_setup(prefix="quality")
    from knowledge.evaluation import evaluate

    figures: dict = {"machine": machine()}
    for directory in args.dir or [TIDEWATER_SET]:
        splits = sorted(path.stem for path in (directory / "qrels").glob("*.tsv"))
        for split in splits:
            result = evaluate(directory, split=split)
            ndcg = {mode: values["ndcg@10"] for mode, values in result["metrics"].items()}
            figures[f"{directory.name}_{split}"] = {
                "queries": result["queries"],
                "documents": result["documents"],
                **result["metrics"],
                "hybrid_at_least_dense_and_keyword": ndcg["hybrid"] >= max(ndcg["dense"], ndcg["keyword"]),
            }
    run_save(run=run, figures=figures, headline=headline(figures))
    report("knowledge retrieval quality", figures, as_json=args.json)


if __name__ == "__main__":
    main()
