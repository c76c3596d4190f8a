"""
The Sheets outbox: a saved lead is pending in the same transaction, a task
enqueued on commit pushes it, failures stay pending and retry with backoff.
"""

import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from leads import services
from leads.models import Lead, SyncState
from leads.services import lead_capture_from_message, lead_save_from_admin
from leads.tests.factories import LeadFactory
from leads.tests.helpers import sheet_ids

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}}


def test_a_new_lead_reaches_the_sheet_only_after_the_transaction_commits(
    fake_sheets, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        lead_capture_from_message(conversation=None, text="I'm Ana, ana@brightside.io")
        assert fake_sheets.api_calls() == []
        assert Lead.objects.get().sync_state == SyncState.PENDING

    lead = Lead.objects.get()
    assert lead.sync_state == SyncState.SYNCED
    assert lead.synced_at is not None and lead.sheet_row == 2 and lead.sync_error == ""
    rows = fake_sheets.rows("Leads")
    assert rows[1][:4] == [str(lead.pk), rows[1][1], "Ana", "ana@brightside.io"]


def test_an_edit_changes_the_same_row(fake_sheets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = lead_capture_from_message(conversation=None, text="ana@brightside.io").lead
    lead.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        lead.status = Lead.Status.QUALIFIED
        lead_save_from_admin(lead=lead, changed_fields=["status"])

    rows = fake_sheets.rows("Leads")
    assert len(rows) == 2 and rows[1][8] == "Qualified"
    assert Lead.objects.get().sync_state == SyncState.SYNCED


def test_a_failure_leaves_the_lead_pending_with_the_error(fake_sheets, django_capture_on_commit_callbacks):
    fake_sheets.outage(503)

    with django_capture_on_commit_callbacks(execute=True):
        lead_capture_from_message(conversation=None, text="ana@brightside.io")

    lead = Lead.objects.get()
    assert lead.sync_state == SyncState.PENDING
    assert "503" in lead.sync_error and lead.sync_attempts == 1
    assert lead.sync_next_attempt_at > timezone.now()
    assert lead.sync_claim is None


def test_a_429_retry_after_pushes_the_next_attempt_back(fake_sheets, django_capture_on_commit_callbacks):
    fake_sheets.fail_next(1, status=429, retry_after=30)

    with django_capture_on_commit_callbacks(execute=True):
        lead_capture_from_message(conversation=None, text="ana@brightside.io")

    lead = Lead.objects.get()
    assert lead.sync_next_attempt_at >= timezone.now() + timedelta(seconds=28)
    assert "429" in lead.sync_error


def test_a_permanent_error_marks_the_lead_failed_without_retrying(fake_sheets, django_capture_on_commit_callbacks):
    fake_sheets.fail_next(1, status=403)

    with django_capture_on_commit_callbacks(execute=True):
        lead_capture_from_message(conversation=None, text="ana@brightside.io")

    lead = Lead.objects.get()
    assert lead.sync_state == SyncState.FAILED and "403" in lead.sync_error
    assert lead.sync_next_attempt_at is None


def test_it_gives_up_after_the_maximum_attempts(settings, fake_sheets):
    settings.LEADS_SYNC_MAX_ATTEMPTS = 2
    lead = LeadFactory()
    fake_sheets.outage(500)

    assert services.lead_sync(lead_id=lead.pk) == "retry scheduled"
    Lead.objects.filter(pk=lead.pk).update(sync_next_attempt_at=None)
    assert services.lead_sync(lead_id=lead.pk) == "failed"

    lead.refresh_from_db()
    assert (lead.sync_state, lead.sync_attempts) == (SyncState.FAILED, 2)


@pytest.mark.django_db(transaction=True)
def test_failed_pushes_retry_as_deferred_tasks_with_growing_delays(settings, fake_sheets):
    """The worker (django-tasks-db, in this process) runs the push, then its deferred retries."""
    settings.TASKS = DATABASE_TASKS
    fake_sheets.outage(503)
    lead = lead_capture_from_message(conversation=None, text="ana@brightside.io").lead
    assert DBTaskResult.objects.count() == 1 and fake_sheets.api_calls() == []

    delays = []
    for _ in range(2):
        run_worker_until_idle()
        lead.refresh_from_db()
        deferred = DBTaskResult.objects.filter(status="READY").get()
        delays.append((deferred.run_after - deferred.enqueued_at).total_seconds())
        assert deferred.run_after == lead.sync_next_attempt_at
        time.sleep(max(0.0, (deferred.run_after - timezone.now()).total_seconds()) + 0.05)
    assert lead.sync_attempts == 2 and lead.sync_state == SyncState.PENDING
    assert delays[1] > delays[0]

    fake_sheets.recover()
    run_worker_until_idle()

    lead.refresh_from_db()
    assert lead.sync_state == SyncState.SYNCED
    assert sheet_ids(fake_sheets) == [str(lead.pk)]


def run_worker_until_idle():
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


def test_a_lead_edited_while_its_push_is_in_flight_stays_pending(fake_sheets):
    lead = LeadFactory(name="Ana")
    claim, claimed = services.leads_claim(queryset=Lead.objects.filter(pk=lead.pk), limit=1)
    fresh = Lead.objects.get(pk=lead.pk)
    fresh.name = "Ana Lopez"
    fresh.mark_sync_pending()
    fresh.save()

    report = services.leads_push(claim=claim, leads=claimed, schedule_retries=False)

    fresh.refresh_from_db()
    assert report.synced == 0
    assert fresh.sync_state == SyncState.PENDING and fresh.sync_claim is None
    assert services.lead_sync(lead_id=lead.pk) == "synced"
    assert fake_sheets.rows("Leads")[1][2] == "Ana Lopez" and len(fake_sheets.rows("Leads")) == 2


def test_a_claimed_lead_cannot_be_claimed_by_a_second_worker(mirror_off):
    lead = LeadFactory()

    _, first = services.leads_claim(queryset=Lead.objects.all(), limit=10)
    _, second = services.leads_claim(queryset=Lead.objects.all(), limit=10)

    assert [x.pk for x in first] == [lead.pk] and second == []


def test_an_expired_claim_can_be_taken_over(mirror_off):
    LeadFactory()
    services.leads_claim(queryset=Lead.objects.all(), limit=10)
    Lead.objects.update(sync_claimed_until=timezone.now() - timedelta(seconds=1))

    _, taken = services.leads_claim(queryset=Lead.objects.all(), limit=10)

    assert len(taken) == 1


def test_without_credentials_nothing_is_enqueued_and_leads_stay_pending(
    settings, mirror_off, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS

    with django_capture_on_commit_callbacks(execute=True):
        result = lead_capture_from_message(conversation=None, text="ana@brightside.io")

    assert result.status == "captured"
    assert DBTaskResult.objects.count() == 0
    assert Lead.objects.get().sync_state == SyncState.PENDING
