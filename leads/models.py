"""
Leads and their outboxes.

A lead carries its own Google Sheets outbox state (`sync_*` fields): whatever
saves a lead marks it pending in the same transaction, and the sync task or
`manage.py sync_leads` claims it with a conditional UPDATE. New-lead
notifications (email, webhook) get one `LeadNotification` row per channel, with
the same claim/retry fields, so a webhook failing never re-sends the email.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.outbox import OutboxFields
from leads.detection import email_normalize, phone_normalize


class SyncState(models.TextChoices):
    PENDING = "pending", "Pending"
    SYNCED = "synced", "Synced"
    FAILED = "failed", "Failed"


class SheetOutbox(models.Model):
    """
    Outbox state for one change the Google Sheet must reflect: claimed with a
    conditional UPDATE (`sync_claim` until `sync_claimed_until`), retried with
    backoff, given up as failed (core.outbox, through leads.services.sync).
    """

    outbox_fields: ClassVar[OutboxFields] = OutboxFields(
        state="sync_state",
        attempts="sync_attempts",
        error="sync_error",
        next_attempt_at="sync_next_attempt_at",
        claim="sync_claim",
        claimed_until="sync_claimed_until",
        done=SyncState.SYNCED,
    )

    sync_state = models.CharField(max_length=10, choices=SyncState.choices, default=SyncState.PENDING, db_index=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    sync_error = models.TextField(blank=True)
    sync_attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts since the last success.")
    sync_next_attempt_at = models.DateTimeField(null=True, blank=True)
    sync_claim = models.UUIDField(null=True, blank=True, editable=False)
    sync_claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Lead(SheetOutbox):
    class Status(models.TextChoices):
        NEW = "new", "New"
        CONTACTED = "contacted", "Contacted"
        QUALIFIED = "qualified", "Qualified"
        WON = "won", "Won"
        LOST = "lost", "Lost"

    class Source(models.TextChoices):
        DETECTED = "detected", "Detected in chat"
        FORM = "form", "Contact form"
        API = "api", "API"
        ADMIN = "admin", "Added in admin"

    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True, help_text="Stored lowercased.")
    phone = models.CharField(max_length=32, blank=True, help_text="E.164, e.g. +442079460958.")
    company = models.CharField(max_length=200, blank=True)
    interest = models.TextField(blank=True, help_text="The question that led to this lead.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.DETECTED)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW, db_index=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads"
    )
    notes = models.TextField(blank=True)
    conversations = models.ManyToManyField("conversations.Conversation", blank=True, related_name="leads")
    consent = models.BooleanField(default=False, help_text="Agreed to be contacted through the contact form.")
    consent_text = models.TextField(blank=True, help_text="The wording the visitor agreed to.")
    consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    sync_version = models.UUIDField(
        default=uuid.uuid4,
        editable=False,
        help_text="Changes whenever a mirrored field changes; a push only marks the lead synced "
        "if the version it pushed is still current.",
    )
    sheet_row = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="lead_unique_email",
                violation_error_message="A lead with this email address already exists.",
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=~models.Q(phone=""),
                name="lead_unique_phone",
                violation_error_message="A lead with this phone number already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"Lead {self.pk}"

    def clean(self) -> None:
        errors = {}
        if self.email:
            try:
                self.email = email_normalize(self.email)
            except ValueError as exc:
                errors["email"] = str(exc)
        if self.phone:
            try:
                self.phone = phone_normalize(self.phone)
            except ValueError as exc:
                errors["phone"] = str(exc)
        if errors:
            raise ValidationError(errors)

    def mark_sync_pending(self) -> None:
        """Sets the outbox fields for the next save; the caller saves."""
        self.sync_state = SyncState.PENDING
        self.sync_version = uuid.uuid4()
        self.sync_next_attempt_at = None
        self.sync_attempts = 0


class LeadContactAttempt(models.Model):
    """
    Contact details that named an existing lead (its email or phone) from
    outside that lead's own conversations. Anyone can type anyone's email, so
    they change nothing on the lead and link nothing to it: they are kept here,
    unverified, for sales to review (on the lead's page, in the sheet's notes
    column and in a notification).
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="contact_attempts")
    conversation = models.ForeignKey(
        "conversations.Conversation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_contact_attempts",
        help_text="Where the details were given; not one of the lead's conversations.",
    )
    source = models.CharField(max_length=10, choices=Lead.Source.choices)
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    company = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True, help_text="The question or message that came with the details.")
    consent = models.BooleanField(default=False)
    consent_text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "unverified contact attempt"

    def __str__(self) -> str:
        return f"Unverified contact attempt on lead {self.lead_id}"

    def summary(self) -> str:
        """One line for the sheet's notes column and the notifications."""
        given = [
            f"{label} {value}"
            for label, value in (
                ("name", self.name),
                ("email", self.email),
                ("phone", self.phone),
                ("company", self.company),
            )
            if value
        ]
        if self.message:
            given.append(f"message {self.message[:300]!r}")
        if self.consent:
            given.append("consent given")
        source = self.get_source_display().lower()
        moment = self.created_at or timezone.now()
        return f"{timezone.localtime(moment):%Y-%m-%d %H:%M} unverified contact attempt ({source}): " + "; ".join(given)


class SheetRowDeletion(SheetOutbox):
    """
    The outbox entry that removes an erased lead's row from the Google Sheet.
    The lead is gone from the database at once; this row remembers its id until
    the sheet has forgotten it too, through the same claim/retry path as pushes
    (a task, deferred retries, and `manage.py sync_leads`).
    """

    erased_lead_id = models.PositiveBigIntegerField(db_index=True)
    not_before = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A push of the lead claimed before the erasure may land until then; delete after it.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Sheet row of erased lead {self.erased_lead_id}: {self.sync_state}"


class LeadNotification(models.Model):
    """
    One "sales is told" delivery (email or webhook) for a new lead or an
    unverified contact attempt; an outbox row (core.outbox) of its own.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="notifications")
    contact_attempt = models.ForeignKey(
        LeadContactAttempt,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text="Empty for a new lead.",
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    outbox_fields: ClassVar[OutboxFields] = OutboxFields(done=State.SENT)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "channel"],
                condition=models.Q(contact_attempt__isnull=True),
                name="lead_notification_once_per_channel",
            ),
            models.UniqueConstraint(
                fields=["contact_attempt", "channel"],
                condition=models.Q(contact_attempt__isnull=False),
                name="lead_notification_once_per_attempt_and_channel",
            ),
        ]

    def __str__(self) -> str:
        about = f"contact attempt {self.contact_attempt_id} on lead" if self.contact_attempt_id else "lead"
        return f"{self.get_channel_display()} for {about} {self.lead_id}: {self.state}"
