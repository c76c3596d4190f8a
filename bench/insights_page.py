"""
The insights page (admin > Insights) on a busy site: its response time over
100,000 conversations and 1,000,000 messages, on one profile per run.

    python -m bench.insights_page                                   # SQLite (a throwaway embedded install)
    python -m bench.insights_page --database-url postgres://postgres@127.0.0.1:5432/bench_insights
    [--conversations 100000] [--messages 1000000] [--days 90] [--requests 15] [--json]

It seeds the history with `manage.py seed_insights` (timed: the seed is a
figure too), then asks for the page through Django's test client as a logged-in
superuser: the 7-, 30- and 90-day periods, one warm-up request each, then
`--requests` timed ones (p50 and p95). The page reads one rollup row per past
day and counts today live. A last figure is the first view when no rollup
exists yet (every day of 90 counted from the messages, then stored).

On PostgreSQL the database named in the URL is dropped and created again.
Target: p50 <= 500 ms on both profiles. 2 shared cores: noisy.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import Figure, run_save, run_start  # noqa: E402

TARGET_MS = 500.0
PERIODS = ("7", "30", "90")


def _database_recreate(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def django_setup(database_url: str) -> str:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-insights-"))
    atexit.register(shutil.rmtree, data_dir, ignore_errors=True)
    for name in ("DATABASE_URL", "REDIS_URL", "DATABASE_TEST_NAME"):
        os.environ.pop(name, None)
    os.environ.update(
        DJANGO_SETTINGS_MODULE="chatbot.settings",
        DATA_DIR=str(data_dir),
        DOTENV="0",
        TASK_BACKEND="immediate",
        LOG_LEVEL="warning",
        DJANGO_ALLOWED_HOSTS="testserver",
    )
    if database_url:
        _database_recreate(database_url)
        os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    return connection.vendor


def _timed_get(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def measure(*, requests: int) -> dict:
    from django.contrib.auth.models import User
    from django.test import Client

    from insights.models import InsightsDay

    client = Client()
    client.force_login(User.objects.create_superuser("bench", "bench@example.com", "bench"))
    figures: dict = {}
    for period in PERIODS:
        url = f"/admin/insights/?period={period}"
        _timed_get(client, url)
        times = sorted(_timed_get(client, url) for _ in range(requests))
        figures[f"period_{period}"] = {
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 1),
            "requests": requests,
        }
    csv_times = sorted(_timed_get(client, "/admin/insights/csv/outcomes/?period=90") for _ in range(5))
    figures["csv_90_p50_ms"] = round(statistics.median(csv_times), 1)
    InsightsDay.objects.all().delete()
    figures["first_view_without_rollups_90_ms"] = round(_timed_get(client, "/admin/insights/?period=90"), 1)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="a PostgreSQL database to recreate and use")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    vendor_hint = "postgresql" if args.database_url else "sqlite"
    run = run_start(benchmark="insights_page", area="Insights", variant=vendor_hint)
    vendor = django_setup(args.database_url)

    from conversations.models import Message
    from insights.seeding import insights_seed

    started = time.perf_counter()
    seeded = insights_seed(conversations=args.conversations, messages=args.messages, days=args.days)
    seed_seconds = round(time.perf_counter() - started, 1)
    figures = {
        "database": vendor,
        "conversations": seeded.conversations,
        "messages": Message.objects.count(),
        "days": args.days,
        "seed_seconds": seed_seconds,
        **measure(requests=args.requests),
    }
    profile = "PostgreSQL" if vendor == "postgresql" else "SQLite"
    size = f"{seeded.conversations:,} conversations / {figures['messages']:,} messages"
    headline = [
        Figure(
            f"Insights page p50, {days} days, {profile} ({size})",
            f"{figures[f'period_{days}']['p50_ms']:.0f} ms",
            target=f"<= {TARGET_MS:.0f} ms",
            met=figures[f"period_{days}"]["p50_ms"] <= TARGET_MS,
        )
        for days in PERIODS
    ] + [
        Figure(
            f"Insights first view with no rollups, 90 days, {profile}",
            f"{figures['first_view_without_rollups_90_ms'] / 1000:.1f} s",
        ),
        Figure(f"seed_insights, {profile} ({size})", f"{seed_seconds:.0f} s"),
    ]
    run_save(run=run, figures=figures, headline=headline)
    if args.json:
        print(json.dumps(figures))
        return
    print(f"Insights page on {profile}, {size} over {args.days} days (seeded in {seed_seconds} s)")
    for period in PERIODS:
        row = figures[f"period_{period}"]
        print(
            f"  {period:>2} days: p50 {row['p50_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms ({row['requests']} requests)"
        )
    print(f"  CSV of 90 days p50 {figures['csv_90_p50_ms']:.0f} ms")
    print(f"  first view with no rollups (90 days counted): {figures['first_view_without_rollups_90_ms']:.0f} ms")


if __name__ == "__main__":
    main()
