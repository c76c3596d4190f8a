"""Background work of insights (queue "default")."""

from __future__ import annotations

from django_tasks import task

from insights import services


@task(queue_name="default")
def insights_rollup_task() -> dict:
    """Recomputes the last days' rollups, then schedules the next run."""
    stored = services.insights_rollup()
    services.insights_rollup_schedule()
    return {"days": stored}


@task(queue_name="default")
def batch_run_task(run_id: int) -> str:
    return services.batch_run_execute(run_id=run_id)
