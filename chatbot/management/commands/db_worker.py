"""
`manage.py db_worker`: django-tasks-db's worker, plus leases on running tasks.

Same options and behaviour as the original command; in addition the worker
keeps a lease on the task it runs and requeues tasks whose worker died (see
core/task_leases.py). It replaces the original because the `chatbot` app
comes before `django_tasks_db` in INSTALLED_APPS.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings
from django.core.management.base import CommandError
from django.db import close_old_connections, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import (
    Command as DatabaseWorkerCommand,
)
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.management.commands.db_worker import logger as worker_logger
from django_tasks_db.models import DBTaskResult

from core.task_leases import (
    task_lease_release,
    task_lease_renew,
    tasks_abandoned_requeue,
)


class LeasedWorker(Worker):
    """A worker that renews a lease on its running task and recovers abandoned ones, in a side thread."""

    def __init__(self, *, lease_seconds: float, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lease_seconds = lease_seconds
        self._current: str | None = None
        self._stopped = threading.Event()

    def run(self) -> None:
        requeued = tasks_abandoned_requeue(lease_seconds=self.lease_seconds)
        if requeued:
            worker_logger.warning("requeued %d task(s) abandoned by a dead worker", len(requeued))
        keeper = threading.Thread(target=self._keep_leases, name="task-leases", daemon=True)
        keeper.start()
        try:
            super().run()
        finally:
            self._stopped.set()
            keeper.join(timeout=5)

    def run_task(self, db_task_result: DBTaskResult) -> None:
        original_run_after = db_task_result.run_after
        task_lease_renew(task_id=db_task_result.id, seconds=self.lease_seconds)
        self._current = db_task_result.id
        try:
            super().run_task(db_task_result)
        finally:
            self._current = None
            task_lease_release(task_id=db_task_result.id, run_after=original_run_after)

    def _keep_leases(self) -> None:
        interval = self.lease_seconds / 4
        try:
            while not self._stopped.wait(interval):
                close_old_connections()
                try:
                    current = self._current
                    if current is not None:
                        task_lease_renew(task_id=current, seconds=self.lease_seconds)
                    tasks_abandoned_requeue(lease_seconds=self.lease_seconds)
                except Exception:  # noqa: BLE001 - a database hiccup; the next round tries again
                    worker_logger.exception("could not renew task leases")
        finally:
            connection.close()


class Command(DatabaseWorkerCommand):
    help = "Run a database background worker (requeues tasks whose worker died)"

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options,
    ) -> None:
        self.configure_logging(verbosity)
        if reload and batch:
            worker_logger.warning("Warning: --reload and --batch cannot be specified together. Disabling autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")

        worker = LeasedWorker(
            lease_seconds=settings.TASKS_LEASE_SECONDS,
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
