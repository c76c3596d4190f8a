"""Receivers that only hand work to tasks, once the saving transaction commits."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from leads.models import Lead, LeadNotification, SyncState


@receiver(post_save, sender=Lead, dispatch_uid="leads.lead_saved")
def lead_saved(sender: type[Lead], instance: Lead, **kwargs: object) -> None:
    if instance.sync_state != SyncState.PENDING:
        return
    from leads.services import lead_sync_enqueue

    lead_id = instance.pk
    transaction.on_commit(lambda: lead_sync_enqueue(lead_ids=[lead_id]))


@receiver(post_save, sender=LeadNotification, dispatch_uid="leads.notification_saved")
def notification_saved(
    sender: type[LeadNotification], instance: LeadNotification, created: bool, **kwargs: object
) -> None:
    if not created:
        return
    from leads.services import notification_enqueue

    notification_id = instance.pk
    transaction.on_commit(lambda: notification_enqueue(notification_id=notification_id))
