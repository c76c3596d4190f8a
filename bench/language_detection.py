"""
Language detection of visitor messages (core.language): how often it is
right on short website questions, and what it costs per message.

The set, `bench/data/language/messages.jsonl`, is short questions in the five
languages with catalogues (one-word messages, product names, English questions
that name French or Spanish places), and messages that are in no language at
all ("Commuter 2", "ok", an email address: `"language": null`), which must be
left undecided so that the conversation's previous language is used.

    python -m bench.language_detection [--rounds 5] [--json]

Reported: right / wrong / undecided among the labelled messages as a first
message of a conversation; the share that could switch a conversation from
another language (confidence >= SWITCH_MIN_CONFIDENCE); the undecided share
of the no-language messages; the model's load time and resident memory; the
time per message (median and p99 over rounds). Timings are noisy on a shared
machine: compare runs made in one sitting on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

import django

django.setup()

from bench.results import Figure, run_save, run_start  # noqa: E402
from core.language import (  # noqa: E402
    SWITCH_MIN_CONFIDENCE,
    language_choose,
    language_detect,
    language_detector_load,
)

MESSAGES = Path(__file__).resolve().parent / "data" / "language" / "messages.jsonl"


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def accuracy(rows: list[dict]) -> dict:
    counts: Counter[str] = Counter({key: 0 for key in ("right", "wrong", "undecided", "switch_capable")})
    per_language: dict[str, Counter[str]] = {}
    mistakes = []
    for row in rows:
        guess = language_detect(row["text"])
        chosen = language_choose(guess=guess)
        expected = row["language"]
        if expected is None:
            counts["no_language"] += 1
            counts["no_language_undecided"] += chosen == ""
            if chosen:
                mistakes.append({"text": row["text"], "expected": None, "got": chosen})
            continue
        tally = per_language.setdefault(expected, Counter())
        tally["messages"] += 1
        counts["labelled"] += 1
        if chosen == "":
            outcome = "undecided"
        elif chosen == expected:
            outcome = "right"
            counts["switch_capable"] += guess.confidence >= SWITCH_MIN_CONFIDENCE
        else:
            outcome = "wrong"
            mistakes.append({"text": row["text"], "expected": expected, "got": chosen})
        counts[outcome] += 1
        tally[outcome] += 1
    return {**counts, "per_language": {k: dict(v) for k, v in sorted(per_language.items())}, "mistakes": mistakes}


def timing(rows: list[dict], rounds: int) -> dict:
    before = _rss_mb()
    started = time.perf_counter()
    language_detector_load()
    load_s = time.perf_counter() - started
    loaded = _rss_mb()
    per_message: list[float] = []
    for _ in range(rounds):
        for row in rows:
            started = time.perf_counter()
            language_detect(row["text"])
            per_message.append(time.perf_counter() - started)
    per_message.sort()
    return {
        "load_s": round(load_s, 3),
        "model_rss_mb": round(loaded - before, 1),
        "per_message_p50_us": round(statistics.median(per_message) * 1e6, 1),
        "per_message_p99_us": round(per_message[int(len(per_message) * 0.99)] * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run = run_start(benchmark="language_detection", area="Answers")
    rows = [json.loads(line) for line in MESSAGES.read_text(encoding="utf-8").splitlines() if line.strip()]

    times = timing(rows, args.rounds)
    result = {"messages": len(rows), **accuracy(rows), **times}
    run_save(
        run=run,
        figures=result,
        headline=[
            Figure(
                f"Language of a first message, {result['labelled']} labelled short messages",
                f"{result['right']} right, {result['wrong']} wrong, {result['undecided']} undecided; of "
                f"{result['no_language']} messages in no language, {result['no_language_undecided']} left undecided",
            ),
            Figure(
                "Language detection cost",
                f"model load {times['load_s']} s, +{times['model_rss_mb']} MB resident; "
                f"per message p50 {times['per_message_p50_us']} µs, p99 "
                f"{times['per_message_p99_us']} µs",
            ),
        ],
    )
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['labelled']} labelled messages: {result['right']} right, {result['wrong']} wrong, "
        f"{result['undecided']} undecided (the conversation's previous language is used)"
    )
    print(f"  could switch a conversation from another language: {result['switch_capable']}")
    for language, tally in result["per_language"].items():
        print(f"  {language}: {tally}")
    print(f"{result['no_language']} messages in no language: {result['no_language_undecided']} left undecided")
    for mistake in result["mistakes"]:
        print(f"  mistaken: {mistake}")
    print(
        f"model load {times['load_s']} s, +{times['model_rss_mb']} MB resident; per message "
        f"p50 {times['per_message_p50_us']} µs, p99 {times['per_message_p99_us']} µs"
    )


if __name__ == "__main__":
    main()
