"""
Telling sales: one `LeadNotification` per channel for a new lead or an
unverified contact attempt, delivered by a task through the same outbox
helper as the Sheets pushes (`core.outbox`), so a webhook failing never
re-sends the email.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from core.outbox import outbox_claim, outbox_complete, outbox_due, outbox_record_failure, task_enqueue
from leads import selectors
from leads.models import Lead, LeadContactAttempt, LeadNotification
from leads.notify import NotificationError, notification_targets, transport_for
from leads.services.sync import retry_policy

logger = logging.getLogger(__name__)

NOTIFICATION = LeadNotification.outbox_fields


def notifications_create(*, lead: Lead, attempt: LeadContactAttempt | None = None) -> None:
    """One notification per channel for a new lead, or for an unverified contact attempt on one."""
    channels = []
    targets = notification_targets()
    if targets.emails:
        channels.append(LeadNotification.Channel.EMAIL)
    if targets.webhook_url and settings.LEADS_WEBHOOK_SECRET:
        channels.append(LeadNotification.Channel.WEBHOOK)
    for channel in channels:
        LeadNotification.objects.create(lead=lead, contact_attempt=attempt, channel=channel)


def notification_enqueue(*, notification_id: int, run_after: datetime | None = None) -> None:
    """Enqueues a delivery, deferred when the task backend can defer (else `sync_leads` retries it)."""
    from leads.tasks import lead_notify

    task_enqueue(task=lead_notify, args=[notification_id], run_after=run_after)


def _notification_retry(ids: list[Any], moment: datetime) -> None:
    for notification_id in ids:
        notification_enqueue(notification_id=notification_id, run_after=moment)


def _claim_lease() -> timedelta:
    """Long enough for one delivery to time out, plus margin."""
    return timedelta(seconds=settings.LEADS_WEBHOOK_TIMEOUT * 2 + 30)


def notification_send(*, notification_id: int, schedule_retries: bool = True) -> str:
    """The task body: claims one notification, sends it, records the outcome."""
    due = outbox_due(LeadNotification.objects.filter(pk=notification_id), fields=NOTIFICATION)
    claim, claimed = outbox_claim(due, fields=NOTIFICATION, limit=1, lease=_claim_lease())
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
        outcome = outbox_record_failure(
            [notification],
            fields=NOTIFICATION,
            claim=claim,
            error=str(error),
            policy=retry_policy(),
            permanent=error.permanent,
            retry_after=error.retry_after,
            schedule=_notification_retry if schedule_retries else None,
        )
        logger.warning("lead notification %s failed: %s", notification.pk, error)
        return "failed" if outcome.failed else "retry scheduled"
    # `attempts` counts the successful delivery too: sales sees how many it took.
    outbox_complete(
        LeadNotification.objects.filter(pk=notification.pk),
        fields=NOTIFICATION,
        claim=claim,
        sent_at=timezone.now(),
        attempts=notification.attempts + 1,
    )
    return "sent"


def _delivery_id(notification: LeadNotification) -> str:
    if notification.contact_attempt_id:
        return f"lead-{notification.lead_id}-attempt-{notification.contact_attempt_id}-{notification.channel}"
    return f"lead-{notification.lead_id}-{notification.channel}"


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


def notification_test_email_send(*, recipients: list[str] | None = None, site_url: str = "") -> list[str]:
    """
    "Send a test" in the bot settings: one email at once (no outbox: staff wait
    for the outcome) to `recipients` as typed in the form, else the current
    ones. Raises NotificationError.
    """
    from leads.notify import NotificationTargets, email_send, lead_admin_url

    current = notification_targets()
    targets = NotificationTargets(emails=tuple(recipients or current.emails), site_url=site_url or current.site_url)
    if not targets.emails:
        raise NotificationError("No recipients: set them in the bot settings or LEADS_NOTIFY_EMAILS.", permanent=True)
    example = lead_admin_url(lead_id=1, site_url=targets.site_url)
    body = (
        "This is a test of the lead notifications of your website assistant.\n\n"
        f"A new lead's email links to its page in admin, like this: {example}"
    )
    email_send(subject="Test: lead notifications work", body=body, recipients=list(targets.emails))
    return list(targets.emails)


def notification_test_webhook_send(*, url: str = "") -> str:
    """
    "Send a test" for the webhook: a signed `test` event to `url` (else the
    current one), at once. Raises NotificationError.
    """
    from leads.notify import WebhookTransport

    url = url or notification_targets().webhook_url
    if not url:
        raise NotificationError("No webhook URL: set it in the bot settings or LEADS_WEBHOOK_URL.", permanent=True)
    if not settings.LEADS_WEBHOOK_SECRET:
        raise NotificationError("LEADS_WEBHOOK_SECRET is not set: no webhook is sent unsigned.", permanent=True)
    payload = {"event": "test", "message": "A test of the lead webhook of your website assistant."}
    WebhookTransport().post(payload=payload, event="test", delivery_id=f"test-{uuid.uuid4()}", url=url)
    return url
