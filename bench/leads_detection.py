"""
Contact-detail detection throughput: messages per second through
`leads.detection.contact_details_extract` (what runs on every visitor message),
and through `leads.selectors.visitor_wants_contact`.

The corpus is the sample knowledge base's FAQ questions (what visitors ask:
no contact details) plus the ≥40 realistic messages of the detection test table
(half with contact details, half with look-alikes: prices, dates, order numbers).

    python -m bench.leads_detection [--rounds 7] [--json]

Figures are medians over rounds. This machine has 2 cores shared with other
work, so absolute numbers are noisy; compare runs made in one sitting.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

import django

django.setup()

from bench.results import Figure, run_save, run_start  # noqa: E402
from leads.detection import contact_details_extract  # noqa: E402
from leads.selectors import visitor_wants_contact  # noqa: E402
from leads.tests.test_detection import CASES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def corpus() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(region, text) pairs: ordinary questions, and the table's tricky messages."""
    with (ROOT / "sample_kb" / "faqs.csv").open(encoding="utf-8") as handle:
        questions = [("US", row["question"]) for row in csv.DictReader(handle)]
    tricky = [(region, text) for region, text, *_ in CASES]
    return questions, tricky


def throughput(messages: list[tuple[str, str]], function, *, min_seconds: float = 0.5) -> float:
    """Messages per second, looping over the corpus for at least `min_seconds`."""
    done, started = 0, time.perf_counter()
    while True:
        for region, text in messages:
            function(region, text)
        done += len(messages)
        elapsed = time.perf_counter() - started
        if elapsed >= min_seconds:
            return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run = run_start(benchmark="leads_detection", area="Leads")

    questions, tricky = corpus()
    mixed = questions + tricky

    def extract(region: str, text: str) -> None:
        contact_details_extract(text=text, region=region)

    def wants(region: str, text: str) -> None:
        visitor_wants_contact(text)

    sets = {"questions (no contact details)": questions, "test table (details and look-alikes)": tricky, "mixed": mixed}
    results: dict[str, dict[str, float]] = {}
    for label, messages in sets.items():
        rates = [throughput(messages, extract) for _ in range(args.rounds)]
        results[label] = {
            "messages": len(messages),
            "messages_per_s": statistics.median(rates),
            "us_per_message": 1e6 / statistics.median(rates),
        }
    wants_rates = [throughput(mixed, wants) for _ in range(args.rounds)]
    results["visitor_wants_contact (mixed)"] = {
        "messages": len(mixed),
        "messages_per_s": statistics.median(wants_rates),
        "us_per_message": 1e6 / statistics.median(wants_rates),
    }

    run_save(
        run=run,
        figures={"rounds": args.rounds, "results": results},
        headline=[
            Figure(
                "`visitor_wants_contact` throughput, mixed messages"
                if label.startswith("visitor_wants_contact")
                else f"Contact detection throughput, {label}",
                f"{figures['messages_per_s']:,.0f} messages/s ({figures['us_per_message']:.1f} µs each, "
                f"{figures['messages']} messages)",
            )
            for label, figures in results.items()
        ],
    )
    if args.json:
        json.dump({"benchmark": "leads_detection", "rounds": args.rounds, "results": results}, sys.stdout)
        print()
        return
    print(f"Contact detection, median of {args.rounds} rounds (2 shared cores: noisy)")
    for label, figures in results.items():
        print(
            f"  {label:<40} {figures['messages_per_s']:>10,.0f} msg/s  "
            f"{figures['us_per_message']:>8.1f} µs/msg  ({figures['messages']} messages)"
        )


if __name__ == "__main__":
    main()
