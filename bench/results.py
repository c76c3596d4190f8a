"""
Result files of the benchmarks: every benchmark saves its run here, and
`python -m bench.report` turns the committed files into docs/benchmarks.md.

    run = run_start(benchmark="knowledge_search", area="Knowledge base")   # first thing in main()
    ...                                                                     # measure
    run_save(run=run, figures=figures, headline=[Figure("Hybrid search p50", "6.1 ms", target="<= 20 ms", met=True)])

A run is saved as `bench/results/<benchmark>.json` (`<benchmark>.<variant>.json`
when one benchmark is run several ways, such as the load benchmark on SQLite
and on PostgreSQL), replacing the previous run of the same benchmark and
variant: git keeps the history, so the repository holds one small file per
figure set. Each file names its run: the date, the machine (host name, CPU
model, cores, memory, load average when the run started), the git commit
(and whether the working tree had uncommitted changes), the command line, and
the figures: all of them (`figures`) and the rows shown in the report
(`headline`).

`BENCH_RESULTS_DIR` sends the files elsewhere: a trial run (small sizes, a
busy machine) must not replace the committed figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shlex
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "bench" / "results"
FORMAT = 1


@dataclass(frozen=True)
class Figure:
    """One row of docs/benchmarks.md: what was measured, the value with its unit, and the target if any."""

    figure: str
    measured: str
    target: str = ""
    met: bool | None = None


@dataclass
class BenchRun:
    benchmark: str
    area: str
    variant: str
    command: str
    started_at: str
    machine: dict[str, Any]
    git: dict[str, Any]


def run_start(*, benchmark: str, area: str, variant: str = "", argv: list[str] | None = None) -> BenchRun:
    """Records when, where and on which commit a benchmark starts (the load average is the one at start)."""
    arguments = sys.argv[1:] if argv is None else argv
    return BenchRun(
        benchmark=benchmark,
        area=area,
        variant=_slug(variant),
        command=" ".join(["python", "-m", f"bench.{benchmark}", *map(shlex.quote, arguments)]),
        started_at=_now(),
        machine=machine_describe(),
        git=git_describe(),
    )


def run_save(
    *, run: BenchRun, figures: dict[str, Any], headline: list[Figure], results_dir: Path | None = None
) -> Path:
    """Writes the run's result file and says where on stderr; returns its path."""
    directory = results_dir or Path(os.environ.get("BENCH_RESULTS_DIR") or RESULTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    name = run.benchmark + (f".{run.variant}" if run.variant else "") + ".json"
    path = directory / name
    document = {
        "format": FORMAT,
        "benchmark": run.benchmark,
        "area": run.area,
        "variant": run.variant,
        "command": run.command,
        "started_at": run.started_at,
        "finished_at": _now(),
        "machine": run.machine,
        "git": run.git,
        "headline": [asdict(row) for row in headline],
        "figures": figures,
    }
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    print(f"result saved to {_shown(path)}", file=sys.stderr)
    return path


def machine_describe() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "hostname": socket.gethostname(),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "load_average_at_start": [round(value, 2) for value in load] if load else None,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
    }


def git_describe() -> dict[str, Any]:
    """The commit the run measured, and whether the tree differed from it (result files aside)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=BASE_DIR, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    changed = [
        line
        for line in git("status", "--porcelain").splitlines()
        if line[3:] and not line[3:].startswith("bench/results/")
    ]
    return {"commit": commit or None, "dirty": bool(changed) if commit else None}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        import psutil
    except ImportError:
        return None
    return round(psutil.virtual_memory().total / 2**30, 1)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(BASE_DIR))
    except ValueError:
        return str(path)
