"""Leases on running tasks: a task whose worker stopped renewing its lease goes back to the queue."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from core.task_leases import (
    task_lease_release,
    task_lease_renew,
    tasks_abandoned_requeue,
)

pytestmark = pytest.mark.django_db

LEASE = 60


def running_task(*, started_ago: float, lease_left: float | None) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        status="RUNNING",
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="knowledge.tasks.index_publish_task",
        queue_name="index",
        backend_name="default",
        worker_ids=["dead-worker"],
        started_at=now - timedelta(seconds=started_ago),
        run_after=get_date_max() if lease_left is None else now + timedelta(seconds=lease_left),
    )


def test_it_requeues_a_task_whose_lease_ran_out():
    task = running_task(started_ago=300, lease_left=-5)

    assert tasks_abandoned_requeue(lease_seconds=LEASE) == [str(task.pk)]
    task.refresh_from_db()
    assert (task.status, task.run_after, task.started_at) == ("READY", get_date_max(), None)
    assert DBTaskResult.objects.ready().filter(pk=task.pk).exists()


def test_it_leaves_a_task_whose_worker_renews_its_lease():
    task = running_task(started_ago=300, lease_left=-5)

    assert task_lease_renew(task_id=task.pk, seconds=LEASE)
    assert tasks_abandoned_requeue(lease_seconds=LEASE) == []
    task.refresh_from_db()
    assert task.status == "RUNNING"


def test_it_leaves_a_task_claimed_a_moment_ago_before_its_first_lease():
    task = running_task(started_ago=1, lease_left=None)

    assert tasks_abandoned_requeue(lease_seconds=LEASE) == []
    assert DBTaskResult.objects.get(pk=task.pk).status == "RUNNING"


def test_it_requeues_a_task_left_running_by_a_worker_that_kept_no_lease():
    task = running_task(started_ago=LEASE * 2, lease_left=None)

    assert tasks_abandoned_requeue(lease_seconds=LEASE) == [str(task.pk)]


def test_a_finished_task_gets_its_own_run_after_back_and_a_requeued_one_is_left_alone():
    finished = running_task(started_ago=5, lease_left=LEASE)
    DBTaskResult.objects.filter(pk=finished.pk).update(status="SUCCESSFUL")
    requeued = running_task(started_ago=5, lease_left=LEASE)
    DBTaskResult.objects.filter(pk=requeued.pk).update(status="READY", run_after=get_date_max())
    original = timezone.now() - timedelta(hours=1)

    task_lease_release(task_id=finished.pk, run_after=original)
    task_lease_release(task_id=requeued.pk, run_after=original)

    assert DBTaskResult.objects.get(pk=finished.pk).run_after == original
    assert DBTaskResult.objects.get(pk=requeued.pk).run_after == get_date_max()


def test_renewing_a_task_that_is_no_longer_running_says_so():
    task = running_task(started_ago=5, lease_left=LEASE)
    DBTaskResult.objects.filter(pk=task.pk).update(status="FAILED")

    assert task_lease_renew(task_id=task.pk, seconds=LEASE) is False
