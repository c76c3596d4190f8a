"""
Receivers only hand work over: on commit they enqueue an indexing task.

Bulk operations (`update()`, `bulk_create()`) fire no signal; the services
that use them enqueue explicitly.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from knowledge.models import FAQ, Document


@receiver(post_save, sender=Document, dispatch_uid="knowledge.document_saved")
def document_saved(sender, instance: Document, **kwargs) -> None:
    from knowledge.tasks import document_index_task

    document_id = instance.pk
    transaction.on_commit(lambda: document_index_task.enqueue(document_id))


@receiver(post_save, sender=FAQ, dispatch_uid="knowledge.faq_saved")
def faq_saved(sender, instance: FAQ, **kwargs) -> None:
    from knowledge.tasks import faq_index_task

    faq_id = instance.pk
    transaction.on_commit(lambda: faq_index_task.enqueue(faq_id))


@receiver(post_delete, sender=Document, dispatch_uid="knowledge.document_deleted")
@receiver(post_delete, sender=FAQ, dispatch_uid="knowledge.faq_deleted")
def source_deleted(sender, instance, **kwargs) -> None:
    from knowledge.tasks import index_publish_task

    transaction.on_commit(lambda: index_publish_task.enqueue())
