"""
Re-fetch scheduling of web pages. A page with a re-fetch interval schedules
itself: one deferred `document_refetch_task` per due time, `next_fetch_at`
naming the one live chain. Backends without deferred tasks rely on
`manage.py refresh_sources` (cron), which asks `documents_due_for_refetch`.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from knowledge.models import Document


def document_refetch_schedule(*, document_id: int, after_fetch: bool, kind: str | None = None) -> None:
    """
    Sets the page's next due time (now plus its interval) and enqueues the
    task for it, unless a live schedule is already due within the interval
    and the page was not just fetched. A page without an interval, or
    inactive, drops its schedule; `kind`, when known, spares a query for
    sources that are not web pages.
    """
    from django_tasks import default_task_backend

    if kind is not None and kind != Document.Kind.URL:
        return
    document = (
        Document.objects.filter(pk=document_id)
        .only("kind", "refetch_interval_hours", "next_fetch_at", "fetched_at", "is_active")
        .first()
    )
    if document is None or document.kind != Document.Kind.URL:
        return
    if not document.refetch_interval_hours or not document.is_active:
        if document.next_fetch_at is not None:
            Document.objects.filter(pk=document_id).update(next_fetch_at=None)
        return
    now = timezone.now()
    due = now + timedelta(hours=document.refetch_interval_hours)
    if not after_fetch and document.next_fetch_at is not None and now < document.next_fetch_at <= due:
        return
    Document.objects.filter(pk=document_id).update(next_fetch_at=due)
    if default_task_backend.supports_defer:
        from knowledge.tasks import document_refetch_task

        transaction.on_commit(lambda: document_refetch_task.using(run_after=due).enqueue(document_id, due.isoformat()))


def document_refetch_due_claim(*, document_id: int, due: str, take_over: bool) -> bool:
    """
    Whether the task scheduled for `due` may fetch: it must still be the
    live chain's due time (which it clears), or, when its worker died
    (`take_over`), the chain it cleared before dying.
    """
    claimed = Document.objects.filter(pk=document_id, next_fetch_at=parse_datetime(due)).update(next_fetch_at=None)
    rerun_of_a_dead_attempt = take_over and Document.objects.filter(pk=document_id, next_fetch_at__isnull=True).exists()
    return bool(claimed) or rerun_of_a_dead_attempt


def documents_due_for_refetch(*, include_all: bool = False) -> list[int]:
    rows = Document.objects.filter(kind=Document.Kind.URL, is_active=True)
    if not include_all:
        rows = rows.filter(refetch_interval_hours__isnull=False).filter(
            Q(next_fetch_at__isnull=True) | Q(next_fetch_at__lte=timezone.now())
        )
    return list(rows.order_by("id").values_list("id", flat=True))
