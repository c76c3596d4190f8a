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
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Iterable
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
from leads.models import Lead, LeadNotification, SyncState
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
MIRRORED_FIELDS = ("name", "email", "phone", "company", "interest", "source", "status", "owner_id",
                   "consent", "consent_at")
_CAPTURE_ATTEMPTS = 4


@dataclass(frozen=True)
class LeadCaptureResult:
    lead: Lead
    status: CaptureStatus


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
        email=details.email, phone=details.phone, name=details.name, company=details.company,
        interest=selectors.conversation_interest(conversation=conversation, current_text=text),
        source=Lead.Source.DETECTED, conversation=conversation, consent_text=None, extra=extra,
    )


def lead_submit_form(
    *, conversation: Conversation | None, name: str, email: str, phone: str, consent: bool,
    consent_text: str, source: str, company: str = "", message: str = "",
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
        email=email, phone=phone, name=name, company=company, interest=interest, source=source,
        conversation=conversation, consent_text=consent_text,
    )


def _clean_text(value: str | None) -> str:
    return " ".join((value or "").split())


def _lead_upsert(
    *, email: str, phone: str, name: str, company: str, interest: str, source: str,
    conversation: Conversation | None, consent_text: str | None, extra: Iterable[str] = (),
) -> LeadCaptureResult:
    extra = list(extra)
    for attempt in range(_CAPTURE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _lead_upsert_once(
                    email=email, phone=phone, name=name, company=company, interest=interest, source=source,
                    conversation=conversation, consent_text=consent_text, extra=extra,
                )
        except IntegrityError:
            # Another capture inserted the same email or phone between our
            # lookup and our write; the next attempt finds its row.
            if attempt == _CAPTURE_ATTEMPTS - 1:
                raise
            logger.info("lead capture raced another capture; retrying", extra={"attempt": attempt + 1})
    raise AssertionError("unreachable")


def _lead_upsert_once(
    *, email: str, phone: str, name: str, company: str, interest: str, source: str,
    conversation: Conversation | None, consent_text: str | None, extra: list[str],
) -> LeadCaptureResult:
    now = timezone.now()
    by_email = _locked(selectors.lead_find_by_email(email=email))
    by_phone = _locked(selectors.lead_find_by_phone(phone=phone))
    lead = by_email or by_phone
    notes: list[str] = list(extra)

    if lead is None:
        lead = Lead(
            email=email, phone=phone, name=name, company=company, interest=interest, source=source,
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
            **changes, sync_state=SyncState.PENDING, sync_version=uuid.uuid4(), sync_next_attempt_at=None,
            sync_attempts=0, updated_at=timezone.now(),
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
    if not sheets_mirror_enabled():
        return
    from leads.tasks import lead_sync

    task = lead_sync
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return  # left pending for the next `sync_leads`
        task = task.using(run_after=run_after)
    for lead_id in lead_ids:
        task.enqueue(lead_id)


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


def leads_claim(*, queryset: QuerySet[Lead], limit: int) -> tuple[uuid.UUID, list[Lead]]:
    """
    Claims up to `limit` leads of `queryset` with one conditional UPDATE: its
    WHERE repeats the queryset's conditions and "unclaimed or lease over", and
    the database evaluates it row by row as it writes, so of two workers racing
    for a lead only one gets it.
    """
    claim = uuid.uuid4()
    now = timezone.now()
    ids = list(queryset.values_list("pk", flat=True)[:limit])
    if not ids:
        return claim, []
    queryset.filter(pk__in=ids).filter(
        Q(sync_claimed_until__isnull=True) | Q(sync_claimed_until__lt=now)
    ).update(sync_claim=claim, sync_claimed_until=now + _claim_lease())
    return claim, list(Lead.objects.filter(sync_claim=claim).select_related("owner").order_by("created_at", "id"))


def lead_sheet_row(*, lead: Lead) -> list[Any]:
    owner = ""
    if lead.owner is not None:
        owner = lead.owner.get_full_name() or lead.owner.get_username()
    return [
        lead.pk, _sheet_time(lead.created_at), lead.name, lead.email, lead.phone, lead.company,
        lead.interest, lead.get_source_display(), lead.get_status_display(), owner,
        "yes" if lead.consent else "no", _sheet_time(lead.consent_at) if lead.consent_at else "",
    ]


def _sheet_time(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def leads_push(*, claim: uuid.UUID, leads: list[Lead], schedule_retries: bool) -> SyncReport:
    """
    Pushes claimed leads to the sheet and records the outcome on each row.

    A lead edited while its push was in flight stays pending (its version
    changed); the caller pushes it again.
    """
    report = SyncReport()
    if not leads:
        return report
    try:
        config = sheets_config_load()
        if config is None:
            _release(claim=claim, ids=[lead.pk for lead in leads])
            report.skipped = len(leads)
            return report
        result = LeadSheet(config).upsert([lead_sheet_row(lead=lead) for lead in leads])
    except SheetsError as error:
        logger.warning("Sheets push of %d lead(s) failed: %s", len(leads), error)
        report.errors.append(str(error))
        _leads_record_failure(
            claim=claim, leads=leads, error=str(error), report=report, schedule_retries=schedule_retries,
            permanent=isinstance(error, SheetsPermanentError),
            retry_after=error.retry_after if isinstance(error, SheetsTransientError) else None,
        )
        return report

    now = timezone.now()
    for lead in leads:
        done = Lead.objects.filter(pk=lead.pk, sync_claim=claim, sync_version=lead.sync_version).update(
            sync_state=SyncState.SYNCED, synced_at=now, sync_error="", sync_attempts=0,
            sync_next_attempt_at=None, sync_claim=None, sync_claimed_until=None,
            sheet_row=result.rows.get(lead.pk),
        )
        if done:
            report.synced += 1
        else:
            _release(claim=claim, ids=[lead.pk])
    return report


def _leads_record_failure(
    *, claim: uuid.UUID, leads: list[Lead], error: str, report: SyncReport, schedule_retries: bool,
    permanent: bool = False, retry_after: float | None = None,
) -> None:
    """Releases the claim, keeps the error, and schedules the next attempt (or gives up)."""
    now = timezone.now()
    retry_at: dict[datetime, list[int]] = {}
    for lead in leads:
        attempts = lead.sync_attempts + 1
        gave_up = permanent or attempts >= settings.LEADS_SYNC_MAX_ATTEMPTS
        next_attempt = None if gave_up else now + timedelta(
            seconds=retry_delay(attempts=attempts, retry_after=retry_after))
        updated = Lead.objects.filter(pk=lead.pk, sync_claim=claim).update(
            sync_state=SyncState.FAILED if gave_up else SyncState.PENDING,
            sync_error=error[:2000], sync_attempts=attempts, sync_next_attempt_at=next_attempt,
            sync_claim=None, sync_claimed_until=None,
        )
        if updated and gave_up:
            report.failed += 1
        elif updated:
            report.retrying += 1
            retry_at.setdefault(next_attempt, []).append(lead.pk)
    if schedule_retries:
        for moment, ids in retry_at.items():
            lead_sync_enqueue(lead_ids=ids, run_after=moment)


def _release(*, claim: uuid.UUID, ids: list[int]) -> None:
    Lead.objects.filter(pk__in=ids, sync_claim=claim).update(sync_claim=None, sync_claimed_until=None)


def lead_sync(*, lead_id: int) -> str:
    """
    The task body: pushes one lead unless it is synced, claimed by another
    worker, or waiting for a later retry. Loops while the lead keeps changing
    under the push, so the sheet ends with its latest version.
    """
    if not sheets_mirror_enabled():
        return "off"
    for _ in range(5):
        now = timezone.now()
        due = selectors.leads_to_sync().filter(pk=lead_id, sync_state=SyncState.PENDING).filter(
            Q(sync_next_attempt_at__isnull=True) | Q(sync_next_attempt_at__lte=now + timedelta(seconds=1))
        )
        claim, leads = leads_claim(queryset=due, limit=1)
        if not leads:
            return "nothing to do"
        try:
            report = leads_push(claim=claim, leads=leads, schedule_retries=True)
        except Exception as exc:
            # A bug or a database hiccup, not the API: still release the lead and
            # schedule its retry, or it would wait for the next `sync_leads`.
            _leads_record_failure(claim=claim, leads=leads, error=f"Unexpected error: {exc!r}",
                                  report=SyncReport(), schedule_retries=True)
            raise
        if report.synced:
            return "synced"
        if report.retrying:
            return "retry scheduled"
        if report.failed:
            return "failed"
    return "still changing"


# --- notifications ---------------------------------------------------------------------------


def _notifications_create(*, lead: Lead) -> None:
    channels = []
    if settings.LEADS_NOTIFY_EMAILS:
        channels.append(LeadNotification.Channel.EMAIL)
    if settings.LEADS_WEBHOOK_URL and settings.LEADS_WEBHOOK_SECRET:
        channels.append(LeadNotification.Channel.WEBHOOK)
    for channel in channels:
        LeadNotification.objects.create(lead=lead, channel=channel)


def notification_send(*, notification_id: int, schedule_retries: bool = True) -> str:
    """The task body: claims one notification, sends it, records the outcome."""
    now = timezone.now()
    claim = uuid.uuid4()
    claimed = LeadNotification.objects.filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + timedelta(seconds=1)),
        pk=notification_id, state=LeadNotification.State.PENDING,
    ).update(claim=claim, claimed_until=now + timedelta(seconds=settings.LEADS_WEBHOOK_TIMEOUT * 2 + 30))
    if not claimed:
        return "nothing to do"
    return _notification_deliver(claim=claim, schedule_retries=schedule_retries)


def _notification_deliver(*, claim: uuid.UUID, schedule_retries: bool) -> str:
    notification = LeadNotification.objects.select_related("lead").get(claim=claim)
    try:
        transport = transport_for(notification.channel)
        transport.send(lead=notification.lead, delivery_id=_delivery_id(notification))
    except NotificationError as error:
        attempts = notification.attempts + 1
        gave_up = error.permanent or attempts >= settings.LEADS_SYNC_MAX_ATTEMPTS
        next_attempt = None if gave_up else timezone.now() + timedelta(
            seconds=retry_delay(attempts=attempts, retry_after=error.retry_after))
        LeadNotification.objects.filter(pk=notification.pk, claim=claim).update(
            state=LeadNotification.State.FAILED if gave_up else LeadNotification.State.PENDING,
            attempts=attempts, last_error=str(error)[:2000], next_attempt_at=next_attempt,
            claim=None, claimed_until=None,
        )
        logger.warning("lead notification %s failed: %s", notification.pk, error)
        if not gave_up and schedule_retries:
            notification_enqueue(notification_id=notification.pk, run_after=next_attempt)
        return "failed" if gave_up else "retry scheduled"
    LeadNotification.objects.filter(pk=notification.pk, claim=claim).update(
        state=LeadNotification.State.SENT, sent_at=timezone.now(), attempts=notification.attempts + 1,
        last_error="", next_attempt_at=None, claim=None, claimed_until=None,
    )
    return "sent"


def _delivery_id(notification: LeadNotification) -> str:
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
            state=LeadNotification.State.PENDING)
        LeadNotification.objects.filter(pk=notification_id).update(next_attempt_at=None)
        result = notification_send(notification_id=notification_id, schedule_retries=False)
        outcome[result] = outcome.get(result, 0) + 1
    return outcome
