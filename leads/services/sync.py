"""
The Google Sheets outbox: pushes of leads and removals of erased leads' rows.

Whatever changes a mirrored field marks the lead pending in the same
transaction; a task per lead (and `manage.py sync_leads`, in batches) claims
pending rows through `core.outbox`, calls the sheet outside any transaction,
and records the outcome on each row. A lead edited while its push was in
flight stays pending (its `sync_version` changed) and is pushed again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.outbox import (
    RetryPolicy,
    outbox_claim,
    outbox_complete,
    outbox_due,
    outbox_record_failure,
    outbox_release,
    task_enqueue,
)
from leads import selectors
from leads.models import Lead, SheetOutbox, SheetRowDeletion, SyncState
from leads.sheets import (
    LeadSheet,
    SheetsError,
    SheetsPermanentError,
    SheetsTransientError,
    sheets_config_load,
    sheets_mirror_enabled,
)

logger = logging.getLogger(__name__)

SHEET = SheetOutbox.outbox_fields
MIRRORED_FIELDS = (
    "name",
    "email",
    "phone",
    "company",
    "interest",
    "source",
    "status",
    "owner_id",
    "consent",
    "consent_at",
    "notes",
)
SHEET_NOTES_ATTEMPTS = 10
SHEET_NOTES_MAX_CHARS = 5000

Retry = Callable[[list[Any], datetime], None]


@dataclass
class SyncReport:
    synced: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def retry_policy() -> RetryPolicy:
    """The LEADS_SYNC_* retry settings, shared by the Sheets outbox and the notifications."""
    return RetryPolicy(
        max_attempts=settings.LEADS_SYNC_MAX_ATTEMPTS,
        base=settings.LEADS_SYNC_RETRY_BASE,
        cap=settings.LEADS_SYNC_RETRY_MAX,
    )


# --- marking and enqueueing ---------------------------------------------------------------


def sync_pending_values() -> dict[str, Any]:
    """The outbox fields of a lead whose next version must reach the sheet (as `Lead.mark_sync_pending`)."""
    return {
        "sync_state": SyncState.PENDING,
        "sync_version": uuid.uuid4(),
        "sync_next_attempt_at": None,
        "sync_attempts": 0,
    }


def leads_mark_pending(*, lead_ids: list[int], **changes: Any) -> int:
    """
    One UPDATE that writes `changes` and marks the leads pending; `update()`
    fires no post_save, so their pushes are enqueued here, on commit.
    """
    count = Lead.objects.filter(pk__in=lead_ids).update(**changes, **sync_pending_values())
    transaction.on_commit(lambda: lead_sync_enqueue(lead_ids=lead_ids))
    return count


def lead_sync_enqueue(*, lead_ids: Iterable[int], run_after: datetime | None = None) -> None:
    """Enqueues a push per lead, deferred when the task backend can defer."""
    from leads.tasks import lead_sync

    _sheet_task_enqueue(task=lead_sync, ids=lead_ids, run_after=run_after)


def sheet_row_deletion_enqueue(*, deletion_ids: Iterable[int], run_after: datetime | None = None) -> None:
    """Enqueues the removal of erased leads' rows, deferred when the task backend can defer."""
    from leads.tasks import lead_sheet_row_delete

    _sheet_task_enqueue(task=lead_sheet_row_delete, ids=deletion_ids, run_after=run_after)


def _sheet_task_enqueue(*, task: Any, ids: Iterable[int], run_after: datetime | None) -> None:
    # With the mirror off, or a backend that cannot defer a retry, the rows
    # stay pending for `sync_leads`.
    if sheets_mirror_enabled():
        task_enqueue(task=task, args=ids, run_after=run_after)


def _lead_retry(ids: list[Any], moment: datetime) -> None:
    lead_sync_enqueue(lead_ids=ids, run_after=moment)


def _deletion_retry(ids: list[Any], moment: datetime) -> None:
    sheet_row_deletion_enqueue(deletion_ids=ids, run_after=moment)


def sheet_row_deletion_queue(*, lead: Lead) -> SheetRowDeletion:
    """
    The outbox entry that removes `lead`'s row from the sheet, enqueued once
    the caller's transaction commits. A push claimed before now may still land,
    so the removal waits for that push's lease to run out.
    """
    now = timezone.now()
    in_flight = lead.sync_claimed_until if lead.sync_claimed_until and lead.sync_claimed_until > now else None
    deletion = SheetRowDeletion.objects.create(erased_lead_id=lead.pk, not_before=in_flight)
    transaction.on_commit(lambda: sheet_row_deletion_enqueue(deletion_ids=[deletion.pk], run_after=in_flight))
    return deletion


# --- claiming ---------------------------------------------------------------------------------


def _claim_lease() -> timedelta:
    """Long enough for every call of one push to time out, plus margin."""
    return timedelta(seconds=settings.SHEETS_TIMEOUT * 8 + 30)


def leads_claim(*, queryset: QuerySet[Lead], limit: int) -> tuple[uuid.UUID, list[Lead]]:
    """Claims up to `limit` leads of `queryset` for a push (see `core.outbox.outbox_claim`)."""
    claim, claimed = outbox_claim(queryset, fields=SHEET, limit=limit, lease=_claim_lease())
    if not claimed:
        return claim, []
    return claim, list(
        Lead.objects.filter(sync_claim=claim)
        .select_related("owner")
        .prefetch_related("contact_attempts")
        .order_by("created_at", "id")
    )


def sheet_deletions_claim(
    *,
    queryset: QuerySet[SheetRowDeletion],
    limit: int,
) -> tuple[uuid.UUID, list[SheetRowDeletion]]:
    """Claims up to `limit` sheet-row deletions of `queryset` (see `core.outbox.outbox_claim`)."""
    claim, claimed = outbox_claim(queryset, fields=SHEET, limit=limit, lease=_claim_lease())
    if not claimed:
        return claim, []
    return claim, list(SheetRowDeletion.objects.filter(sync_claim=claim).order_by("created_at", "id"))


# --- the sheet's rows ---------------------------------------------------------------------------


def lead_sheet_row(*, lead: Lead) -> list[Any]:
    owner = ""
    if lead.owner is not None:
        owner = lead.owner.get_full_name() or lead.owner.get_username()
    return [
        lead.pk,
        _sheet_time(lead.created_at),
        lead.name,
        lead.email,
        lead.phone,
        lead.company,
        lead.interest,
        lead.get_source_display(),
        lead.get_status_display(),
        owner,
        "yes" if lead.consent else "no",
        _sheet_time(lead.consent_at) if lead.consent_at else "",
        _sheet_notes(lead),
    ]


def _sheet_notes(lead: Lead) -> str:
    """The lead's notes, then its latest unverified contact attempts (newest first)."""
    lines = [lead.notes.strip()] if lead.notes.strip() else []
    lines += [attempt.summary() for attempt in lead.contact_attempts.all()[:SHEET_NOTES_ATTEMPTS]]
    text = "\n".join(lines)
    return text if len(text) <= SHEET_NOTES_MAX_CHARS else text[: SHEET_NOTES_MAX_CHARS - 1] + "…"


def _sheet_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


# --- pushing and removing -----------------------------------------------------------------------


def leads_push(*, claim: uuid.UUID, leads: list[Lead], schedule_retries: bool) -> SyncReport:
    """
    Pushes claimed leads to the sheet and records the outcome on each row.

    A lead edited while its push was in flight stays pending (its version
    changed); the caller pushes it again.
    """
    report = SyncReport()
    if not leads:
        return report
    result = _sheet_call(
        claim=claim,
        rows=leads,
        report=report,
        retry=_lead_retry if schedule_retries else None,
        call=lambda sheet: sheet.upsert([lead_sheet_row(lead=lead) for lead in leads]),
    )
    if result is None:
        return report

    now = timezone.now()
    for lead in leads:
        done = outbox_complete(
            Lead.objects.filter(pk=lead.pk, sync_version=lead.sync_version),
            fields=SHEET,
            claim=claim,
            synced_at=now,
            sheet_row=result.rows.get(lead.pk),
        )
        if done:
            report.synced += 1
        else:
            outbox_release(Lead.objects.filter(pk=lead.pk), fields=SHEET, claim=claim)
    return report


def sheet_rows_delete(
    *,
    claim: uuid.UUID,
    deletions: list[SheetRowDeletion],
    schedule_retries: bool,
) -> SyncReport:
    """Removes the rows of claimed erased leads from the sheet and records the outcome."""
    report = SyncReport()
    if not deletions:
        return report
    removed = _sheet_call(
        claim=claim,
        rows=deletions,
        report=report,
        retry=_deletion_retry if schedule_retries else None,
        call=lambda sheet: sheet.delete([deletion.erased_lead_id for deletion in deletions]),
    )
    if removed is None:
        return report
    report.synced = outbox_complete(
        SheetRowDeletion.objects.filter(pk__in=[deletion.pk for deletion in deletions]),
        fields=SHEET,
        claim=claim,
        synced_at=timezone.now(),
    )
    return report


def _sheet_call(
    *,
    claim: uuid.UUID,
    rows: Sequence[SheetOutbox],
    report: SyncReport,
    retry: Retry | None,
    call: Callable[[LeadSheet], Any],
) -> Any:
    """
    Runs `call` against the sheet for claimed outbox rows. On a Sheets error the
    rows keep the error and get their retry (or give up); with the mirror off
    they are released untouched. Either way the caller gets None.
    """
    try:
        config = sheets_config_load()
        if config is None:
            outbox_release(_same_rows(rows), fields=SHEET, claim=claim)
            report.skipped = len(rows)
            return None
        return call(LeadSheet(config))
    except SheetsError as error:
        logger.warning("Sheets call for %d row(s) failed: %s", len(rows), error)
        report.errors.append(str(error))
        _failure_record(
            claim=claim,
            rows=rows,
            error=str(error),
            report=report,
            retry=retry,
            permanent=isinstance(error, SheetsPermanentError),
            retry_after=error.retry_after if isinstance(error, SheetsTransientError) else None,
        )
        return None


def _same_rows(rows: Sequence[SheetOutbox]) -> QuerySet[Any]:
    return type(rows[0])._default_manager.filter(pk__in=[row.pk for row in rows])


def _failure_record(
    *,
    claim: uuid.UUID,
    rows: Sequence[SheetOutbox],
    error: str,
    report: SyncReport,
    retry: Retry | None,
    permanent: bool = False,
    retry_after: float | None = None,
) -> None:
    """Releases the claim, keeps the error, and schedules the next attempt (or gives up)."""
    outcome = outbox_record_failure(
        rows,
        fields=SHEET,
        claim=claim,
        error=error,
        policy=retry_policy(),
        permanent=permanent,
        retry_after=retry_after,
        schedule=retry,
    )
    report.failed += len(outcome.failed)
    report.retrying += outcome.retrying_count


@contextmanager
def _failures_recorded(*, claim: uuid.UUID, rows: Sequence[SheetOutbox], retry: Retry) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        # A bug or a database hiccup, not the API: still release the rows and
        # schedule their retry, or they would wait for the next `sync_leads`.
        _failure_record(claim=claim, rows=rows, error=f"Unexpected error: {exc!r}", report=SyncReport(), retry=retry)
        raise


# --- the task bodies -------------------------------------------------------------------------------


def lead_sync(*, lead_id: int) -> str:
    """
    The task body: pushes one lead unless it is synced, claimed by another
    worker, or waiting for a later retry. Loops while the lead keeps changing
    under the push, so the sheet ends with its latest version.
    """
    if not sheets_mirror_enabled():
        return "off"
    for _ in range(5):
        due = outbox_due(selectors.leads_to_sync().filter(pk=lead_id), fields=SHEET)
        claim, leads = leads_claim(queryset=due, limit=1)
        if not leads:
            return "nothing to do"
        with _failures_recorded(claim=claim, rows=leads, retry=_lead_retry):
            report = leads_push(claim=claim, leads=leads, schedule_retries=True)
        if report.synced:
            return "synced"
        if report.retrying:
            return "retry scheduled"
        if report.failed:
            return "failed"
    return "still changing"


def sheet_row_deletion_run(*, deletion_id: int) -> str:
    """The task body: removes one erased lead's row from the sheet, unless done, claimed or not due."""
    if not sheets_mirror_enabled():
        return "off"
    due = outbox_due(selectors.sheet_deletions_to_sync().filter(pk=deletion_id), fields=SHEET)
    claim, deletions = sheet_deletions_claim(queryset=due, limit=1)
    if not deletions:
        return "nothing to do"
    with _failures_recorded(claim=claim, rows=deletions, retry=_deletion_retry):
        report = sheet_rows_delete(claim=claim, deletions=deletions, schedule_retries=True)
    return "deleted" if report.synced else "retry scheduled" if report.retrying else "failed"
