"""
Insights keep two kinds of rows: one rollup per day of the figures the
insights page charts (so a 90-day page reads 90 small rows, not a million
messages), and the runs of the admin's batch test, kept to compare.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class InsightsDay(models.Model):
    """
    The figures of one day (in TIME_ZONE) of visitor traffic: the widget and
    the REST API; `manage.py ask` and evaluations are not visitors. Written by
    `insights.services.insights_day_rollup` (the rollup task, the seed command,
    or the page itself for a day it finds missing); today is never stored.
    """

    day = models.DateField(unique=True)
    conversations = models.PositiveIntegerField(default=0)
    visitor_messages = models.PositiveIntegerField(default=0)
    questions = models.PositiveIntegerField(default=0, help_text="Visitor messages that asked something.")
    answered = models.PositiveIntegerField(default=0)
    refused = models.PositiveIntegerField(default=0)
    handed_over = models.PositiveIntegerField(default=0, help_text="Conversations a staff member took over.")
    staff_replies = models.PositiveIntegerField(default=0)
    answers = models.PositiveIntegerField(default=0)
    thumbs_up = models.PositiveIntegerField(default=0)
    thumbs_down = models.PositiveIntegerField(default=0)
    leads = models.PositiveIntegerField(default=0)
    prompt_tokens = models.BigIntegerField(default=0)
    completion_tokens = models.BigIntegerField(default=0)
    # Answers per time-to-first-token bucket (insights.figures.TTFT_BOUNDS).
    first_token_histogram = models.JSONField(default=list)
    # {source key: {"title": ..., "count": n}}: citations per source.
    cited = models.JSONField(default=dict)
    # {normalised question: {"text": a wording, "count": n}}: the day's most asked questions.
    asked = models.JSONField(default=dict)
    # The same for the questions the bot could not answer, with when each was last asked (ISO).
    unanswered = models.JSONField(default=dict)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["day"]
        verbose_name = "insights day"
        permissions = [
            ("view_insights", "Can see the insights page"),
            ("test_bot", "Can test the bot and run batch tests from admin"),
        ]

    def __str__(self) -> str:
        return f"Insights of {self.day:%Y-%m-%d}"


class BatchRun(models.Model):
    """One run of a question file (the `answer_eval` format) through the answer pipeline."""

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200, help_text="The uploaded file's name.")
    questions = models.JSONField(help_text="The parsed questions, as EvalQuestion fields.")
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    done_count = models.PositiveIntegerField(default=0)
    results = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Batch test {self.pk}: {self.name}"

    @property
    def passed(self) -> int:
        return sum(1 for result in self.results if result.get("right"))

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed
