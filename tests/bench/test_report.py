"""docs/benchmarks.md is generated from the result files, and every benchmark writes one."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.report import OUTPUT, report_render
from bench.results import BASE_DIR, RESULTS_DIR, Figure, run_save, run_start
from bench.run_all import BENCHMARKS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "results"


def test_it_renders_one_table_per_area_with_each_figure_its_target_and_its_run(tmp_path):
    page = report_render(results_dir=FIXTURES, output=tmp_path / "docs" / "benchmarks.md")

    run = "2026-11-26 · `0123456789` · [knowledge_search.json]({base}/knowledge_search.json)"
    base = os.path.relpath(FIXTURES, tmp_path / "docs")  # links are relative to the page
    assert (
        "## Knowledge base\n\n| Figure | Measured | Target | Run |\n|---|---|---|---|\n"
        + "\n".join(
            [
                "| Hybrid search, 100,000 chunks (hnsw), query embedding included | p50 6.4 ms, p99 11.2 ms "
                "| p50 ≤ 20 ms, p99 ≤ 50 ms (**met**) | " + run.format(base=base) + " |",
                "| Resident memory of a searching process, 100,000 chunks | 520 MB | ≤ 1.5 GB (**met**) | "
                + run.format(base=base)
                + " |",
                "| FAQ saved in admin until `search` finds it \\| in another process | max 2.4 s "
                "| ≤ 2 s (**missed**) | "
                f"2026-11-27 · `fedcba9876` + uncommitted changes · [knowledge_faq_latency.json]({base}/"
                "knowledge_faq_latency.json) |",
            ]
        )
        + "\n\n## Load\n"
        in page
    )
    assert (
        f"| 1,000 WebSocket visitors, Daphne | 1000/1000 held |  | 2026-11-26 · no commit · "
        f"[load_websockets.sqlite-sample.json]({base}/load_websockets.sqlite-sample.json) |"
    ) in page
    assert "## Answers" not in page, "an area without results gets no table"
    assert (
        f"| [knowledge_search.json]({base}/knowledge_search.json) | 2026-11-26 09:12:03 | `0123456789` "
        "| quiet: Example CPU 3.0GHz, 2 cores, 23.5 GiB | 0.7 / 0.5 / 0.4 | `python -m bench.knowledge_search` |"
    ) in page


def test_a_saved_run_names_its_date_machine_commit_and_command(tmp_path):
    run = run_start(
        benchmark="knowledge_search",
        area="Knowledge base",
        variant="10k KB",
        argv=["--sizes", "1000", "--note", "two words"],
    )

    path = run_save(
        run=run,
        figures={"chunks_1000": {"rss_mb": 300}},
        headline=[Figure("Resident memory", "300 MB", target="≤ 1.5 GB", met=True)],
        results_dir=tmp_path,
    )

    saved = json.loads(path.read_text(encoding="utf-8"))
    assert path.name == "knowledge_search.10k-kb.json"
    assert saved["command"] == "python -m bench.knowledge_search --sizes 1000 --note 'two words'"
    assert saved["started_at"] <= saved["finished_at"]
    assert saved["machine"]["cores"] >= 1 and saved["machine"]["hostname"] and saved["machine"]["cpu_model"]
    assert len(saved["machine"]["load_average_at_start"]) == 3 and saved["machine"]["memory_gib"] > 0
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=BASE_DIR, capture_output=True, text=True).stdout.strip()
    assert saved["git"]["commit"] == head and isinstance(saved["git"]["dirty"], bool)
    assert saved["headline"] == [{"figure": "Resident memory", "measured": "300 MB", "target": "≤ 1.5 GB", "met": True}]
    assert saved["figures"] == {"chunks_1000": {"rss_mb": 300}}
    assert "knowledge_search.10k-kb.json" in report_render(results_dir=tmp_path)


def test_docs_benchmarks_md_is_the_report_of_the_committed_results():
    assert OUTPUT.read_text(encoding="utf-8") == report_render(results_dir=RESULTS_DIR), "run python -m bench.report"


def test_the_check_mode_fails_on_a_stale_page(tmp_path):
    results = tmp_path / "results"
    shutil.copytree(FIXTURES, results)
    page = tmp_path / "benchmarks.md"
    page.write_text("hand-edited\n", encoding="utf-8")
    command = [sys.executable, "-m", "bench.report", "--results", str(results), "--output", str(page)]

    stale = subprocess.run([*command, "--check"], cwd=BASE_DIR, capture_output=True, text=True)
    subprocess.run(command, cwd=BASE_DIR, check=True, capture_output=True)
    fresh = subprocess.run([*command, "--check"], cwd=BASE_DIR, capture_output=True, text=True)

    assert stale.returncode == 1 and "out of date" in stale.stderr
    assert fresh.returncode == 0


def test_every_benchmark_of_make_bench_saves_its_run():
    for name in dict.fromkeys(name for name, _ in BENCHMARKS):
        source = (BASE_DIR / "bench" / f"{name}.py").read_text()
        called = {
            node.func.id
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert {"run_start", "run_save"} <= called, f"bench/{name}.py does not save its result"
