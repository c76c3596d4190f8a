"""
Leases on running background tasks, so that a task whose worker died runs again.

django-tasks-db marks a task RUNNING when a worker claims it and leaves it so
forever when that worker is killed (SIGKILL, out of memory, a lost machine):
nothing would ever run it again. Our `db_worker` (the project's override of
django-tasks-db's command) therefore keeps a lease on the task it runs:

- While a task is RUNNING, its row's `run_after` holds "lease valid until".
  The database backend reads `run_after` only for READY tasks, so the column
  is free while a task runs; the worker pushes it forward every quarter lease
  and puts the original value back when the task ends.
- Every worker, when it starts and then every quarter lease, puts back to
  READY each RUNNING task whose lease ran out and which started more than a
  lease ago (the second condition covers the moment between a claim and its
  first lease, and tasks claimed by a worker that kept no lease).

A task can thus run twice when a worker stalls for longer than a lease without
dying, so tasks must be idempotent; ours are (knowledge/tasks.py,
leads/tasks.py). On recovery a task sees `context.attempt > 1`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger(__name__)

RUNNING = "RUNNING"
READY = "READY"


def task_lease_renew(*, task_id: str, seconds: float, now: datetime | None = None) -> bool:
    """Extends the lease of a running task; False when the task is no longer running."""
    now = now or timezone.now()
    return bool(
        DBTaskResult.objects.filter(pk=task_id, status=RUNNING).update(run_after=now + timedelta(seconds=seconds))
    )


def task_lease_release(*, task_id: str, run_after: datetime) -> None:
    """Puts back the task's own `run_after` once it has finished (a requeued task is left alone)."""
    DBTaskResult.objects.filter(pk=task_id).exclude(status=READY).update(run_after=run_after)


def tasks_abandoned_requeue(*, lease_seconds: float, now: datetime | None = None) -> list[str]:
    """
    Puts back in the queue every running task whose worker stopped renewing
    its lease; returns their ids. One conditional UPDATE per task, so two
    workers recovering at once requeue each task once.
    """
    now = now or timezone.now()
    lease_over = Q(run_after__lt=now) | Q(run_after=get_date_max())
    abandoned = DBTaskResult.objects.filter(
        lease_over, status=RUNNING, started_at__lt=now - timedelta(seconds=lease_seconds)
    )
    requeued = []
    for task_id, task_path, worker_ids in abandoned.values_list("id", "task_path", "worker_ids"):
        if abandoned.filter(pk=task_id).update(status=READY, run_after=get_date_max(), started_at=None):
            requeued.append(str(task_id))
            logger.warning(
                "task %s (%s) was abandoned by worker %s; it will run again",
                task_id,
                task_path,
                worker_ids[-1] if worker_ids else "?",
            )
    return requeued
