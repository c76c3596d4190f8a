"""
Telling sales about a new lead: one small transport per channel.

Each `send()` either returns (delivered) or raises `NotificationError`, which
says whether retrying can help (`permanent`) and how long the peer asked us to
wait (`retry_after`). Retrying itself is the outbox's job
(`leads.services.notifications`, through `core.outbox`).

Sales is told about a new lead (`lead.created`) and about each unverified
contact attempt on an existing one (`lead.contact_attempt`: details that named
the lead from outside its conversations, which changed nothing on it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict

from django.conf import settings
from django.core.mail import send_mail

from core.netguard import FetchBlocked, guarded_request
from core.retry import retry_after_seconds
from leads.models import Lead, LeadContactAttempt, LeadNotification


class NotificationError(Exception):
    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


@dataclass(frozen=True)
class NotificationTargets:
    """Who is told: the recipients, the webhook URL, and the site URL that makes the email's link absolute."""

    emails: tuple[str, ...] = ()
    webhook_url: str = ""
    site_url: str = ""


# Staff edit the targets in admin (the bot settings, in `chatbot`, above this app):
# `chatbot` registers a reader of them here when it starts, so that `leads` imports no
# app above it. Empty edited values fall back to the environment's settings.
_edited_targets: Callable[[], NotificationTargets] | None = None


def notification_targets_source_set(source: Callable[[], NotificationTargets] | None) -> None:
    global _edited_targets
    _edited_targets = source


def notification_targets() -> NotificationTargets:
    """The edited recipients, webhook URL and site URL, each falling back to LEADS_NOTIFY_EMAILS, ... SITE_URL."""
    edited = _edited_targets() if _edited_targets is not None else NotificationTargets()
    return NotificationTargets(
        emails=edited.emails or tuple(settings.LEADS_NOTIFY_EMAILS),
        webhook_url=edited.webhook_url or settings.LEADS_WEBHOOK_URL,
        site_url=(edited.site_url or settings.SITE_URL).rstrip("/"),
    )


def lead_admin_url(*, lead_id: int, site_url: str) -> str:
    """The lead's admin page: absolute when a site URL is set, so that a mail client can open it."""
    path = f"/{settings.ADMIN_URL}leads/lead/{lead_id}/change/"
    return f"{site_url}{path}" if site_url else path


class LeadWebhookPayload(TypedDict, total=False):
    event: str
    lead: dict[str, Any]
    contact_attempt: dict[str, Any]


class Transport(Protocol):
    def send(self, *, lead: Lead, delivery_id: str, attempt: LeadContactAttempt | None = None) -> None: ...


def lead_webhook_payload(*, lead: Lead, attempt: LeadContactAttempt | None = None) -> LeadWebhookPayload:
    payload: LeadWebhookPayload = {
        "event": "lead.contact_attempt" if attempt is not None else "lead.created",
        "lead": {
            "id": lead.pk,
            "name": lead.name,
            "email": lead.email,
            "phone": lead.phone,
            "company": lead.company,
            "interest": lead.interest,
            "source": lead.source,
            "status": lead.status,
            "consent": lead.consent,
            "created_at": lead.created_at.isoformat(),
            "conversation_ids": [str(pk) for pk in lead.conversations.values_list("pk", flat=True)],
        },
    }
    if attempt is not None:
        payload["contact_attempt"] = {
            "id": attempt.pk,
            "verified": False,
            "source": attempt.source,
            "name": attempt.name,
            "email": attempt.email,
            "phone": attempt.phone,
            "company": attempt.company,
            "message": attempt.message,
            "consent": attempt.consent,
            "created_at": attempt.created_at.isoformat(),
        }
    return payload


def webhook_signature(*, body: bytes, secret: str) -> str:
    """The X-Signature header value: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookTransport:
    """POSTs the lead as JSON, signed with LEADS_WEBHOOK_SECRET; 2xx is delivered."""

    def send(self, *, lead: Lead, delivery_id: str, attempt: LeadContactAttempt | None = None) -> None:
        payload = lead_webhook_payload(lead=lead, attempt=attempt)
        self.post(payload=dict(payload), event=payload["event"], delivery_id=delivery_id)

    def post(self, *, payload: dict[str, Any], event: str, delivery_id: str, url: str = "") -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "tidewater-assistant-leads/1",
            "X-Signature": webhook_signature(body=body, secret=settings.LEADS_WEBHOOK_SECRET),
            "X-Lead-Event": event,
            "X-Delivery-Id": delivery_id,
        }
        try:  # through the fetch guard; the cause of a refusal is in the server log only
            with guarded_request(
                url=url or notification_targets().webhook_url,
                method="POST",
                body=body,
                headers=headers,
                timeout=settings.LEADS_WEBHOOK_TIMEOUT,
                follow_redirects=False,
            ) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
        except TimeoutError:
            raise NotificationError(f"webhook did not answer within {settings.LEADS_WEBHOOK_TIMEOUT:g}s") from None
        except FetchBlocked as exc:
            raise NotificationError("webhook could not be reached", permanent=not exc.transient) from None
        if 200 <= status < 300:
            return
        transient = status in (408, 429) or status >= 500
        raise NotificationError(
            f"webhook answered {status}",
            permanent=not transient,
            retry_after=retry_after_seconds(retry_after),
        )


class EmailTransport:
    """A plain-text email to the recipients (bot settings, else LEADS_NOTIFY_EMAILS) through Django's mail framework."""

    def send(self, *, lead: Lead, delivery_id: str, attempt: LeadContactAttempt | None = None) -> None:
        targets = notification_targets()
        who = lead.name or lead.email or lead.phone
        subject = f"New lead: {who}" + (f" ({lead.company})" if lead.company else "")
        lines = [
            f"Name: {lead.name or '-'}",
            f"Email: {lead.email or '-'}",
            f"Phone: {lead.phone or '-'}",
            f"Company: {lead.company or '-'}",
            f"Source: {lead.get_source_display()}",
            f"Interest: {lead.interest or '-'}",
            "",
            f"Open it in admin: {lead_admin_url(lead_id=lead.pk, site_url=targets.site_url)}",
        ]
        if attempt is not None:
            subject = f"Unverified contact attempt for lead: {who}"
            lines = [
                "Someone gave contact details that match this lead from outside its conversations.",
                "Nothing on the lead was changed; check before acting on them.",
                "",
                attempt.summary(),
                "",
                "The lead as it stands:",
                *lines,
            ]
        email_send(subject=subject, body="\n".join(lines), recipients=list(targets.emails))


def email_send(*, subject: str, body: str, recipients: list[str]) -> None:
    try:
        send_mail(subject, body, None, recipients, fail_silently=False)
    except (OSError, ValueError) as exc:  # smtplib's errors are OSErrors
        raise NotificationError(f"email not sent: {str(exc)[:300]}") from None


def transport_for(channel: str) -> Transport:
    if channel == LeadNotification.Channel.WEBHOOK:
        return WebhookTransport()
    return EmailTransport()


# --- A visitor waiting for a person (live handoff) ----------------------------------------


def waiting_webhook_payload(*, conversation_id: str, text: str, inbox_url: str) -> dict[str, Any]:
    return {
        "event": "conversation.waiting",
        "conversation": {"id": conversation_id, "message": text[:2000], "inbox": inbox_url},
    }


def waiting_visitor_send(*, channel: str, conversation_id: str, text: str, delivery_id: str) -> None:
    """
    Tells staff a visitor is waiting for a person, by the lead notifications'
    channels and targets. Sent once, not retried: a visitor waiting now is
    not helped by a message an hour later; the inbox shows them meanwhile.
    """
    targets = notification_targets()
    inbox_url = f"{targets.site_url}/{settings.ADMIN_URL}chatbot/staffinbox/#{conversation_id}"
    if channel == LeadNotification.Channel.WEBHOOK:
        payload = waiting_webhook_payload(conversation_id=conversation_id, text=text, inbox_url=inbox_url)
        WebhookTransport().post(payload=payload, event=payload["event"], delivery_id=delivery_id)
        return
    lines = ["A visitor asked to talk to a person:", "", text[:2000], "", f"Answer in the live inbox: {inbox_url}"]
    try:
        send_mail("A visitor is waiting for a person", "\n".join(lines), None, list(targets.emails))
    except (OSError, ValueError) as exc:
        raise NotificationError(f"email not sent: {str(exc)[:300]}") from None
