"""
Every benchmark of `bench/`, one after the other, each in its own process.

    python -m bench.run_all                 # prints each benchmark's figures as it finishes
    python -m bench.run_all --json          # one JSON object: {benchmark: its --json output}
    python -m bench.run_all --only load_websockets,leads_detection

The list below is the whole suite with the arguments of the published
figures; `make bench` runs it, then `python -m bench.report`. Each benchmark
saves its result file in bench/results/ (bench/results.py), and
docs/benchmarks.md is generated from those files. A benchmark that fails is
reported and the others still run. On a shared machine every figure is noisy:
run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent

# (module, arguments); a module may appear twice with other arguments.
BENCHMARKS: list[tuple[str, list[str]]] = [
    ("knowledge_ingest", []),
    ("embedding_batch_size", []),
    ("knowledge_search", []),
    ("knowledge_faq_latency", []),
    ("knowledge_quality", []),
    ("answer_decision", []),
    ("answer_quality", []),
    ("answers_first_token", []),
    ("answers_concurrency", []),
    ("answers_concurrency", ["--kb", "10k"]),
    ("leads_detection", []),
    ("language_detection", []),
    ("leads_sheet_latency", []),
    ("limits_overhead", []),
    ("widget_render", []),
    # 100,000 conversations / 1,000,000 messages seeded, then the page timed; the PostgreSQL database is recreated.
    ("insights_page", []),
    ("insights_page", ["--database-url", "postgres://postgres@127.0.0.1:5432/bench_insights"]),
    ("load_websockets", ["--visitors", "1000", "--servers", "gunicorn,daphne", "--providers", "extractive,fake-llm"]),
    (
        "load_websockets",
        [
            "--visitors",
            "1000",
            "--servers",
            "gunicorn,daphne",
            "--providers",
            "extractive,fake-llm",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/postgres",
            "--redis-url",
            "redis://127.0.0.1:6379/6",
        ],
    ),
    (
        "handoff_latency",
        ["--database-url", "postgres://postgres@127.0.0.1:5432/postgres", "--redis-url", "redis://127.0.0.1:6379/6"],
    ),
    # The load benchmarks again on 10,000 generated chunks under the sample KB: memory with a real index.
    (
        "load_websockets",
        ["--visitors", "1000", "--servers", "gunicorn,daphne", "--providers", "extractive,fake-llm", "--kb", "10k"],
    ),
    (
        "load_websockets",
        [
            "--visitors",
            "1000",
            "--servers",
            "gunicorn,daphne",
            "--providers",
            "extractive,fake-llm",
            "--database-url",
            "postgres://postgres@127.0.0.1:5432/postgres",
            "--redis-url",
            "redis://127.0.0.1:6379/6",
            "--kb",
            "10k",
        ],
    ),
]
# Modules of bench/ that are helpers, data builders or the report, not benchmarks.
NOT_BENCHMARKS = {
    "run_all",
    "answers_common",
    "knowledge_common",
    "build_tidewater_eval",
    "results",
    "report",
    "knowledge_threshold",  # an alias of answer_decision
    "answer_quality_run",
    "stackfaq",
}


def unlisted() -> list[str]:
    listed = {name for name, _ in BENCHMARKS} | NOT_BENCHMARKS
    return sorted(m.name for m in pkgutil.iter_modules([str(BENCH_DIR)]) if m.name not in listed)


def run(name: str, arguments: list[str], *, as_json: bool) -> dict:
    command = [sys.executable, "-m", f"bench.{name}", *arguments, *(["--json"] if as_json else [])]
    started = time.monotonic()
    if as_json:
        finished = subprocess.run(command, cwd=BENCH_DIR.parent, capture_output=True, text=True)
        output = finished.stdout.strip().splitlines()
        try:
            figures = json.loads(output[-1]) if output else None
        except json.JSONDecodeError:
            figures = None
        if finished.returncode:
            sys.stderr.write(finished.stderr[-3000:])
    else:
        print(f"\n=== python -m bench.{name} {' '.join(arguments)}".rstrip(), flush=True)
        finished = subprocess.run(command, cwd=BENCH_DIR.parent)
        figures = None
    return {
        "command": " ".join(["python", "-m", f"bench.{name}", *arguments]),
        "exit_code": finished.returncode,
        "seconds": round(time.monotonic() - started, 1),
        "figures": figures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = only - {name for name, _ in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")

    results: dict[str, dict] = {}
    try:
        for name, arguments in BENCHMARKS:
            if not only or name in only:
                label = name if name not in results else f"{name} {' '.join(arguments)}"
                results[label] = run(name, arguments, as_json=args.json)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
    if args.json:
        print(json.dumps(results))
        return
    print("\n=== summary")
    for name, result in results.items():
        verdict = "ok" if result["exit_code"] == 0 else f"FAILED (exit code {result['exit_code']})"
        print(f"  {name[:60]:<60} {result['seconds']:>7.1f} s  {verdict}")
    missing = unlisted()
    if missing:
        print(f"  not in bench/run_all.py yet: {', '.join(missing)}")
    if any(result["exit_code"] for result in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
