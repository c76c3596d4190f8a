"""
The "I don't know" threshold for the sample knowledge base: the answer
pipeline's confidence (`chatbot.services.answer_confidence`: the best cosine
similarity among the passages a prompt would get) for 90 in-KB questions (bench/data/tidewater)
and 28 questions the KB does not answer (bench/data/tidewater_out_of_kb.txt),
and, for each threshold, the share of each that lands on the right side.

    python -m bench.knowledge_threshold [--json]
"""

from __future__ import annotations

import json

from bench.knowledge_common import (
    BASE_DIR,
    SAMPLE_KB,
    TIDEWATER_SET,
    django_setup,
    machine,
    parser,
    percentile,
    report,
)


def main() -> None:
    args = parser("Answer confidence of in-KB vs out-of-KB questions; the threshold that separates them.").parse_args()
    django_setup(prefix="threshold")
    from django.core.management import call_command

    from knowledge.selectors import search

    call_command("ingest", str(SAMPLE_KB), verbosity=0)
    in_kb = [json.loads(line)["text"] for line in (TIDEWATER_SET / "queries.jsonl").read_text().splitlines() if line]
    out_of_kb = [line for line in (BASE_DIR / "bench" / "data" / "tidewater_out_of_kb.txt").read_text().splitlines()
                 if line.strip()]
    from chatbot.services import SEARCH_K, answer_confidence

    inside = [answer_confidence(search(query=q, k=SEARCH_K)) for q in in_kb]
    outside = [answer_confidence(search(query=q, k=SEARCH_K)) for q in out_of_kb]
    rows = {}
    best = (0.0, 0.0, 0.0, 0.0)
    for step in range(16, 61):
        threshold = step / 100
        answered = sum(c >= threshold for c in inside) / len(inside)
        refused = sum(c < threshold for c in outside) / len(outside)
        balanced = (answered + refused) / 2
        if step % 4 == 0:
            rows[f"{threshold:.2f}"] = {"in_kb_answered": round(answered, 3), "out_of_kb_refused": round(refused, 3)}
        if balanced > best[0] + 1e-9:
            best = (balanced, threshold, answered, refused)
    figures = {
        "machine": machine(),
        "in_kb": {"questions": len(inside), "min": round(min(inside), 3), "p10": round(percentile(inside, 0.1), 3),
                  "median": round(percentile(inside, 0.5), 3)},
        "out_of_kb": {"questions": len(outside), "median": round(percentile(outside, 0.5), 3),
                      "p90": round(percentile(outside, 0.9), 3), "max": round(max(outside), 3)},
        "thresholds": rows,
        "recommended_threshold": best[1],
        "balanced_accuracy_at_recommended": round(best[0], 3),
        "at_recommended": {"in_kb_answered": round(best[2], 3), "out_of_kb_refused": round(best[3], 3)},
    }
    report("knowledge confidence threshold", figures, as_json=args.json)


if __name__ == "__main__":
    main()
