"""Daily rollups: past days stored, today never; the task refreshes recent days so late feedback counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.models import Message
from insights.figures import TTFT_BOUNDS, histogram_of, histogram_percentile, histograms_add
from insights.models import InsightsDay
from insights.selectors import PeriodError, period_parse
from insights.services import insights_day_rollup, insights_rollup
from insights.tasks import insights_rollup_task
from insights.tests.factories import days_ago, exchange_on

pytestmark = pytest.mark.django_db


def test_today_is_never_stored():
    assert insights_day_rollup(day=days_ago(0)) is None
    assert not InsightsDay.objects.exists()


def test_the_rollup_refreshes_recent_days_so_late_feedback_counts(db):
    _, answer = exchange_on(days_ago(2))
    insights_rollup()
    assert InsightsDay.objects.get(day=days_ago(2)).thumbs_down == 0

    Message.objects.filter(pk=answer.pk).update(feedback=-1)
    insights_rollup_task.enqueue()

    assert InsightsDay.objects.get(day=days_ago(2)).thumbs_down == 1
    assert InsightsDay.objects.count() == 7


def test_the_page_reads_stored_days_without_recounting_them(client, analyst, db):
    exchange_on(days_ago(3))
    client.get(reverse("insights:insights"), {"period": "7"})
    InsightsDay.objects.filter(day=days_ago(3)).update(visitor_messages=42)

    response = client.get(reverse("insights:insights"), {"period": "7"})

    assert response.context["report"].totals["visitor_messages"] == 42


def test_percentiles_of_a_histogram_are_bucket_upper_bounds():
    histogram = histograms_add([histogram_of([10, 20, 30]), histogram_of([40, 1_000_000])])

    assert 30 <= histogram_percentile(histogram, 0.5) <= 33, "at most 10% above the true median"
    assert histogram_percentile(histogram, 1.0) == TTFT_BOUNDS[-1]
    assert histogram_percentile([], 0.5) is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"period": "custom", "start": "2026-01-10", "end": "2026-01-01"}, "after the end date"),
        ({"period": "custom", "start": "yesterday", "end": "2026-01-01"}, "YYYY-MM-DD"),
        ({"period": "custom", "start": "2020-01-01", "end": "2026-01-01"}, "at most 366 days"),
    ],
)
def test_a_bad_period_is_refused_clearly(params, message):
    with pytest.raises(PeriodError, match=message):
        period_parse(**params)


def test_a_bad_period_on_the_page_shows_the_error_and_the_last_30_days(client, analyst):
    response = client.get(reverse("insights:insights"), {"period": "custom", "start": "x", "end": "y"})

    assert response.status_code == 200
    assert "YYYY-MM-DD" in response.content.decode()
    period = response.context["report"].period
    assert (period.end - period.start) == dt.timedelta(days=29)


def test_the_page_draws_every_chart_with_a_csv_link(client, analyst, db):
    exchange_on(days_ago(1))

    page = client.get(reverse("insights:insights"), {"period": "30"}).content.decode()

    for name in ("volume", "outcomes", "feedback", "leads", "lead_status", "first_token", "tokens"):
        assert f'data-chart="{name}"' in page
        assert reverse("insights:csv", args=[name]) + "?period=30" in page
    assert 'id="insights-data" type="application/json"' in page
    assert "<script>" not in page, "no inline script (CSP)"


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "index", "leads"]}}


@pytest.mark.django_db(transaction=True)
def test_migrate_queues_one_rollup_and_each_rollup_queues_the_next(settings):
    from django.core.management import call_command
    from django.core.management.sql import emit_post_migrate_signal
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE_TASKS
    exchange_on(days_ago(1))
    path = insights_rollup_task.module_path

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")  # a second deploy: still one chain

    [queued] = DBTaskResult.objects.filter(task_path=path)
    assert queued.status == "READY" and queued.run_after > timezone.now() + dt.timedelta(minutes=59)
    DBTaskResult.objects.filter(pk=queued.pk).update(run_after=timezone.now())
    call_command(
        "db_worker", "--batch", "--no-reload", "--no-startup-delay", "--queue-name", "*", "--interval", "0.01",
        verbosity=0,
    )  # fmt: skip

    assert DBTaskResult.objects.get(pk=queued.pk).return_value == {"days": 7}
    assert InsightsDay.objects.get(day=days_ago(1)).visitor_messages == 1
    [following] = DBTaskResult.objects.filter(task_path=path, status="READY")
    assert following.run_after > timezone.now() + dt.timedelta(minutes=59)
