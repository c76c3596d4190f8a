"""
Writes for leads, one module per concern:

- `capture`: contact details from chat messages and the contact form become
  leads, or unverified contact attempts on leads that exist;
- `edits`: sales' edits and bulk actions in admin;
- `sync`: the Google Sheets outbox (pushes of leads, removals of erased leads'
  rows);
- `notifications`: telling sales by email and webhook;
- `waiting`: telling staff a visitor waits for a person (live handoff);
- `privacy`: erasing a person, deleting leads.

The Sheets outbox and the notifications claim, retry and give up through one
helper, `core.outbox`. Callers import from `leads.services`, which re-exports
the public functions below.
"""

from leads.services.capture import (
    CaptureStatus,
    LeadCaptureResult,
    lead_capture_from_message,
    lead_submit_form,
)
from leads.services.edits import (
    lead_save_from_admin,
    leads_assign,
    leads_mark_contacted,
    leads_resync,
)
from leads.services.notifications import (
    notification_enqueue,
    notification_send,
    notification_test_email_send,
    notification_test_webhook_send,
    notifications_send_pending,
)
from leads.services.privacy import LeadErasure, lead_erase, leads_delete
from leads.services.sync import (
    MIRRORED_FIELDS,
    SHEET_NOTES_ATTEMPTS,
    SHEET_NOTES_MAX_CHARS,
    SyncReport,
    lead_sheet_row,
    lead_sync,
    lead_sync_enqueue,
    leads_claim,
    leads_push,
    sheet_deletions_claim,
    sheet_row_deletion_enqueue,
    sheet_row_deletion_run,
    sheet_rows_delete,
    sync_pending_values,
)
from leads.services.waiting import handoff_waiting_notify

__all__ = [
    "MIRRORED_FIELDS",
    "SHEET_NOTES_ATTEMPTS",
    "SHEET_NOTES_MAX_CHARS",
    "CaptureStatus",
    "LeadCaptureResult",
    "LeadErasure",
    "SyncReport",
    "handoff_waiting_notify",
    "lead_capture_from_message",
    "lead_erase",
    "lead_save_from_admin",
    "lead_sheet_row",
    "lead_submit_form",
    "lead_sync",
    "lead_sync_enqueue",
    "leads_assign",
    "leads_claim",
    "leads_delete",
    "leads_mark_contacted",
    "leads_push",
    "leads_resync",
    "notification_enqueue",
    "notification_send",
    "notification_test_email_send",
    "notification_test_webhook_send",
    "notifications_send_pending",
    "sheet_deletions_claim",
    "sheet_row_deletion_enqueue",
    "sheet_row_deletion_run",
    "sheet_rows_delete",
    "sync_pending_values",
]
