"""
Capture: contact details from chat messages and the contact form become leads,
or unverified contact attempts on leads that exist.

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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from leads import selectors
from leads.detection import contact_details_extract, email_normalize, phone_normalize
from leads.models import Lead, LeadContactAttempt
from leads.services.notifications import notifications_create
from leads.services.sync import MIRRORED_FIELDS, leads_mark_pending

if TYPE_CHECKING:
    from conversations.models import Conversation

logger = logging.getLogger(__name__)

CaptureStatus = Literal["captured", "updated"]
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


@dataclass(frozen=True)
class _Details:
    """What one message or form gave, normalised; `consent_text` is None when no consent was given."""

    email: str
    phone: str
    name: str
    company: str
    interest: str
    source: str
    consent_text: str | None
    extra: tuple[str, ...] = ()


def lead_capture_from_message(*, conversation: Conversation | None, text: str) -> LeadCaptureResult | None:
    """
    Detects contact details in a visitor message and captures them as a lead.

    None when the message holds no email and no phone. Otherwise the lead is
    created ("captured") or, for an email or phone already known, updated
    ("updated"), and linked to the conversation.
    """
    found = contact_details_extract(text=text)
    if not found:
        return None
    extra: list[str] = []
    extra += [f"email {email}" for email in found.emails[1:]]
    extra += [f"phone {phone}" for phone in found.phones[1:]]
    details = _Details(
        email=found.email,
        phone=found.phone,
        name=found.name,
        company=found.company,
        interest=selectors.conversation_interest(conversation=conversation, current_text=text),
        source=Lead.Source.DETECTED,
        consent_text=None,
        extra=tuple(extra),
    )
    return _lead_upsert(details=details, conversation=conversation)


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
    details = _Details(
        email=email,
        phone=phone,
        name=name,
        company=company,
        interest=message[:2000] or selectors.conversation_interest(conversation=conversation),
        source=source,
        consent_text=consent_text,
    )
    return _lead_upsert(details=details, conversation=conversation)


def _clean_text(value: str | None) -> str:
    return " ".join((value or "").split())


def _lead_upsert(*, details: _Details, conversation: Conversation | None) -> LeadCaptureResult:
    for attempt in range(_CAPTURE_ATTEMPTS):
        try:
            with transaction.atomic():
                return _lead_upsert_once(details=details, conversation=conversation)
        except IntegrityError:
            # Another capture inserted the same email or phone between our
            # lookup and our write; the next attempt finds its row.
            if attempt == _CAPTURE_ATTEMPTS - 1:
                raise
            logger.info("lead capture raced another capture; retrying", extra={"attempt": attempt + 1})
    raise AssertionError("unreachable")


def _lead_upsert_once(*, details: _Details, conversation: Conversation | None) -> LeadCaptureResult:
    by_email = _locked(selectors.lead_find_by_email(email=details.email))
    by_phone = _locked(selectors.lead_find_by_phone(phone=details.phone))
    lead = by_email or by_phone
    if lead is None:
        return _lead_create(details=details, conversation=conversation)
    if conversation is None or not lead.conversations.filter(pk=conversation.pk).exists():
        return _contact_attempt_record(lead=lead, conversation=conversation, details=details)
    return _lead_update(lead=lead, phone_holder=by_phone, conversation=conversation, details=details)


def _lead_create(*, details: _Details, conversation: Conversation | None) -> LeadCaptureResult:
    now = timezone.now()
    lead = Lead(
        email=details.email,
        phone=details.phone,
        name=details.name,
        company=details.company,
        interest=details.interest,
        source=details.source,
    )
    if details.consent_text is not None:
        lead.consent, lead.consent_text, lead.consent_at = True, details.consent_text, now
    if details.extra:
        lead.notes = _note_line(now, details.source, list(details.extra))
    lead.mark_sync_pending()
    lead.save()
    if conversation is not None:
        lead.conversations.add(conversation)
    notifications_create(lead=lead)
    return LeadCaptureResult(lead=lead, status="captured")


def _lead_update(
    *, lead: Lead, phone_holder: Lead | None, conversation: Conversation, details: _Details
) -> LeadCaptureResult:
    """
    Fills the lead's empty fields from one of its own conversations; values
    that differ from what it holds go to its notes instead.
    """
    now = timezone.now()
    notes = list(details.extra)
    before = _mirrored(lead)
    if details.email and lead.email != details.email:
        if not lead.email:
            lead.email = details.email
        else:
            notes.append(f"email {details.email}")
    if details.phone and lead.phone != details.phone:
        if phone_holder is not None and phone_holder.pk != lead.pk:
            notes.append(f"phone {details.phone}, which is on lead #{phone_holder.pk}")
        elif not lead.phone:
            lead.phone = details.phone
        else:
            notes.append(f"phone {details.phone}")
    for attribute, value in (("name", details.name), ("company", details.company)):
        current = getattr(lead, attribute)
        if value and not current:
            setattr(lead, attribute, value)
        elif value and current.casefold() != value.casefold():
            notes.append(f"{attribute} {value}")
    if details.interest and not lead.interest:
        lead.interest = details.interest
    if details.consent_text is not None:
        lead.consent, lead.consent_text, lead.consent_at = True, details.consent_text, now
    if notes:
        line = _note_line(now, details.source, notes)
        lead.notes = f"{lead.notes}\n{line}" if lead.notes else line
    if _mirrored(lead) != before:
        lead.mark_sync_pending()
    lead.save()
    lead.conversations.add(conversation)
    return LeadCaptureResult(lead=lead, status="updated")


def _contact_attempt_record(*, lead: Lead, conversation: Conversation | None, details: _Details) -> LeadCaptureResult:
    """
    Keeps details that named `lead` from outside its conversations, for sales
    to review; the lead itself keeps every field, its consent and its links.
    The same details from the same conversation are kept once.
    """
    values = {
        "lead": lead,
        "conversation": conversation,
        "source": details.source,
        "name": details.name[:200],
        "email": details.email,
        "phone": details.phone,
        "company": details.company[:200],
        "message": details.interest[:2000],
        "consent": details.consent_text is not None,
        "consent_text": details.consent_text or "",
    }
    earlier = LeadContactAttempt.objects.filter(lead=lead, conversation=conversation)
    attempt = earlier.filter(**values).first()
    # "updated" when this conversation gave details for this lead before, as
    # for a lead it created itself: the answer depends on nothing else.
    seen_before = conversation is not None and earlier.exists()
    if attempt is None:
        attempt = LeadContactAttempt.objects.create(**values)
        # The sheet's notes column lists the attempt; no field of the lead changes.
        leads_mark_pending(lead_ids=[lead.pk])
        notifications_create(lead=lead, attempt=attempt)
    logger.info(
        "contact details matched lead %s from outside its conversations: kept as attempt %s", lead.pk, attempt.pk
    )
    return LeadCaptureResult(lead=lead, status="updated" if seen_before else "captured", attempt=attempt)


def _locked(lead: Lead | None) -> Lead | None:
    """Re-reads the row FOR UPDATE (PostgreSQL) so two updates of one lead queue up."""
    if lead is None:
        return None
    return Lead.objects.select_for_update().filter(pk=lead.pk).first()


def _note_line(now: datetime, source: str, items: Iterable[str]) -> str:
    label = dict(Lead.Source.choices).get(source, source).lower()
    return f"{now:%Y-%m-%d %H:%M} ({label}): also gave " + "; ".join(items)


def _mirrored(lead: Lead) -> tuple[Any, ...]:
    return tuple(getattr(lead, attribute) for attribute in MIRRORED_FIELDS)
