"""Sales is told about each new lead by email and/or a signed webhook, through retried tasks."""

import hashlib
import hmac
import json
import time

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from leads.models import LeadNotification
from leads.services import lead_capture_from_message
from leads.tests.factories import ConversationFactory

pytestmark = pytest.mark.django_db

SECRET = "s3cret-shared-with-the-crm"


@pytest.fixture
def notify_by_email(settings, mirror_off):
    settings.LEADS_NOTIFY_EMAILS = ["sales@tidewater.test", "boss@tidewater.test"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def notify_by_webhook(settings, mirror_off, webhook_receiver):
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on loopback
    settings.LEADS_WEBHOOK_URL = webhook_receiver.url
    settings.LEADS_WEBHOOK_SECRET = SECRET
    settings.LEADS_WEBHOOK_TIMEOUT = 2
    settings.LEADS_SYNC_RETRY_BASE = 0.2
    return webhook_receiver


def capture(text, on_commit, conversation=None):
    with on_commit(execute=True):
        return lead_capture_from_message(conversation=conversation, text=text)


def test_a_new_lead_is_emailed_to_sales_once(notify_by_email, django_capture_on_commit_callbacks):
    conversation = ConversationFactory()
    capture("I'm Ana from Brightside, ana@brightside.io", django_capture_on_commit_callbacks, conversation)
    capture("ana@brightside.io again, +44 20 7946 0958", django_capture_on_commit_callbacks, conversation)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "New lead: Ana (Brightside)"
    assert message.to == ["sales@tidewater.test", "boss@tidewater.test"]
    assert "Email: ana@brightside.io" in message.body
    assert LeadNotification.objects.get().state == LeadNotification.State.SENT


def test_the_webhook_is_signed_with_the_shared_secret(notify_by_webhook, django_capture_on_commit_callbacks):
    lead = capture("ana@brightside.io", django_capture_on_commit_callbacks).lead

    [delivery] = notify_by_webhook.received
    expected = "sha256=" + hmac.new(SECRET.encode(), delivery["body"], hashlib.sha256).hexdigest()
    assert delivery["headers"]["X-Signature"] == expected
    assert delivery["headers"]["X-Delivery-Id"] == f"lead-{lead.pk}-webhook"
    payload = json.loads(delivery["body"])
    assert payload["event"] == "lead.created"
    assert (payload["lead"]["id"], payload["lead"]["email"]) == (lead.pk, "ana@brightside.io")


def test_a_failed_webhook_stays_pending_and_sync_leads_delivers_it_without_emailing_twice(
    notify_by_webhook, notify_by_email, django_capture_on_commit_callbacks
):
    notify_by_webhook.statuses = [503]

    capture("ana@brightside.io", django_capture_on_commit_callbacks)

    webhook = LeadNotification.objects.get(channel="webhook")
    assert (webhook.state, webhook.attempts, webhook.last_error) == ("pending", 1, "webhook answered 503")
    assert len(mail.outbox) == 1

    call_command("sync_leads", verbosity=0)

    webhook.refresh_from_db()
    assert webhook.state == LeadNotification.State.SENT and webhook.attempts == 2
    assert [d["status"] for d in notify_by_webhook.received] == [503, 204]
    assert len(mail.outbox) == 1


def test_a_webhook_refused_with_a_4xx_is_failed_at_once(notify_by_webhook, django_capture_on_commit_callbacks):
    notify_by_webhook.statuses = [410]

    capture("ana@brightside.io", django_capture_on_commit_callbacks)

    webhook = LeadNotification.objects.get()
    assert (webhook.state, webhook.next_attempt_at) == (LeadNotification.State.FAILED, None)


def test_without_a_secret_no_webhook_is_sent(settings, notify_by_webhook, django_capture_on_commit_callbacks):
    settings.LEADS_WEBHOOK_SECRET = ""

    capture("ana@brightside.io", django_capture_on_commit_callbacks)

    assert notify_by_webhook.received == [] and LeadNotification.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_failed_webhook_is_retried_by_a_deferred_task(settings, notify_by_webhook):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}
    }
    notify_by_webhook.statuses = [500]
    lead_capture_from_message(conversation=None, text="ana@brightside.io")

    run_worker()
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.task_path == "leads.tasks.lead_notify"
    time.sleep(max(0.0, (retry.run_after - retry.enqueued_at).total_seconds()) + 0.1)
    run_worker()

    assert LeadNotification.objects.get().state == LeadNotification.State.SENT
    assert [d["status"] for d in notify_by_webhook.received] == [500, 204]


def run_worker():
    call_command(
        "db_worker",
        "--batch",
        "--no-reload",
        "--no-startup-delay",
        "--queue-name",
        "*",
        "--interval",
        "0.01",
        verbosity=0,
    )


def test_an_unverified_contact_attempt_is_emailed_as_one(notify_by_email, django_capture_on_commit_callbacks):
    capture("I'm Ana, ana@brightside.io", django_capture_on_commit_callbacks, ConversationFactory())
    capture(
        "I'm Eve, ana@brightside.io, call +1 415 555 2671", django_capture_on_commit_callbacks, ConversationFactory()
    )

    assert len(mail.outbox) == 2
    attempt = mail.outbox[1]
    assert attempt.subject == "Unverified contact attempt for lead: Ana"
    assert "Nothing on the lead was changed" in attempt.body
    assert "name Eve; email ana@brightside.io; phone +14155552671" in attempt.body
    assert "Phone: -" in attempt.body  # the lead as it stands: the attempt's phone is not on it


def test_an_unverified_contact_attempt_is_its_own_webhook_event(notify_by_webhook, django_capture_on_commit_callbacks):
    lead = capture("ana@brightside.io", django_capture_on_commit_callbacks, ConversationFactory()).lead
    attempt = capture("ana@brightside.io, +1 415 555 2671", django_capture_on_commit_callbacks, None).attempt

    created, attempted = notify_by_webhook.received
    payload = json.loads(attempted["body"])
    assert attempted["headers"]["X-Lead-Event"] == "lead.contact_attempt"
    assert attempted["headers"]["X-Delivery-Id"] == f"lead-{lead.pk}-attempt-{attempt.pk}-webhook"
    assert payload["event"] == "lead.contact_attempt" and payload["lead"]["phone"] == ""
    assert payload["contact_attempt"]["phone"] == "+14155552671" and payload["contact_attempt"]["verified"] is False
    assert json.loads(created["body"])["event"] == "lead.created"
