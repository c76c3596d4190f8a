"""Background work for leads, on the "leads" queue of django-tasks."""

from django_tasks import task

from leads import services


@task(queue_name="leads")
def lead_sync(lead_id: int) -> str:
    """Pushes one lead to the Google Sheets mirror (retries itself with backoff)."""
    return services.lead_sync(lead_id=lead_id)


@task(queue_name="leads")
def lead_notify(notification_id: int) -> str:
    """Tells sales about a new lead by email or webhook (retries itself with backoff)."""
    return services.notification_send(notification_id=notification_id)


@task(queue_name="leads")
def lead_sheet_row_delete(deletion_id: int) -> str:
    """Removes an erased lead's row from the Google Sheets mirror (retries itself with backoff)."""
    return services.sheet_row_deletion_run(deletion_id=deletion_id)


@task(queue_name="leads")
def handoff_waiting_notify(conversation_id: str) -> str:
    """Tells staff by email and webhook that a visitor is waiting for a person (live handoff)."""
    return services.handoff_waiting_notify(conversation_id=conversation_id)
