"""
Pushes leads to the Google Sheets mirror now, removes the rows of erased leads,
and retries pending notifications.

    python manage.py sync_leads          # pending and failed leads
    python manage.py sync_leads --all    # every lead (repairs a sheet edited by hand)
    python manage.py sync_leads --json   # one JSON summary on stdout, for scripts and cron

Runs next to the task worker safely: each batch is claimed with a conditional
UPDATE, so a lead is never pushed by both at once. Stops at the first batch the
API refuses (the rows stay pending with the error) instead of hammering it.
Exit status: 0 when nothing is left to push, 1 otherwise, 130 on Ctrl-C.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from core.outbox import outbox_release
from leads import selectors, services
from leads.models import Lead, SheetRowDeletion, SyncState
from leads.sheets import sheets_mirror_enabled


class Command(BaseCommand):
    help = (
        "Push pending (or, with --all, every) lead to the Google Sheets mirror, remove erased leads' rows; "
        "retry pending notifications."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="Push every lead, not only pending and failed ones.")
        parser.add_argument("--batch-size", type=int, default=50, help="Leads per Sheets request (default 50).")
        parser.add_argument("--json", action="store_true", help="Print one JSON summary and nothing else.")
        parser.add_argument("--no-notifications", action="store_true", help="Leave notifications alone.")

    def handle(self, *args: Any, **options: Any) -> None:
        quiet = options["json"] or options["verbosity"] == 0
        batch_size = max(1, min(options["batch_size"], 500))
        summary: dict[str, Any] = {
            "mirror": "on" if sheets_mirror_enabled() else "off",
            "synced": 0,
            "retrying": 0,
            "failed": 0,
            "rows_deleted": 0,
            "errors": [],
            "interrupted": False,
        }
        try:
            if summary["mirror"] == "off":
                if not quiet:
                    self.stderr.write(
                        "The Google Sheets mirror is off (set SHEETS_CREDENTIALS_FILE or "
                        "SHEETS_CREDENTIALS_JSON and SHEETS_SPREADSHEET_ID); no lead pushed."
                    )
            else:
                self._push_leads(summary, batch_size, every_lead=options["all"], quiet=quiet)
                if not summary["errors"]:
                    self._delete_erased_rows(summary, batch_size)
            if not options["no_notifications"]:
                summary["notifications"] = services.notifications_send_pending()
        except KeyboardInterrupt:
            summary["interrupted"] = True

        summary["remaining"] = Lead.objects.exclude(sync_state=SyncState.SYNCED).count()
        summary["deletions_remaining"] = SheetRowDeletion.objects.exclude(sync_state=SyncState.SYNCED).count()
        summary["finished_at"] = timezone.now().isoformat()
        if options["json"]:
            self.stdout.write(json.dumps(summary))
        elif not quiet:
            self._print_summary(summary)
        if summary["interrupted"]:
            raise CommandError("Interrupted; unfinished leads stay pending.", returncode=130)
        if summary["mirror"] == "on" and (summary["errors"] or summary["remaining"] or summary["deletions_remaining"]):
            problems = [f"{summary['remaining']} lead(s) are not in the sheet yet"]
            if summary["deletions_remaining"]:
                problems.append(f"{summary['deletions_remaining']} erased lead(s) are still in the sheet")
            raise CommandError("; ".join(problems) + ".", returncode=1)

    def _push_leads(self, summary: dict[str, Any], batch_size: int, *, every_lead: bool, quiet: bool) -> None:
        """Pending (or, with --all, every) lead in batches; stops at the first batch the API refuses."""
        if every_lead:
            with transaction.atomic():
                Lead.objects.update(**services.sync_pending_values())
        total = selectors.leads_to_sync().count()
        progress = tqdm(total=total, unit="lead", disable=quiet or total == 0, file=sys.stderr)
        for _ in range(math.ceil(total / batch_size) + 5):
            claim, batch = services.leads_claim(queryset=selectors.leads_to_sync(), limit=batch_size)
            if not batch:
                break
            try:
                report = services.leads_push(claim=claim, leads=batch, schedule_retries=False)
            except KeyboardInterrupt:
                outbox_release(Lead.objects.all(), fields=Lead.outbox_fields, claim=claim)
                raise
            for key in ("synced", "retrying", "failed"):
                summary[key] += getattr(report, key)
            summary["errors"] += report.errors
            progress.update(report.synced + report.retrying + report.failed)
            if report.errors:
                break
        progress.close()

    def _print_summary(self, summary: dict[str, Any]) -> None:
        self.stdout.write(
            f"Synced {summary['synced']} lead(s); {summary['retrying']} still pending, "
            f"{summary['failed']} failed; {summary['remaining']} not in the sheet."
        )
        if summary["rows_deleted"] or summary["deletions_remaining"]:
            self.stdout.write(
                f"Removed the rows of {summary['rows_deleted']} erased lead(s); "
                f"{summary['deletions_remaining']} removal(s) still to do."
            )
        for error in summary["errors"]:
            self.stderr.write(f"  error: {error}")
        if summary.get("notifications"):
            self.stdout.write(
                "Notifications: "
                + ", ".join(f"{count} {outcome}" for outcome, count in summary["notifications"].items())
            )

    def _delete_erased_rows(self, summary: dict[str, Any], batch_size: int) -> None:
        """The rows of erased leads, in batches, through the same claim/retry path as pushes."""
        for _ in range(math.ceil(selectors.sheet_deletions_to_sync().count() / batch_size) + 5):
            claim, deletions = services.sheet_deletions_claim(
                queryset=selectors.sheet_deletions_to_sync(), limit=batch_size
            )
            if not deletions:
                return
            try:
                report = services.sheet_rows_delete(claim=claim, deletions=deletions, schedule_retries=False)
            except KeyboardInterrupt:
                outbox_release(SheetRowDeletion.objects.all(), fields=SheetRowDeletion.outbox_fields, claim=claim)
                raise
            summary["rows_deleted"] += report.synced
            summary["errors"] += report.errors
            if report.errors:
                return
