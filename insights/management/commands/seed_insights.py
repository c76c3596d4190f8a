"""
`manage.py seed_insights [--conversations 100000] [--messages 1000000] [--days 90] [--seed 1] [--json]`

Fills the database with a busy site's history for the insights page (and
`bench/insights_page.py`). It adds to what is there: run it on a database of
its own, never on a live site.
"""

from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from insights.seeding import insights_seed


class Command(BaseCommand):
    help = "Seeds conversations and messages over the last days for the insights page (a test database only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--conversations", type=int, default=100_000)
        parser.add_argument("--messages", type=int, default=1_000_000)
        parser.add_argument("--days", type=int, default=90)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", action="store_true", help="print one JSON object, no progress bar")

    def handle(self, *args, **options) -> None:
        conversations, messages, days = options["conversations"], options["messages"], options["days"]
        if conversations < 1 or days < 1:
            raise CommandError("--conversations and --days must be at least 1.")
        if messages < 2 * conversations:
            raise CommandError("--messages must be at least twice --conversations (a question and its answer each).")
        started = time.perf_counter()
        bar = (
            None
            if options["json"]
            else tqdm(total=conversations, unit="conversation", disable=options["verbosity"] == 0)
        )
        try:
            report = insights_seed(
                conversations=conversations,
                messages=messages,
                days=days,
                seed=options["seed"],
                progress=bar.update if bar else None,
            )
        except KeyboardInterrupt:
            raise CommandError("Interrupted: nothing was added (the seed runs in one transaction).") from None
        finally:
            if bar:
                bar.close()
        figures = {
            "conversations": report.conversations,
            "messages": report.messages,
            "leads": report.leads,
            "days_rolled_up": report.days_rolled_up,
            "seconds": round(time.perf_counter() - started, 1),
        }
        if options["json"]:
            self.stdout.write(json.dumps(figures))
        else:
            self.stdout.write(
                f"Added {report.conversations} conversations, {report.messages} messages and {report.leads} leads; "
                f"rolled up {report.days_rolled_up} days in {figures['seconds']} s."
            )
