"""
A person's rights in admin: export everything held about them as JSON, and
erase them (lead, conversations, notifications, sheet row); both audited in
admin history, the sheet row removed through the outbox (issue 15).
"""

import json
import time
from io import StringIO

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from conversations.models import Conversation, Message
from leads import services
from leads.models import Lead, LeadContactAttempt, LeadNotification, SheetRowDeletion, SyncState
from leads.services import lead_capture_from_message, lead_submit_form
from leads.tests.factories import ConversationFactory, LeadFactory, MessageFactory
from leads.tests.helpers import sheet_ids
from leads.tests.test_admin import sales_user

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:leads_lead_changelist")
CONSENT = "I agree that Tidewater Bikes contacts me about my request."


@pytest.fixture
def notify_by_email(settings):
    settings.LEADS_NOTIFY_EMAILS = ["sales@tidewater.test"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def person(on_commit):
    """Ana: a lead from the contact form with a conversation, a note, a notification and a contact attempt."""
    conversation = ConversationFactory()
    MessageFactory(conversation=conversation, text="Do you deliver cargo bikes to Portland?")
    MessageFactory(conversation=conversation, role=Message.Role.ASSISTANT, text="Yes, within 5 days.")
    with on_commit(execute=True):
        lead = lead_submit_form(
            conversation=conversation,
            name="Ana Lopez",
            email="ana@brightside.io",
            phone="",
            consent=True,
            consent_text=CONSENT,
            source=Lead.Source.FORM,
        ).lead
        Lead.objects.filter(pk=lead.pk).update(notes="Prefers mornings")
        stranger = ConversationFactory()
        MessageFactory(conversation=stranger, text="I'm Eve, ana@brightside.io, +1 415 555 2671")
        lead_capture_from_message(conversation=stranger, text="I'm Eve, ana@brightside.io, +1 415 555 2671")
    return Lead.objects.get(pk=lead.pk), conversation, stranger


def privacy_client(client, *codenames):
    user = sales_user(*codenames)
    client.force_login(user)
    return client, user


# --- export --------------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_person_and_is_audited(
    client, notify_by_email, mirror_off, django_capture_on_commit_callbacks
):
    lead, conversation, stranger = person(django_capture_on_commit_callbacks)
    client, user = privacy_client(client, "view_lead")

    response = client.get(reverse("admin:leads_lead_export", args=[lead.pk]))

    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="lead-{lead.pk}.json"'
    data = json.loads(response.content)
    assert (data["lead"]["email"], data["lead"]["notes"]) == ("ana@brightside.io", "Prefers mornings")
    assert data["consent"]["given"] is True and data["consent"]["text"] == CONSENT and data["consent"]["at"]
    [exported] = data["conversations"]
    assert exported["id"] == conversation.pk
    assert [m["text"] for m in exported["messages"]] == [
        "Do you deliver cargo bikes to Portland?",
        "Yes, within 5 days.",
    ]
    [attempt] = data["contact_attempts"]
    assert (attempt["name"], attempt["phone"], attempt["conversation_id"]) == ("Eve", "+14155552671", stranger.pk)
    assert [n["about"] for n in data["notifications"]] == ["new lead", "contact attempt"]
    entry = LogEntry.objects.get(object_id=str(lead.pk))
    assert (entry.user, entry.action_flag) == (user, CHANGE)
    assert entry.get_change_message() == "Exported everything held about this person as JSON."


def test_the_export_action_exports_each_selected_person(client, mirror_off):
    first, second = LeadFactory(), LeadFactory()
    client, _ = privacy_client(client, "view_lead")

    response = client.post(CHANGELIST, {"action": "export_json", "_selected_action": [str(first.pk), str(second.pk)]})

    people = json.loads(response.content)["people"]
    assert [p["lead"]["email"] for p in people] == [first.email, second.email]
    assert LogEntry.objects.filter(action_flag=CHANGE).count() == 2


def test_the_export_needs_the_view_permission(client, mirror_off):
    lead = LeadFactory()
    client, _ = privacy_client(client)

    assert client.get(reverse("admin:leads_lead_export", args=[lead.pk])).status_code == 403


# --- erasure ---------------------------------------------------------------------------------------


def test_erasure_asks_first_then_removes_the_person_everywhere(
    client, notify_by_email, fake_sheets, django_capture_on_commit_callbacks
):
    lead, conversation, stranger = person(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        bystander = LeadFactory(email="ben@example.com")
    shared = ConversationFactory()
    bystander.conversations.add(shared)
    LeadContactAttempt.objects.create(
        lead=lead, conversation=shared, source=Lead.Source.DETECTED, email="ana@brightside.io"
    )
    client, user = privacy_client(client, "view_lead", "change_lead", "delete_lead")
    LogEntry.objects.create(
        user=user,
        content_type_id=_lead_type(),
        object_id=str(lead.pk),
        object_repr=str(lead),
        action_flag=CHANGE,
        change_message="Changed status.",
    )
    assert sheet_ids(fake_sheets) == [str(lead.pk), str(bystander.pk)]
    url = reverse("admin:leads_lead_erase", args=[lead.pk])

    asked = client.get(url)
    assert asked.status_code == 200 and b"Yes, erase 1 person" in asked.content
    assert Lead.objects.filter(pk=lead.pk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        erased = client.post(url, {"erase_confirmed": "yes"})

    assert erased.status_code == 302
    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert not Conversation.objects.filter(pk__in=[conversation.pk, stranger.pk]).exists()
    assert not Message.objects.filter(conversation__in=[conversation.pk, stranger.pk]).exists()
    assert Conversation.objects.filter(pk=shared.pk).exists(), "another lead's conversation stays"
    assert LeadNotification.objects.count() == 0 and LeadContactAttempt.objects.count() == 0
    assert sheet_ids(fake_sheets) == [str(bystander.pk)]
    assert SheetRowDeletion.objects.get().sync_state == SyncState.SYNCED
    entries = LogEntry.objects.filter(object_id=str(lead.pk))
    assert {entry.object_repr for entry in entries} == {f"Lead {lead.pk} (erased)"}
    erasure = entries.get(action_flag=DELETION)
    assert erasure.user == user and "2 conversation(s), 3 message(s)" in erasure.get_change_message()


def test_erasure_needs_the_delete_permission(client, mirror_off):
    lead = LeadFactory()
    client, _ = privacy_client(client, "view_lead", "change_lead")

    assert client.post(reverse("admin:leads_lead_erase", args=[lead.pk]), {"erase_confirmed": "yes"}).status_code == 403
    client.post(CHANGELIST, {"action": "erase_people", "_selected_action": [str(lead.pk)], "erase_confirmed": "yes"})

    assert Lead.objects.filter(pk=lead.pk).exists()


def test_the_erase_action_confirms_then_erases_the_selected_people(client, mirror_off):
    first, second, kept = LeadFactory(), LeadFactory(), LeadFactory()
    client, _ = privacy_client(client, "view_lead", "delete_lead")
    selected = {"action": "erase_people", "_selected_action": [str(first.pk), str(second.pk)]}

    asked = client.post(CHANGELIST, selected)
    assert b"Yes, erase 2 persons" in asked.content and Lead.objects.count() == 3
    client.post(CHANGELIST, {**selected, "erase_confirmed": "yes"})

    assert list(Lead.objects.all()) == [kept]
    assert SheetRowDeletion.objects.count() == 2
    assert LogEntry.objects.filter(action_flag=DELETION).count() == 2


def test_an_outage_delays_the_sheet_row_removal_but_cannot_lose_it(
    fake_sheets, django_capture_on_commit_callbacks, admin_user
):
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory()
    fake_sheets.outage(503)

    with django_capture_on_commit_callbacks(execute=True):
        services.lead_erase(lead=lead, actor=admin_user)

    deletion = SheetRowDeletion.objects.get()
    assert (deletion.sync_state, deletion.sync_attempts) == (SyncState.PENDING, 1) and "503" in deletion.sync_error
    assert sheet_ids(fake_sheets) == [str(lead.pk)]
    with pytest.raises(CommandError, match="1 erased lead\\(s\\) are still in the sheet"):
        call_command("sync_leads", verbosity=0)

    fake_sheets.recover()
    out = StringIO()
    call_command("sync_leads", "--json", stdout=out)

    summary = json.loads(out.getvalue())
    assert (summary["rows_deleted"], summary["deletions_remaining"]) == (1, 0)
    assert sheet_ids(fake_sheets) == []
    deletion.refresh_from_db()
    assert (deletion.sync_state, deletion.sync_error) == (SyncState.SYNCED, "")


@pytest.mark.django_db(transaction=True)
def test_a_failed_removal_retries_as_a_deferred_task(settings, fake_sheets, admin_user):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}
    }
    lead = LeadFactory()
    run_worker_until_idle()
    assert sheet_ids(fake_sheets) == [str(lead.pk)]
    fake_sheets.outage(503)

    services.lead_erase(lead=lead, actor=admin_user)
    run_worker_until_idle()

    retry = DBTaskResult.objects.get(status="READY")
    assert retry.task_path == "leads.tasks.lead_sheet_row_delete"
    assert SheetRowDeletion.objects.get().sync_attempts == 1
    fake_sheets.recover()
    time.sleep(max(0.0, (retry.run_after - retry.enqueued_at).total_seconds()) + 0.1)
    run_worker_until_idle()

    assert sheet_ids(fake_sheets) == []
    assert SheetRowDeletion.objects.get().sync_state == SyncState.SYNCED


def test_the_removal_waits_for_a_push_still_in_flight(fake_sheets, admin_user):
    lead = LeadFactory()
    claim, claimed = services.leads_claim(queryset=Lead.objects.filter(pk=lead.pk), limit=1)

    services.lead_erase(lead=lead, actor=admin_user)
    services.leads_push(claim=claim, leads=claimed, schedule_retries=False)  # the push lands afterwards

    deletion = SheetRowDeletion.objects.get()
    assert deletion.not_before == claimed[0].sync_claimed_until
    assert services.sheet_row_deletion_run(deletion_id=deletion.pk) == "nothing to do"
    SheetRowDeletion.objects.update(not_before=None)  # the push's lease is over
    assert services.sheet_row_deletion_run(deletion_id=deletion.pk) == "deleted"
    assert sheet_ids(fake_sheets) == []


def test_a_plain_delete_in_admin_also_removes_the_sheet_row(client, fake_sheets, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        lead = LeadFactory()
    client, _ = privacy_client(client, "view_lead", "delete_lead")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:leads_lead_delete", args=[lead.pk]), {"post": "yes"})

    assert not Lead.objects.exists() and sheet_ids(fake_sheets) == []


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


def _lead_type() -> int:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(Lead).pk
