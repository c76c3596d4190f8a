"""
Writes for leads: capture from chat and forms, admin edits, the Sheets outbox
and the new-lead notifications.

De-duplication rule. One person is one lead: the same email (case-insensitive)
or the same phone (E.164). The database enforces it with partial unique
indexes; the capture service looks the lead up, updates or creates it inside a
savepoint and, when a concurrent capture wins the race to the index, retries
and finds the winner's row. When one message carries the email of lead A and
the phone of lead B, **email wins**: the details go to lead A, the phone stays
on lead B (where the unique index keeps it) and lead A's notes record that the
phone belongs to lead B, so sales can merge them by hand. Values that differ
from what a lead already holds never overwrite it: they are appended to the
notes ("also gave ..."), so nothing a visitor typed is lost.

Who may change a lead. Only the lead's own conversations (those it was
captured or updated in) update it. Details that name an existing lead from
anywhere else (another conversation, the API without one) change none of its
fields or consent and link nothing: they become a `LeadContactAttempt` for
sales to review. The visitor is answered the same whether the email was known
or not: "captured" the first time a conversation gives details for a lead,
"updated" after that, whichever of the two paths they took.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from leads import selectors
from leads.detection import contact_details_extract, email_normalize, phone_normalize
from leads.models import Lead, LeadContactAttempt, LeadNotification, SheetOutbox, SheetRowDeletion, SyncState
from leads.notify import NotificationError, transport_for
from leads.sheets import (
    LeadSheet,
    SheetsError,
    SheetsPermanentError,
    SheetsTransientError,
    sheets_config_load,
    sheets_mirror_enabled,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from conversations.models import Conversation

logger = logging.getLogger(__name__)

CaptureStatus = Literal["captured", "updated"]
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
_CAPTURE_ATTEMPTS = 4


@dataclass(frozen=True)
class LeadCaptureResult:
    """
    `status` is what the visitor is told, and never says whether the email or
    phone was known from elsewhere. `attempt` is set when the details only
    became an unverified contact attempt on `lead` (server side only).
    """

    lead: Lead
    status: CaptureStatus
    attempt: LeadContactAttempt | None = None


# --- capture -------------------------------------------------------------------------


def lead_capture_from_message(*, conversation: Conversation | None, text: str) -> LeadCaptureResult | None:
    """
    Detects contact details in a visitor message and captures them as a lead.

    None when the message holds no email and no phone. Otherwise the lead is
    created ("captured") or, for an email or phone already known, updated
    ("updated"), and linked to the conversation.
    """
    details = contact_details_extract(text=text)
    if not details:
        return None
    extra: list[str] = []
    extra += [f"email {email}" for email in details.emails[1:]]
    extra += [f"phone {phone}" for phone in details.phones[1:]]
    return _lead_upsert(
        email=details.email,
        phone=details.phone,
        name=details.name,
        company=details.company,
        interest=selectors.conversation_interest(conversation=conversation, current_text=text),
        source=Lead.Source.DETECTED,
        conversation=conversation,
        consent_text=None,
        extra=extra,
    )


def lead_submit_form(
    *,
    conversation: Conversation | None,
    name: str,
    email: str,
    phone: str,
    consent: bool,
    consent_text: str,
    source: str,
    company: str = "",
    message: str = "",
) -> LeadCaptureResult:
    """
    The contact form (WebSocket `lead` frame, POST /api/leads/).

    Raises ValidationError with a message per field for bad input: no email and
    no phone, an invalid email or phone, consent not given or its text missing.
    """
    errors: dict[str, str] = {}
    name, company, message = _clean_text(name), _clean_text(company), (message or "").strip()
    email, phone, consent_text = (email or "").strip(), (phone or "").strip(), (consent_text or "").strip()
    if email:
        try:
            email = email_normalize(email)
        except ValueError as exc:
            errors["email"] = str(exc)
    if phone:
        try:
            phone = phone_normalize(phone)
        except ValueError as exc:
            errors["phone"] = str(exc)
    if not email and not phone and "email" not in errors and "phone" not in errors:
        errors["email"] = "Give an email address or a phone number so that we can reach you."
    if len(name) > 200:
        errors["name"] = "Keep the name under 200 characters."
    if len(company) > 200:
        errors["company"] = "Keep the company under 200 characters."
    if not consent:
        errors["consent"] = "Please agree to be contacted, or we cannot keep your details."
    elif not consent_text:
        errors["consent_text"] = "The consent wording shown to the visitor is required."
    if source not in {Lead.Source.FORM, Lead.Source.API}:
        errors["source"] = f"Unknown source {source!r}."
    if errors:
        raise ValidationError(errors)
    interest = message[:2000] or selectors.conversation_interest(conversation=conversation)
    return _lead_upsert(
        email=email,
        phone=phone,
        name=name,
        company=company,
        interest=interest,
        source=source,
        conversation=conversation,
        consent_text=consent_text,
    )


def _clean_text(value: str | None) -> str:
    return " ".join((value or "").split())


def _lead_upsert(
    *,
    email: str,
    phone: str,
    name: str,
    company: str,
    interest: str,
    source: str,
    conversation: Conversation | None,
    consent_text: str | None,
    extra: Iterable[str] = (),
) -> LeadCaptureResult:
    extra = list(extra)
    for attempt in range(_CAPTURE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _lead_upsert_once(
                    email=email,
                    phone=phone,
                    name=name,
                    company=company,
                    interest=interest,
                    source=source,
                    conversation=conversation,
                    consent_text=consent_text,
                    extra=extra,
                )
        except IntegrityError:
            # Another capture inserted the same email or phone between our
            # lookup and our write; the next attempt finds its row.
            if attempt == _CAPTURE_ATTEMPTS - 1:
                raise
            logger.info("lead capture raced another capture; retrying", extra={"attempt": attempt + 1})
    raise AssertionError("unreachable")


def _lead_upsert_once(
    *,
    email: str,
    phone: str,
    name: str,
    company: str,
    interest: str,
    source: str,
    conversation: Conversation | None,
    consent_text: str | None,
    extra: list[str],
) -> LeadCaptureResult:
    now = timezone.now()
    by_email = _locked(selectors.lead_find_by_email(email=email))
    by_phone = _locked(selectors.lead_find_by_phone(phone=phone))
    lead = by_email or by_phone
    notes: list[str] = list(extra)

    if lead is None:
        lead = Lead(
            email=email,
            phone=phone,
            name=name,
            company=company,
            interest=interest,
            source=source,
        )
        if consent_text is not None:
            lead.consent, lead.consent_text, lead.consent_at = True, consent_text, now
        if notes:
            lead.notes = _note_line(now, source, notes)
        lead.mark_sync_pending()
        lead.save()
        if conversation is not None:
            lead.conversations.add(conversation)
        _notifications_create(lead=lead)
        return LeadCaptureResult(lead=lead, status="captured")

    if conversation is None or not lead.conversations.filter(pk=conversation.pk).exists():
        return _contact_attempt_record(
            lead=lead,
            conversation=conversation,
            email=email,
            phone=phone,
            name=name,
            company=company,
            message=interest,
            source=source,
            consent_text=consent_text,
        )

    before = _mirrored(lead)
    if email and lead.email != email:
        if not lead.email:
            lead.email = email
        else:
            notes.append(f"email {email}")
    if phone and lead.phone != phone:
        if by_phone is not None and by_phone.pk != lead.pk:
            notes.append(f"phone {phone}, which is on lead #{by_phone.pk}")
        elif not lead.phone:
            lead.phone = phone
        else:
            notes.append(f"phone {phone}")
    for attribute, value in (("name", name), ("company", company)):
        current = getattr(lead, attribute)
        if value and not current:
            setattr(lead, attribute, value)
        elif value and current.casefold() != value.casefold():
            notes.append(f"{attribute} {value}")
    if interest and not lead.interest:
        lead.interest = interest
    if consent_text is not None:
        lead.consent, lead.consent_text, lead.consent_at = True, consent_text, now
    if notes:
        line = _note_line(now, source, notes)
        lead.notes = f"{lead.notes}\n{line}" if lead.notes else line
    if _mirrored(lead) != before:
        lead.mark_sync_pending()
    lead.save()
    if conversation is not None:
        lead.conversations.add(conversation)
    return LeadCaptureResult(lead=lead, status="updated")


def _contact_attempt_record(
    *,
    lead: Lead,
    conversation: Conversation | None,
    email: str,
    phone: str,
    name: str,
    company: str,
    message: str,
    source: str,
    consent_text: str | None,
) -> LeadCaptureResult:
    """
    Keeps details that named `lead` from outside its conversations, for sales
    to review; the lead itself keeps every field, its consent and its links.
    The same details from the same conversation are kept once.
    """
    values = {
        "lead": lead,
        "conversation": conversation,
        "source": source,
        "name": name[:200],
        "email": email,
        "phone": phone,
        "company": company[:200],
        "message": message[:2000],
        "consent": consent_text is not None,
        "consent_text": consent_text or "",
    }
    earlier = LeadContactAttempt.objects.filter(lead=lead, conversation=conversation)
    attempt = earlier.filter(**values).first()
    # "updated" when this conversation gave details for this lead before, as
    # for a lead it created itself: the answer depends on nothing else.
    seen_before = conversation is not None and earlier.exists()
    if attempt is None:
        attempt = LeadContactAttempt.objects.create(**values)
        # The sheet's notes column lists the attempt; no field of the lead changes.
        Lead.objects.filter(pk=lead.pk).update(
            sync_state=SyncState.PENDING,
            sync_version=uuid.uuid4(),
            sync_next_attempt_at=None,
            sync_attempts=0,
        )
        lead_id = lead.pk
        transaction.on_commit(lambda: lead_sync_enqueue(lead_ids=[lead_id]))
        _notifications_create(lead=lead, attempt=attempt)
    logger.info(
        "contact details matched lead %s from outside its conversations: kept as attempt %s", lead.pk, attempt.pk
    )
    return LeadCaptureResult(lead=lead, status="updated" if seen_before else "captured", attempt=attempt)


def _locked(lead: Lead | None) -> Lead | None:
    """Re-reads the row FOR UPDATE (PostgreSQL) so two updates of one lead queue up."""
    if lead is None:
        return None
    return Lead.objects.select_for_update().filter(pk=lead.pk).first()


def _note_line(now: datetime, source: str, items: list[str]) -> str:
    label = dict(Lead.Source.choices).get(source, source).lower()
    return f"{now:%Y-%m-%d %H:%M} ({label}): also gave " + "; ".join(items)


def _mirrored(lead: Lead) -> tuple[Any, ...]:
    return tuple(getattr(lead, attribute) for attribute in MIRRORED_FIELDS)


# --- sales edits -----------------------------------------------------------------------


def lead_save_from_admin(*, lead: Lead, changed_fields: Iterable[str]) -> Lead:
    """Saves an admin edit; a change to a mirrored field queues a Sheets push."""
    changed = set(changed_fields)
    if lead.pk is None:
        lead.source = Lead.Source.ADMIN
        lead.mark_sync_pending()
    elif changed & {attribute.removesuffix("_id") for attribute in MIRRORED_FIELDS}:
        lead.mark_sync_pending()
    lead.save()
    return lead


def leads_assign(*, leads: Iterable[Lead], owner: AbstractBaseUser) -> int:
    return _leads_bulk_update(leads=leads, owner=owner)


def leads_mark_contacted(*, leads: Iterable[Lead]) -> int:
    return _leads_bulk_update(leads=leads, status=Lead.Status.CONTACTED)


def leads_resync(*, leads: Iterable[Lead]) -> int:
    """Queues a fresh push of these leads (the admin "Resync" action)."""
    return _leads_bulk_update(leads=leads)


def _leads_bulk_update(*, leads: Iterable[Lead], **changes: Any) -> int:
    """
    One UPDATE that also marks the rows pending; `update()` fires no post_save,
    so the sync tasks are enqueued here, on commit.
    """
    ids = [lead.pk for lead in leads]
    with transaction.atomic():
        count = Lead.objects.filter(pk__in=ids).update(
            **changes,
            sync_state=SyncState.PENDING,
            sync_version=uuid.uuid4(),
            sync_next_attempt_at=None,
            sync_attempts=0,
            updated_at=timezone.now(),
        )
        transaction.on_commit(lambda: lead_sync_enqueue(lead_ids=ids))
    return count


# --- the Sheets outbox ---------------------------------------------------------------------


@dataclass
class SyncReport:
    synced: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)


def lead_sync_enqueue(*, lead_ids: Iterable[int], run_after: datetime | None = None) -> None:
    """Enqueues a push per lead, deferred when the task backend can defer."""
    from leads.tasks import lead_sync

    _sheet_task_enqueue(task=lead_sync, ids=lead_ids, run_after=run_after)


def sheet_row_deletion_enqueue(*, deletion_ids: Iterable[int], run_after: datetime | None = None) -> None:
    """Enqueues the removal of erased leads' rows, deferred when the task backend can defer."""
    from leads.tasks import lead_sheet_row_delete

    _sheet_task_enqueue(task=lead_sheet_row_delete, ids=deletion_ids, run_after=run_after)


def _sheet_task_enqueue(*, task: Any, ids: Iterable[int], run_after: datetime | None) -> None:
    if not sheets_mirror_enabled():
        return  # left pending for `sync_leads` once credentials are set
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # left pending for the next `sync_leads`
        task = task.using(run_after=run_after)
    for row_id in ids:
        task.enqueue(row_id)


def retry_delay(*, attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with ±20% jitter, capped, never sooner than Retry-After."""
    base = min(settings.LEADS_SYNC_RETRY_MAX, settings.LEADS_SYNC_RETRY_BASE * 2 ** max(0, attempts - 1))
    delay = base * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def _claim_lease() -> timedelta:
    """Long enough for every call of one push to time out, plus margin."""
    return timedelta(seconds=settings.SHEETS_TIMEOUT * 8 + 30)


def _outbox_claim(*, queryset: QuerySet[Any], limit: int) -> tuple[uuid.UUID, bool]:
    """
    Claims up to `limit` rows of `queryset` (leads or sheet-row deletions) with
    one conditional UPDATE: its WHERE repeats the queryset's conditions and
    "unclaimed or lease over", and the database evaluates it row by row as it
    writes, so of two workers racing for a row only one gets it.
    """
    claim = uuid.uuid4()
    now = timezone.now()
    ids = list(queryset.values_list("pk", flat=True)[:limit])
    if not ids:
        return claim, False
    queryset.filter(pk__in=ids).filter(Q(sync_claimed_until__isnull=True) | Q(sync_claimed_until__lt=now)).update(
        sync_claim=claim, sync_claimed_until=now + _claim_lease()
    )
    return claim, True


def leads_claim(*, queryset: QuerySet[Lead], limit: int) -> tuple[uuid.UUID, list[Lead]]:
    """Claims up to `limit` leads of `queryset` for a push (see `_outbox_claim`)."""
    claim, any_found = _outbox_claim(queryset=queryset, limit=limit)
    if not any_found:
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
    """Claims up to `limit` sheet-row deletions of `queryset` (see `_outbox_claim`)."""
    claim, any_found = _outbox_claim(queryset=queryset, limit=limit)
    if not any_found:
        return claim, []
    return claim, list(SheetRowDeletion.objects.filter(sync_claim=claim).order_by("created_at", "id"))


SHEET_NOTES_ATTEMPTS = 10
SHEET_NOTES_MAX_CHARS = 5000


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


def _sheet_call(
    *,
    claim: uuid.UUID,
    rows: Sequence[SheetOutbox],
    report: SyncReport,
    schedule_retries: bool,
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
            _release(claim=claim, rows=rows)
            report.skipped = len(rows)
            return None
        return call(LeadSheet(config))
    except SheetsError as error:
        logger.warning("Sheets call for %d row(s) failed: %s", len(rows), error)
        report.errors.append(str(error))
        _outbox_record_failure(
            claim=claim,
            rows=rows,
            error=str(error),
            report=report,
            schedule_retries=schedule_retries,
            permanent=isinstance(error, SheetsPermanentError),
            retry_after=error.retry_after if isinstance(error, SheetsTransientError) else None,
        )
        return None


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
        schedule_retries=schedule_retries,
        call=lambda sheet: sheet.upsert([lead_sheet_row(lead=lead) for lead in leads]),
    )
    if result is None:
        return report

    now = timezone.now()
    for lead in leads:
        done = Lead.objects.filter(pk=lead.pk, sync_claim=claim, sync_version=lead.sync_version).update(
            sync_state=SyncState.SYNCED,
            synced_at=now,
            sync_error="",
            sync_attempts=0,
            sync_next_attempt_at=None,
            sync_claim=None,
            sync_claimed_until=None,
            sheet_row=result.rows.get(lead.pk),
        )
        if done:
            report.synced += 1
        else:
            _release(claim=claim, rows=[lead])
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
        schedule_retries=schedule_retries,
        call=lambda sheet: sheet.delete([deletion.erased_lead_id for deletion in deletions]),
    )
    if removed is None:
        return report
    report.synced = SheetRowDeletion.objects.filter(pk__in=[d.pk for d in deletions], sync_claim=claim).update(
        sync_state=SyncState.SYNCED,
        synced_at=timezone.now(),
        sync_error="",
        sync_attempts=0,
        sync_next_attempt_at=None,
        sync_claim=None,
        sync_claimed_until=None,
    )
    return report


def _outbox_record_failure(
    *,
    claim: uuid.UUID,
    rows: Sequence[SheetOutbox],
    error: str,
    report: SyncReport,
    schedule_retries: bool,
    permanent: bool = False,
    retry_after: float | None = None,
) -> None:
    """Releases the claim, keeps the error, and schedules the next attempt (or gives up)."""
    now = timezone.now()
    retry_at: dict[datetime, list[int]] = {}
    for row in rows:
        attempts = row.sync_attempts + 1
        gave_up = permanent or attempts >= settings.LEADS_SYNC_MAX_ATTEMPTS
        next_attempt = (
            None if gave_up else now + timedelta(seconds=retry_delay(attempts=attempts, retry_after=retry_after))
        )
        updated = (
            type(row)
            ._default_manager.filter(pk=row.pk, sync_claim=claim)
            .update(
                sync_state=SyncState.FAILED if gave_up else SyncState.PENDING,
                sync_error=error[:2000],
                sync_attempts=attempts,
                sync_next_attempt_at=next_attempt,
                sync_claim=None,
                sync_claimed_until=None,
            )
        )
        if updated and gave_up:
            report.failed += 1
        elif updated:
            report.retrying += 1
            retry_at.setdefault(next_attempt, []).append(row.pk)
    if schedule_retries:
        for moment, ids in retry_at.items():
            if isinstance(rows[0], SheetRowDeletion):
                sheet_row_deletion_enqueue(deletion_ids=ids, run_after=moment)
            else:
                lead_sync_enqueue(lead_ids=ids, run_after=moment)


def _release(*, claim: uuid.UUID, rows: Sequence[SheetOutbox]) -> None:
    if rows:
        type(rows[0])._default_manager.filter(pk__in=[row.pk for row in rows], sync_claim=claim).update(
            sync_claim=None, sync_claimed_until=None
        )


def _due(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Pending rows whose next attempt has come (a second early: deferred tasks run on time, not later)."""
    return queryset.filter(sync_state=SyncState.PENDING).filter(
        Q(sync_next_attempt_at__isnull=True) | Q(sync_next_attempt_at__lte=timezone.now() + timedelta(seconds=1))
    )


def lead_sync(*, lead_id: int) -> str:
    """
    The task body: pushes one lead unless it is synced, claimed by another
    worker, or waiting for a later retry. Loops while the lead keeps changing
    under the push, so the sheet ends with its latest version.
    """
    if not sheets_mirror_enabled():
        return "off"
    for _ in range(5):
        claim, leads = leads_claim(queryset=_due(selectors.leads_to_sync().filter(pk=lead_id)), limit=1)
        if not leads:
            return "nothing to do"
        with _failures_recorded(claim=claim, rows=leads):
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
    due = _due(selectors.sheet_deletions_to_sync().filter(pk=deletion_id))
    claim, deletions = sheet_deletions_claim(queryset=due, limit=1)
    if not deletions:
        return "nothing to do"
    with _failures_recorded(claim=claim, rows=deletions):
        report = sheet_rows_delete(claim=claim, deletions=deletions, schedule_retries=True)
    return "deleted" if report.synced else "retry scheduled" if report.retrying else "failed"


@contextmanager
def _failures_recorded(*, claim: uuid.UUID, rows: Sequence[SheetOutbox]) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        # A bug or a database hiccup, not the API: still release the rows and
        # schedule their retry, or they would wait for the next `sync_leads`.
        _outbox_record_failure(
            claim=claim, rows=rows, error=f"Unexpected error: {exc!r}", report=SyncReport(), schedule_retries=True
        )
        raise


# --- privacy: erasure -----------------------------------------------------------------------


@dataclass(frozen=True)
class LeadErasure:
    lead_id: int
    conversations: int
    messages: int
    contact_attempts: int
    notifications: int
    sheet_row_deletion_id: int

    def describe(self) -> str:
        return (
            f"Erased lead {self.lead_id} with {self.conversations} conversation(s), {self.messages} "
            f"message(s), {self.contact_attempts} contact attempt(s) and {self.notifications} "
            f"notification(s); its Google Sheet row is queued for removal "
            f"(deletion #{self.sheet_row_deletion_id})."
        )


def lead_erase(*, lead: Lead, actor: AbstractBaseUser) -> LeadErasure:
    """
    Erases a person: the lead, its conversations with their messages, its
    notifications and contact attempts, the conversations those attempts came
    from unless another lead holds them, and the person's name or email in
    earlier admin history. Its Google Sheet row is removed through the outbox
    (`SheetRowDeletion`), so a Sheets outage delays the removal but cannot lose
    it. One transaction, audited in admin history as a deletion by `actor`.
    """
    from django.contrib.admin.models import DELETION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from conversations.models import Conversation, Message

    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        own = set(locked.conversations.values_list("pk", flat=True))
        attempted_from = set(locked.contact_attempts.exclude(conversation=None).values_list("conversation", flat=True))
        held_elsewhere = set(
            Lead.conversations.through.objects.filter(conversation__in=attempted_from)
            .exclude(lead=locked)
            .values_list("conversation", flat=True)
        )
        conversation_ids = own | (attempted_from - held_elsewhere)
        counts = {
            "conversations": len(conversation_ids),
            "messages": Message.objects.filter(conversation__in=conversation_ids).count(),
            "contact_attempts": locked.contact_attempts.count(),
            "notifications": locked.notifications.count(),
        }
        deletion = _sheet_row_deletion_queue(lead=locked)
        content_type = ContentType.objects.get_for_model(Lead)
        erased_repr = f"Lead {locked.pk} (erased)"
        LogEntry.objects.filter(content_type=content_type, object_id=str(locked.pk)).update(object_repr=erased_repr)
        erasure = LeadErasure(lead_id=locked.pk, sheet_row_deletion_id=deletion.pk, **counts)
        LogEntry.objects.create(
            user_id=actor.pk,
            content_type=content_type,
            object_id=str(locked.pk),
            object_repr=erased_repr,
            action_flag=DELETION,
            change_message=erasure.describe(),
        )
        Conversation.objects.filter(pk__in=conversation_ids).delete()
        locked.delete()
    logger.info("lead %s erased by user %s", erasure.lead_id, actor.pk)
    return erasure


def leads_delete(*, leads: Iterable[Lead]) -> int:
    """
    Deletes leads (admin's plain delete) and queues the removal of their rows
    from the Google Sheet; their conversations stay (erasure removes those).
    """
    with transaction.atomic():
        locked = list(Lead.objects.select_for_update().filter(pk__in=[lead.pk for lead in leads]))
        for lead in locked:
            _sheet_row_deletion_queue(lead=lead)
        Lead.objects.filter(pk__in=[lead.pk for lead in locked]).delete()
    return len(locked)


def _sheet_row_deletion_queue(*, lead: Lead) -> SheetRowDeletion:
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


# --- notifications ---------------------------------------------------------------------------


def _notifications_create(*, lead: Lead, attempt: LeadContactAttempt | None = None) -> None:
    """One notification per channel for a new lead, or for an unverified contact attempt on one."""
    channels = []
    if settings.LEADS_NOTIFY_EMAILS:
        channels.append(LeadNotification.Channel.EMAIL)
    if settings.LEADS_WEBHOOK_URL and settings.LEADS_WEBHOOK_SECRET:
        channels.append(LeadNotification.Channel.WEBHOOK)
    for channel in channels:
        LeadNotification.objects.create(lead=lead, contact_attempt=attempt, channel=channel)


def notification_send(*, notification_id: int, schedule_retries: bool = True) -> str:
    """The task body: claims one notification, sends it, records the outcome."""
    now = timezone.now()
    claim = uuid.uuid4()
    claimed = LeadNotification.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + timedelta(seconds=1)),
        pk=notification_id,
        state=LeadNotification.State.PENDING,
    ).update(claim=claim, claimed_until=now + timedelta(seconds=settings.LEADS_WEBHOOK_TIMEOUT * 2 + 30))
    if not claimed:
        return "nothing to do"
    return _notification_deliver(claim=claim, schedule_retries=schedule_retries)


def _notification_deliver(*, claim: uuid.UUID, schedule_retries: bool) -> str:
    notification = LeadNotification.objects.select_related("lead", "contact_attempt").filter(claim=claim).first()
    if notification is None:
        return "erased"  # the person was erased between the claim and now
    try:
        transport = transport_for(notification.channel)
        transport.send(
            lead=notification.lead, delivery_id=_delivery_id(notification), attempt=notification.contact_attempt
        )
    except NotificationError as error:
        attempts = notification.attempts + 1
        gave_up = error.permanent or attempts >= settings.LEADS_SYNC_MAX_ATTEMPTS
        next_attempt = (
            None
            if gave_up
            else timezone.now() + timedelta(seconds=retry_delay(attempts=attempts, retry_after=error.retry_after))
        )
        LeadNotification.objects.filter(pk=notification.pk, claim=claim).update(
            state=LeadNotification.State.FAILED if gave_up else LeadNotification.State.PENDING,
            attempts=attempts,
            last_error=str(error)[:2000],
            next_attempt_at=next_attempt,
            claim=None,
            claimed_until=None,
        )
        logger.warning("lead notification %s failed: %s", notification.pk, error)
        if not gave_up and schedule_retries:
            notification_enqueue(notification_id=notification.pk, run_after=next_attempt)
        return "failed" if gave_up else "retry scheduled"
    LeadNotification.objects.filter(pk=notification.pk, claim=claim).update(
        state=LeadNotification.State.SENT,
        sent_at=timezone.now(),
        attempts=notification.attempts + 1,
        last_error="",
        next_attempt_at=None,
        claim=None,
        claimed_until=None,
    )
    return "sent"


def _delivery_id(notification: LeadNotification) -> str:
    if notification.contact_attempt_id:
        return f"lead-{notification.lead_id}-attempt-{notification.contact_attempt_id}-{notification.channel}"
    return f"lead-{notification.lead_id}-{notification.channel}"


def notification_enqueue(*, notification_id: int, run_after: datetime | None = None) -> None:
    from leads.tasks import lead_notify

    task = lead_notify
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=run_after)
    task.enqueue(notification_id)


def notifications_send_pending(*, limit: int = 500) -> dict[str, int]:
    """Retries every pending or failed notification now (part of `sync_leads`)."""
    outcome: dict[str, int] = {}
    for notification_id in list(selectors.notifications_to_send().values_list("pk", flat=True)[:limit]):
        LeadNotification.objects.filter(pk=notification_id, state=LeadNotification.State.FAILED).update(
            state=LeadNotification.State.PENDING
        )
        LeadNotification.objects.filter(pk=notification_id).update(next_attempt_at=None)
        result = notification_send(notification_id=notification_id, schedule_retries=False)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome
