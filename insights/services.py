"""
Writes of insights: the daily rollups and the batch-test runs.

A day's rollup is a handful of aggregate queries over that day's rows only
(every filter starts with an indexed `created_at` range), so rolling up is
cheap whatever the table sizes. The rollup task recomputes the last
REFRESH_DAYS every hour, so late feedback and late handoffs reach the
figures; the page computes any older day it finds missing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from conversations.models import Conversation, Message
from insights.figures import day_bounds, histogram_of, question_key, source_key
from insights.models import BatchRun, InsightsDay
from leads.models import Lead

logger = logging.getLogger(__name__)

VISITOR_CHANNELS = (Conversation.Channel.WIDGET, Conversation.Channel.API)
REFRESH_DAYS = 7
ROLLUP_EVERY = dt.timedelta(hours=1)
# The most asked questions kept per day: the period's list is drawn from these.
ASKED_PER_DAY = 100


def insights_day_figures(*, day: dt.date) -> dict:
    """The figures of one day, as InsightsDay's fields (nothing is written)."""
    start, end = day_bounds(day)
    messages = Message.objects.filter(
        created_at__gte=start, created_at__lt=end, conversation__channel__in=VISITOR_CHANNELS
    )
    visitor, assistant = Q(role=Message.Role.VISITOR), Q(role=Message.Role.ASSISTANT)
    # Aliases differ from the field names: an aggregate may not shadow a field it filters on.
    counts = messages.aggregate(
        n_visitor_messages=Count("id", filter=visitor),
        n_questions=Count("id", filter=visitor & Q(answered__isnull=False)),
        n_answered=Count("id", filter=visitor & Q(answered=True)),
        n_refused=Count("id", filter=visitor & Q(answered=False)),
        n_staff_replies=Count("id", filter=Q(role=Message.Role.AGENT)),
        n_answers=Count("id", filter=assistant),
        n_thumbs_up=Count("id", filter=Q(feedback=Message.Feedback.UP)),
        n_thumbs_down=Count("id", filter=Q(feedback=Message.Feedback.DOWN)),
        n_prompt_tokens=Sum("prompt_tokens", filter=assistant),
        n_completion_tokens=Sum("completion_tokens", filter=assistant),
    )
    answers = messages.filter(assistant)
    first_tokens = answers.filter(time_to_first_token_ms__isnull=False).values_list("time_to_first_token_ms", flat=True)
    cited: dict[str, dict] = {}
    for sources in answers.values_list("sources", flat=True).iterator(chunk_size=2000):
        for source in sources or []:
            key = source_key(source.get("url", ""), source.get("title", ""))
            entry = cited.setdefault(key, {"title": source.get("title", ""), "count": 0})
            entry["count"] += 1
    asked: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    wording: dict[str, str] = {}
    last_refused: dict[str, str] = {}
    questions = messages.filter(visitor).values_list("text", "answered", "created_at").order_by("created_at")
    for text, answered, created_at in questions.iterator(chunk_size=2000):
        key = question_key(text)
        if not key:
            continue
        asked[key] += 1
        wording.setdefault(key, text[:300])
        if answered is False:
            refused[key] += 1
            last_refused[key] = created_at.isoformat()
    conversations = Conversation.objects.filter(
        created_at__gte=start, created_at__lt=end, channel__in=VISITOR_CHANNELS
    ).count()
    handed_over = Conversation.objects.filter(
        handed_over_at__gte=start, handed_over_at__lt=end, channel__in=VISITOR_CHANNELS
    ).count()
    return {
        **{name.removeprefix("n_"): value or 0 for name, value in counts.items()},
        "conversations": conversations,
        "handed_over": handed_over,
        "leads": Lead.objects.filter(created_at__gte=start, created_at__lt=end).count(),
        "first_token_histogram": histogram_of(ms for ms in first_tokens.iterator(chunk_size=5000) if ms is not None),
        "cited": cited,
        "asked": {key: {"text": wording[key], "count": n} for key, n in asked.most_common(ASKED_PER_DAY)},
        "unanswered": {
            key: {"text": wording[key], "count": n, "last": last_refused[key]}
            for key, n in refused.most_common(ASKED_PER_DAY)
        },
    }


def insights_day_rollup(*, day: dt.date) -> InsightsDay | None:
    """Stores (or refreshes) a past day's rollup; today and later days are never stored (they still change)."""
    if day >= timezone.localdate():
        return None
    figures = insights_day_figures(day=day)
    row, _ = InsightsDay.objects.update_or_create(day=day, defaults=figures)
    return row


def insights_rollup(*, days: int = REFRESH_DAYS, today: dt.date | None = None) -> int:
    """Recomputes the last `days` past days (the rollup task's body); returns how many were stored."""
    today = today or timezone.localdate()
    stored = 0
    for offset in range(1, days + 1):
        if insights_day_rollup(day=today - dt.timedelta(days=offset)) is not None:
            stored += 1
    return stored


def insights_rollup_schedule(*, now: dt.datetime | None = None) -> bool:
    """
    Keeps one rollup task queued ROLLUP_EVERY ahead (the task reschedules
    itself, like the retention purge); started on `migrate`. Backends that
    cannot defer rely on the page, which computes missing days itself.
    """
    from insights.tasks import insights_rollup_task

    backend = insights_rollup_task.get_backend()
    if not backend.supports_defer:
        return False
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if (
        isinstance(backend, DatabaseBackend)
        and DBTaskResult.objects.filter(task_path=insights_rollup_task.module_path, status="READY").exists()
    ):
        return False
    insights_rollup_task.using(run_after=(now or timezone.now()) + ROLLUP_EVERY).enqueue()
    return True


# --- Batch tests -------------------------------------------------------------------------------


def batch_run_create(*, name: str, questions: list[dict], user=None, rerun_of: BatchRun | None = None) -> BatchRun:
    """A queued run; the task that runs it is enqueued once the row is committed."""
    from insights.tasks import batch_run_task

    run = BatchRun.objects.create(name=name[:200], questions=questions, created_by=user, rerun_of=rerun_of)
    transaction.on_commit(lambda: batch_run_task.enqueue(run.pk))
    return run


def batch_run_rerun(*, run: BatchRun, user=None) -> BatchRun:
    """The same questions again, for instance after the knowledge base changed."""
    return batch_run_create(name=run.name, questions=run.questions, user=user, rerun_of=run)


def batch_run_execute(*, run_id: int) -> str:
    """
    The task body: claims a queued run (a conditional update, so two workers
    never run it twice), asks every question through `chatbot.evaluation`,
    saving progress as it goes, and stores the totals.
    """
    from asgiref.sync import async_to_sync

    claimed = BatchRun.objects.filter(pk=run_id, state=BatchRun.State.QUEUED).update(
        state=BatchRun.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return "nothing to do"
    run = BatchRun.objects.get(pk=run_id)
    try:
        results = async_to_sync(_batch_questions_ask)(run)
    except Exception as exc:  # the run records why it stopped; the worker goes on
        logger.exception("batch test %s failed", run_id)
        BatchRun.objects.filter(pk=run_id).update(
            state=BatchRun.State.FAILED, finished_at=timezone.now(), error=str(exc)[:500]
        )
        return "failed"
    from chatbot.evaluation import eval_summary

    BatchRun.objects.filter(pk=run_id).update(
        state=BatchRun.State.DONE,
        finished_at=timezone.now(),
        results=[result.as_dict() for result in results],
        summary=eval_summary(results)
        | {"passed": sum(r.right for r in results), "failed": sum(not r.right for r in results)},
        done_count=len(results),
    )
    return "done"


async def _batch_questions_ask(run: BatchRun) -> list:
    from channels.db import database_sync_to_async

    from chatbot.evaluation import EvalQuestion, eval_run

    questions = [
        EvalQuestion(**{**item, "expected_sources": tuple(item["expected_sources"])}) for item in run.questions
    ]
    results = []
    progress = database_sync_to_async(lambda done: BatchRun.objects.filter(pk=run.pk).update(done_count=done))
    async for result in eval_run(questions=questions):
        results.append(result)
        await progress(len(results))
    return results


def llm_cost(*, prompt_tokens: int, completion_tokens: int) -> float:
    """Estimated cost of tokens at LLM_PRICE_INPUT/OUTPUT_PER_MILLION (in the settings' currency)."""
    return round(
        prompt_tokens * settings.LLM_PRICE_INPUT_PER_MILLION / 1e6
        + completion_tokens * settings.LLM_PRICE_OUTPUT_PER_MILLION / 1e6,
        4,
    )
