"""
Visitor conversations are purged after CONVERSATION_RETENTION_DAYS, by a
self-rescheduling task or `manage.py purge_conversations`; leads keep their
consent record (issue 15).
"""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.core.management.sql import emit_post_migrate_signal
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from conversations.models import Conversation, Message
from conversations.services import PURGE_EVERY, conversations_purge, conversations_purge_schedule
from conversations.tests.factories import ConversationFactory, exchange
from leads.models import Lead, LeadContactAttempt

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}}
PURGE_TASK = "conversations.tasks.conversations_purge_task"


def conversation_last_active(days_ago: float) -> Conversation:
    conversation = ConversationFactory()
    exchange(conversation=conversation, question="Do you ship to Canada?", answer="Yes.")
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=timezone.now() - timedelta(days=days_ago))
    return conversation


def test_it_purges_conversations_past_the_retention_and_leads_keep_their_consent():
    old, recent = conversation_last_active(31), conversation_last_active(29)
    consented_at = timezone.now() - timedelta(days=40)
    lead = Lead.objects.create(
        email="ana@brightside.io",
        consent=True,
        consent_text="I agree.",
        consent_at=consented_at,
        interest="Do you ship to Canada?",
    )
    lead.conversations.add(old, recent)
    attempt = LeadContactAttempt.objects.create(lead=lead, conversation=old, source=Lead.Source.DETECTED)

    report = conversations_purge(retention_days=30)

    assert (report.conversations, report.messages) == (1, 2)
    assert list(Conversation.objects.all()) == [recent]
    assert not Message.objects.filter(conversation_id=old.pk).exists()
    lead.refresh_from_db()
    assert (lead.consent, lead.consent_text, lead.consent_at, lead.interest) == (
        True,
        "I agree.",
        consented_at,
        "Do you ship to Canada?",
    )
    assert list(lead.conversations.all()) == [recent]
    attempt.refresh_from_db()
    assert attempt.conversation is None


def test_a_retention_of_zero_keeps_everything():
    conversation_last_active(3650)

    assert conversations_purge(retention_days=0).conversations == 0
    assert Conversation.objects.count() == 1


def test_the_command_uses_the_setting_counts_on_a_dry_run_and_reports_json(settings):
    settings.CONVERSATION_RETENTION_DAYS = 7
    conversation_last_active(8)
    conversation_last_active(1)

    dry, real = StringIO(), StringIO()
    call_command("purge_conversations", "--dry-run", "--json", stdout=dry)
    assert json.loads(dry.getvalue())["conversations"] == 1 and Conversation.objects.count() == 2
    call_command("purge_conversations", "--json", stdout=real)

    summary = json.loads(real.getvalue())
    assert (summary["retention_days"], summary["conversations"], summary["messages"]) == (7, 1, 2)
    assert Conversation.objects.count() == 1


def test_the_command_says_when_retention_is_off_and_refuses_negative_days(settings):
    settings.CONVERSATION_RETENTION_DAYS = 0
    conversation_last_active(400)
    out = StringIO()

    call_command("purge_conversations", stdout=out)

    assert "Retention is off" in out.getvalue() and Conversation.objects.count() == 1
    with pytest.raises(CommandError, match="--days must be 0"):
        call_command("purge_conversations", "--days", "-1")


@pytest.mark.django_db(transaction=True)
def test_migrate_queues_one_purge_and_each_purge_queues_the_next(settings):
    settings.TASKS = DATABASE_TASKS
    settings.CONVERSATION_RETENTION_DAYS = 30
    conversation_last_active(31)

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # a second deploy: still one chain

    [queued] = DBTaskResult.objects.filter(task_path=PURGE_TASK)
    assert queued.status == "READY" and queued.run_after > timezone.now() + PURGE_EVERY - timedelta(minutes=1)
    DBTaskResult.objects.filter(pk=queued.pk).update(run_after=timezone.now())
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

    assert Conversation.objects.count() == 0
    ran = DBTaskResult.objects.get(pk=queued.pk)
    assert ran.status == "SUCCESSFUL" and ran.return_value == {"conversations": 1, "messages": 2}
    [following] = DBTaskResult.objects.filter(task_path=PURGE_TASK, status="READY")
    assert following.run_after > timezone.now() + PURGE_EVERY - timedelta(minutes=1)


def test_nothing_is_queued_without_a_retention_or_without_deferred_tasks(settings):
    settings.TASKS = DATABASE_TASKS
    settings.CONVERSATION_RETENTION_DAYS = 0
    assert conversations_purge_schedule() is False

    settings.CONVERSATION_RETENTION_DAYS = 30
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "index", "leads"],
        }
    }
    assert conversations_purge_schedule() is False
    assert DBTaskResult.objects.count() == 0
