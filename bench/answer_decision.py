"""
Calibration of the answer decision (`knowledge.answerability`), on labelled
question sets, each searched through the real retrieval on a throwaway install:

- `tidewater`: the sample knowledge base and bench/data/answer_eval/tidewater-{dev,test}.jsonl;
- `stackfaq`: the StackFAQ protocol (bench/stackfaq.py), the threads as FAQs;
- `stackfaq-docs`: the same threads as help-centre articles (documents).

For every question it takes the evidence of the first DECISION_PASSAGES
results (similarity, lift, coverage) and reports, per set and half:

- `configured`: the decision as shipped (WEIGHTS, BIAS, the default thresholds):
  answerable answered, unanswerable refused, deciding passage from a right source;
- `fitted`: a logistic regression over the same features fitted on the dev
  halves of all sets together (classes and sets weighted equally), its bias
  moved so that 97.5% of every set's answerable dev questions are answered:
  the weights to paste into knowledge/answerability.py;
- `cross_checks`: the same fit on one set's dev half alone, applied to the
  others (does it transfer to a knowledge base it was not fitted on?).

Test halves are never used for fitting.

    python -m bench.answer_decision [--json]

(`python -m bench.knowledge_threshold`, the calibration of the similarity
threshold that decided alone before, now runs this.)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from bench.knowledge_common import BASE_DIR, SAMPLE_KB, machine, parser, report
from bench.results import Figure, run_save, run_start
from bench.stackfaq import stackfaq_build
from knowledge.answerability import COVERAGE_FLOOR

EVAL_DIR = BASE_DIR / "bench" / "data" / "answer_eval"
SETS = ("tidewater", "stackfaq", "stackfaq-docs")
TARGET_ANSWERED = 0.975
L2 = 1.0


# --- Features, in a child process per set (Django is set up once per process) -------------------


def _features_main(argv: list[str]) -> None:
    cli = argparse.ArgumentParser()
    cli.add_argument("--features", required=True)
    cli.add_argument("--knowledge", nargs="+", required=True)
    cli.add_argument("--files", nargs="+", required=True, help="split=path")
    args = cli.parse_args(argv)
    from bench.knowledge_common import django_setup

    django_setup(prefix=f"decision-{args.features}")
    from django.core.management import call_command

    from chatbot.evaluation import SourceKey, _source_keys, eval_questions_parse
    from chatbot.pipeline import SEARCH_K
    from knowledge.answerability import DECISION_PASSAGES, answer_search, passage_features

    call_command("ingest", *args.knowledge, verbosity=0)
    for item in args.files:
        split, path = item.split("=", 1)
        for question in eval_questions_parse(data=Path(path).read_bytes(), filename=path):
            expected = _source_keys(question.expected_sources)
            results = answer_search(query=question.question, k=SEARCH_K)
            passages = [
                {
                    **passage_features(result),
                    "faq_match": result.question_similarity,
                    "right": SourceKey(result.source_type, result.source_id) in expected,
                }
                for result in results[:DECISION_PASSAGES]
            ]
            print(
                json.dumps(
                    {"split": split, "group": question.group, "answerable": question.answerable, "passages": passages}
                )
            )


def _features(name: str) -> list[dict]:
    if name == "tidewater":
        knowledge = [SAMPLE_KB]
        files = {split: EVAL_DIR / f"tidewater-{split}.jsonl" for split in ("dev", "test")}
    else:
        built = stackfaq_build(
            out_dir=Path(tempfile.mkdtemp(prefix=f"bench-{name}-")), as_document=name == "stackfaq-docs"
        )
        knowledge = [built["documents" if name == "stackfaq-docs" else "faqs"]]
        files = {split: built[split] for split in ("dev", "test")}
    command = [
        sys.executable,
        "-m",
        "bench.answer_decision",
        "--features",
        name,
        "--knowledge",
        *map(str, knowledge),
        "--files",
        *[f"{split}={path}" for split, path in files.items()],
    ]
    output = subprocess.run(command, cwd=BASE_DIR, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


# --- The model ------------------------------------------------------------------------------------


def _matrix(passages: list[dict], names: list[str]) -> np.ndarray:
    return np.array([[passage[name] for name in names] for passage in passages], dtype=float)


def _fit(rows: list[dict], names: list[str]) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (Newton's method) on each question's first passage."""
    usable = [row for row in rows if row["passages"]]
    x = _matrix([row["passages"][0] for row in usable], names)
    x = np.hstack([x, np.ones((len(x), 1))])
    y = np.array([row["answerable"] for row in usable], dtype=float)
    weight = np.ones(len(usable))
    groups = {(row["set"], row["answerable"]) for row in usable}
    for group in groups:
        members = np.array([(row["set"], row["answerable"]) == group for row in usable])
        weight[members] = 1.0 / members.sum()
    weight *= len(usable) / weight.sum()
    beta = np.zeros(x.shape[1])
    penalty = np.r_[np.full(len(names), L2), 0.0]
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-x @ beta))
        gradient = x.T @ (weight * (p - y)) + penalty * beta
        hessian = (x * (weight * p * (1 - p))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta[:-1], float(beta[-1])


def _logits(row: dict, names: list[str], weights: np.ndarray, bias: float) -> np.ndarray:
    return _matrix(row["passages"], names) @ weights + bias if row["passages"] else np.array([-np.inf])


def _calibrated_bias(rows: list[dict], names: list[str], weights: np.ndarray, bias: float, sets: tuple) -> float:
    """Moves the bias so that TARGET_ANSWERED of each set's answerable dev questions reach logit 0."""
    cut = min(
        float(
            np.quantile(
                [
                    _logits(row, names, weights, bias).max()
                    for row in rows
                    if row["set"] == name and row["split"] == "dev" and row["answerable"]
                ],
                1 - TARGET_ANSWERED,
            )
        )
        for name in sets
    )
    return bias - cut


def _scores(
    rows: list[dict],
    names: list[str],
    weights: np.ndarray,
    bias: float,
    *,
    threshold: float = 0.5,
    floor: float = 0.0,
    faq_match: float = 2.0,
) -> dict:
    """Per set and half: answered, refused, and whether the deciding passage is from a right source."""
    cut = float(np.log(threshold / (1 - threshold)))
    figures: dict = {}
    for name in SETS:
        for split in ("dev", "test"):
            chosen = [row for row in rows if row["set"] == name and row["split"] == split]
            if not chosen:
                continue
            answered, right = [], []
            for row in chosen:
                logits = _logits(row, names, weights, bias)
                best = int(np.argmax(logits))
                matches = [i for i, p in enumerate(row["passages"]) if (p["faq_match"] or 0.0) >= faq_match]
                if matches:
                    best = matches[0]
                passage = row["passages"][best] if row["passages"] else None
                yes = (
                    passage is not None
                    and passage["similarity"] >= floor
                    and (bool(matches) or (logits[best] >= cut and passage["coverage"] >= COVERAGE_FLOOR))
                )
                answered.append(yes)
                if row["answerable"] and yes:
                    right.append(passage["right"])
            answerable = [a for a, row in zip(answered, chosen, strict=False) if row["answerable"]]
            unanswerable = [a for a, row in zip(answered, chosen, strict=False) if not row["answerable"]]
            figures[f"{name} {split}"] = {
                "answerable_answered": round(float(np.mean(answerable)), 3) if answerable else None,
                "unanswerable_refused": round(1 - float(np.mean(unanswerable)), 3) if unanswerable else None,
                "deciding_passage_right": round(float(np.mean(right)), 3) if right else None,
            }
    return figures


def _fitted(rows: list[dict], names: list[str], sets: tuple) -> tuple[np.ndarray, float]:
    dev = [row for row in rows if row["split"] == "dev" and row["set"] in sets]
    weights, bias = _fit(dev, names)
    return weights, _calibrated_bias(rows, names, weights, bias, sets)


def main() -> None:
    if "--features" in sys.argv:
        _features_main(sys.argv[1:])
        return
    args = parser("Calibration of the answer decision on the dev halves; figures on dev and test.").parse_args()
    run = run_start(benchmark="answer_decision", area="Answers")
    from knowledge.answerability import (
        BIAS,
        DEFAULT_ANSWER_THRESHOLD,
        DEFAULT_SIMILARITY_FLOOR,
        FAQ_MATCH_SIMILARITY,
        WEIGHTS,
    )

    rows = [{**row, "set": name} for name in SETS for row in _features(name)]
    names = list(WEIGHTS)
    shipped = np.array([WEIGHTS[name] for name in names])
    figures: dict = {
        "machine": machine(),
        "features": names,
        "configured": {
            "weights": WEIGHTS,
            "bias": BIAS,
            **_scores(
                rows,
                names,
                shipped,
                BIAS,
                threshold=DEFAULT_ANSWER_THRESHOLD,
                floor=DEFAULT_SIMILARITY_FLOOR,
                faq_match=FAQ_MATCH_SIMILARITY,
            ),
        },
    }
    weights, bias = _fitted(rows, names, SETS)
    figures["fitted"] = {
        "weights": dict(zip(names, np.round(weights, 2).tolist(), strict=False)),
        "bias": round(bias, 2),
        **_scores(rows, names, weights, bias),
    }
    figures["cross_checks"] = {}
    for sets in (("tidewater",), ("stackfaq", "stackfaq-docs"), ("stackfaq",)):
        weights, bias = _fitted(rows, names, sets)
        figures["cross_checks"][f"fitted on {'+'.join(sets)} dev"] = {
            "weights": dict(zip(names, np.round(weights, 2).tolist(), strict=False)),
            "bias": round(bias, 2),
            **_scores(rows, names, weights, bias),
        }
    run_save(run=run, figures=figures, headline=headline(figures))
    report("answer decision", figures, as_json=args.json)


def headline(figures: dict) -> list[Figure]:
    def share(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    return [
        Figure(
            f"Answer decision as shipped, {set_and_half} half",
            f"answerable answered {share(scores['answerable_answered'])}, unanswerable refused "
            f"{share(scores['unanswerable_refused'])}, deciding passage from a right source "
            f"{share(scores['deciding_passage_right'])}",
        )
        for set_and_half, scores in figures["configured"].items()
        if set_and_half not in ("weights", "bias")
    ]


if __name__ == "__main__":
    main()
