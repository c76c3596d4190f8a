"""
Deletes visitor conversations (and their messages) older than the retention.

    python manage.py purge_conversations               # CONVERSATION_RETENTION_DAYS (0: keep forever)
    python manage.py purge_conversations --days 90     # another retention, once
    python manage.py purge_conversations --dry-run     # count only
    python manage.py purge_conversations --json        # one JSON summary, for cron

The task worker runs the same purge every hour on its own while a retention is
set (`conversations.tasks.conversations_purge_task`); this command is for cron
when tasks cannot be deferred, and for a one-off purge. Leads keep their
fields and consent record.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from conversations.services import conversations_purge


class Command(BaseCommand):
    help = "Delete visitor conversations older than CONVERSATION_RETENTION_DAYS (or --days); leads stay."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Retention in days for this run (default: CONVERSATION_RETENTION_DAYS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing.")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary and nothing else.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = settings.CONVERSATION_RETENTION_DAYS if options["days"] is None else options["days"]
        if days < 0:
            raise CommandError(f"--days must be 0 (keep forever) or more, got {days}.")
        try:
            report = conversations_purge(retention_days=days, dry_run=options["dry_run"])
        except KeyboardInterrupt:
            raise CommandError("Interrupted; the batches already deleted stay deleted.", returncode=130) from None
        summary = {
            "retention_days": days,
            "dry_run": options["dry_run"],
            "conversations": report.conversations,
            "messages": report.messages,
            "older_than": report.older_than.isoformat() if report.older_than else None,
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        elif options["verbosity"] > 0:
            if not days:
                self.stdout.write("Retention is off (CONVERSATION_RETENTION_DAYS=0): every conversation is kept.")
            else:
                verb = "Would purge" if options["dry_run"] else "Purged"
                self.stdout.write(
                    f"{verb} {report.conversations} conversation(s) and {report.messages} "
                    f"message(s) with no message since {report.older_than:%Y-%m-%d %H:%M}."
                )
