"""Background work of conversations (queue "default")."""

from __future__ import annotations

from django.conf import settings
from django_tasks import task

from conversations import services


@task(queue_name="default")
def conversations_purge_task() -> dict:
    """Purges conversations past CONVERSATION_RETENTION_DAYS, then schedules the next purge."""
    report = services.conversations_purge(retention_days=settings.CONVERSATION_RETENTION_DAYS)
    services.conversations_purge_schedule()
    return {"conversations": report.conversations, "messages": report.messages}
