"""
Time from a visitor message carrying an email to the lead's row in the Google
Sheet, through the real gspread client against the loopback fake of the Sheets
API (testsupport.fake_sheets).

Three set-ups, each on a fresh throwaway SQLite database in a temp directory:

- "worker, 1 s poll": the production path. The capture saves the lead, the
  post_save signal enqueues the push on commit, and a `manage.py db_worker`
  process (default 1 s polling, as `make run` starts it) pushes the row.
- "worker, 0.1 s poll": the same with a busier worker.
- "immediate": TASK_BACKEND=immediate, the push runs in the capturing process
  right after commit (the floor: capture + OAuth token + Sheets calls).

    python -m bench.leads_sheet_latency [--messages 20] [--json]

Messages arrive at random moments (seeded), so the worker's polling shows as it
would for real visitors. Reports median and p90 in milliseconds. 2 shared cores: noisy; compare runs
made in one sitting.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA_DIR = Path(tempfile.mkdtemp(prefix="bench-leads-"))
os.environ["DATA_DIR"] = str(DATA_DIR)
os.environ["DOTENV"] = "0"
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatbot.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from bench.results import Figure, run_save, run_start  # noqa: E402
from leads.models import Lead  # noqa: E402
from leads.services import lead_capture_from_message  # noqa: E402
from testsupport.fake_sheets import FakeSheets  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WORKSHEET = "Leads"


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def wait_for_row(fake: FakeSheets, lead_id: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    wanted = str(lead_id)
    while time.monotonic() < deadline:
        if any(row and row[0] == wanted for row in fake.rows(WORKSHEET)):
            return
        time.sleep(0.002)
    raise TimeoutError(f"lead {lead_id} did not reach the sheet within {timeout}s")


def measure(fake: FakeSheets, *, messages: int, label: str, tasks: dict) -> list[float]:
    timings = []
    arrivals = random.Random(7)
    with override_settings(TASKS=tasks, SHEETS_WORKSHEET=WORKSHEET, **fake.settings()):
        for number in range(messages):
            slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
            text = f"Can someone call me about a fleet quote? {slug}-{number}@bench.example.com"
            started = time.perf_counter()
            lead = lead_capture_from_message(conversation=None, text=text).lead
            wait_for_row(fake, lead.pk)
            timings.append((time.perf_counter() - started) * 1000)
            time.sleep(arrivals.uniform(0.0, 1.1))  # visitors arrive at any point of the worker's poll
    return timings


def worker(fake: FakeSheets, interval: float) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{settings.DATABASES['default']['NAME']}",
        TASK_BACKEND="database",
        SHEETS_WORKSHEET=WORKSHEET,
        LOG_LEVEL="warning",
        **fake.environment(),
    )
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--no-reload",
            "--no-startup-delay",
            "--interval",
            str(interval),
            "--queue-name",
            "*",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    run = run_start(benchmark="leads_sheet_latency", area="Leads")

    call_command("migrate", verbosity=0)
    database_tasks = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}
    }
    immediate_tasks = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "index", "leads"],
        }
    }
    results: dict[str, dict[str, float]] = {}
    with FakeSheets() as fake:
        measure(fake, messages=2, label="warmup", tasks=immediate_tasks)
        for label, interval in (("worker, 1 s poll", 1.0), ("worker, 0.1 s poll", 0.1)):
            process = worker(fake, interval)
            try:
                time.sleep(2)  # the worker's Django start-up is not part of the figure
                timings = measure(fake, messages=args.messages, label=label, tasks=database_tasks)
            finally:
                process.terminate()
                process.wait(timeout=30)
            results[label] = {"median_ms": statistics.median(timings), "p90_ms": percentile(timings, 0.9)}
        timings = measure(fake, messages=args.messages, label="immediate", tasks=immediate_tasks)
        results["immediate (no worker)"] = {"median_ms": statistics.median(timings), "p90_ms": percentile(timings, 0.9)}
        calls = len(fake.api_calls()) / max(1, Lead.objects.count())

    run_save(
        run=run,
        figures={"messages": args.messages, "sheets_calls_per_lead": calls, "results": results},
        headline=[
            *(
                Figure(
                    f"Message with an email until its row is in the sheet (fake Sheets API), {label}",
                    f"median {figures['median_ms']:.1f} ms, p90 {figures['p90_ms']:.1f} ms "
                    f"({args.messages} messages at random moments)",
                )
                for label, figures in results.items()
            ),
            Figure("Sheets API calls per lead", f"{calls:.1f} (plus one OAuth token per process and hour)"),
        ],
    )
    if args.json:
        json.dump(
            {
                "benchmark": "leads_sheet_latency",
                "messages": args.messages,
                "sheets_calls_per_lead": calls,
                "results": results,
            },
            sys.stdout,
        )
        print()
        return
    print(
        f"Message with an email -> row in the sheet (fake Sheets API on loopback, {args.messages} messages each;"
        " 2 shared cores: noisy)"
    )
    for label, figures in results.items():
        print(f"  {label:<24} median {figures['median_ms']:>7.1f} ms   p90 {figures['p90_ms']:>7.1f} ms")
    print(f"  Sheets API calls per lead: {calls:.1f} (plus one OAuth token per process and hour)")


if __name__ == "__main__":
    main()
