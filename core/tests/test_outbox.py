"""
The outbox helper on a model of its own (a table made for these tests): claims
with a lease, releases, completions and failures that only the claim holder
can write, backoff and giving up, and deferred retries.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, models
from django.utils import timezone
from django_tasks import task

from core.outbox import (
    OutboxFields,
    RetryPolicy,
    outbox_claim,
    outbox_complete,
    outbox_due,
    outbox_record_failure,
    outbox_release,
    outbox_unclaimed,
    task_enqueue,
)

FIELDS = OutboxFields(done="sent")
POLICY = RetryPolicy(max_attempts=3, base=10.0, cap=60.0)
LEASE = timedelta(minutes=5)


class Job(models.Model):
    """Any model with the outbox columns, under the default names."""

    state = models.CharField(max_length=10, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True)
    claim = models.UUIDField(null=True)
    claimed_until = models.DateTimeField(null=True)
    sent_at = models.DateTimeField(null=True)

    class Meta:
        app_label = "core_outbox_tests"
        db_table = "core_outbox_tests_job"

    def __str__(self) -> str:
        return f"Job {self.pk}: {self.state}"


@pytest.fixture(scope="module")
def job_table(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            editor.create_model(Job)
        yield
        with connection.schema_editor() as editor:
            editor.delete_model(Job)


@pytest.fixture
def jobs(job_table, db):
    return [Job.objects.create() for _ in range(4)]


def claimed(claim) -> list[int]:
    return sorted(Job.objects.filter(claim=claim).values_list("pk", flat=True))


def test_it_claims_up_to_the_limit_and_holds_them_for_the_lease(jobs):
    claim, count = outbox_claim(Job.objects.order_by("pk"), fields=FIELDS, limit=3, lease=LEASE)

    assert count == 3
    assert claimed(claim) == [job.pk for job in jobs[:3]]
    lease_end = Job.objects.get(pk=jobs[0].pk).claimed_until
    assert timezone.now() + LEASE - timedelta(minutes=1) < lease_end <= timezone.now() + LEASE


def test_a_second_worker_gets_nothing_while_the_lease_runs(jobs):
    first, _ = outbox_claim(Job.objects.all(), fields=FIELDS, limit=10, lease=LEASE)

    # The queryset does not exclude claimed rows: the conditional UPDATE does.
    second, count = outbox_claim(Job.objects.all(), fields=FIELDS, limit=10, lease=LEASE)

    assert count == 0
    assert claimed(second) == []
    assert len(claimed(first)) == 4


def test_rows_whose_lease_ran_out_can_be_claimed_again(jobs):
    first, _ = outbox_claim(Job.objects.all(), fields=FIELDS, limit=10, lease=LEASE)
    Job.objects.filter(pk=jobs[0].pk).update(claimed_until=timezone.now() - timedelta(seconds=1))

    second, count = outbox_claim(Job.objects.all(), fields=FIELDS, limit=10, lease=LEASE)

    assert count == 1
    assert claimed(second) == [jobs[0].pk]
    assert outbox_unclaimed(Job.objects.all(), fields=FIELDS).count() == 0


def test_release_gives_back_only_the_rows_of_that_claim(jobs):
    mine, _ = outbox_claim(Job.objects.filter(pk__in=[jobs[0].pk, jobs[1].pk]), fields=FIELDS, limit=10, lease=LEASE)
    theirs, _ = outbox_claim(Job.objects.filter(pk=jobs[2].pk), fields=FIELDS, limit=10, lease=LEASE)

    released = outbox_release(Job.objects.all(), fields=FIELDS, claim=mine)

    assert released == 2
    assert claimed(theirs) == [jobs[2].pk]
    assert sorted(outbox_unclaimed(Job.objects.all(), fields=FIELDS).values_list("pk", flat=True)) == [
        jobs[0].pk,
        jobs[1].pk,
        jobs[3].pk,
    ]


def test_complete_marks_done_clears_the_retry_state_and_writes_the_changes(jobs):
    Job.objects.update(attempts=2, last_error="HTTP 503", next_attempt_at=timezone.now())
    claim, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)
    moment = timezone.now()

    done = outbox_complete(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, claim=claim, sent_at=moment, attempts=3)

    job = Job.objects.get(pk=jobs[0].pk)
    assert done == 1
    assert (job.state, job.last_error, job.next_attempt_at, job.sent_at, job.attempts) == ("sent", "", None, moment, 3)
    assert (job.claim, job.claimed_until) == (None, None)


def test_a_worker_that_lost_its_claim_cannot_complete_the_row(jobs):
    stale, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)
    Job.objects.filter(pk=jobs[0].pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    current, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)

    assert outbox_complete(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, claim=stale) == 0
    assert Job.objects.get(pk=jobs[0].pk).state == "pending"
    assert claimed(current) == [jobs[0].pk]


def test_a_failure_counts_the_attempt_and_sets_the_next_after_the_backoff(jobs):
    claim, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)
    before = timezone.now()

    outcome = outbox_record_failure(
        list(Job.objects.filter(claim=claim)), fields=FIELDS, claim=claim, error="HTTP 503", policy=POLICY
    )

    job = Job.objects.get(pk=jobs[0].pk)
    assert (job.state, job.attempts, job.last_error, job.claim) == ("pending", 1, "HTTP 503", None)
    # The first retry waits the base delay of 10 s, give or take the jitter.
    assert before + timedelta(seconds=8) <= job.next_attempt_at <= timezone.now() + timedelta(seconds=12)
    assert outcome.retrying == {job.next_attempt_at: [job.pk]} and outcome.failed == []


def test_a_failure_waits_at_least_what_the_peer_asked(jobs):
    claim, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)
    before = timezone.now()

    outbox_record_failure(
        list(Job.objects.filter(claim=claim)), fields=FIELDS, claim=claim, error="429", policy=POLICY, retry_after=600
    )

    assert Job.objects.get(pk=jobs[0].pk).next_attempt_at >= before + timedelta(seconds=600)


def test_a_permanent_failure_gives_up_at_once(jobs):
    claim, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)

    outcome = outbox_record_failure(
        list(Job.objects.filter(claim=claim)), fields=FIELDS, claim=claim, error="403", policy=POLICY, permanent=True
    )

    job = Job.objects.get(pk=jobs[0].pk)
    assert (job.state, job.attempts, job.next_attempt_at, job.claim) == ("failed", 1, None, None)
    assert outcome.failed == [job.pk] and outcome.retrying == {}


def test_the_last_allowed_attempt_gives_up(jobs):
    Job.objects.filter(pk=jobs[0].pk).update(attempts=POLICY.max_attempts - 1)
    claim, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)

    outbox_record_failure(list(Job.objects.filter(claim=claim)), fields=FIELDS, claim=claim, error="503", policy=POLICY)

    job = Job.objects.get(pk=jobs[0].pk)
    assert (job.state, job.attempts) == ("failed", POLICY.max_attempts)


def test_a_failure_is_not_written_over_a_row_another_worker_claimed(jobs):
    stale, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)
    rows = list(Job.objects.filter(claim=stale))
    Job.objects.filter(pk=jobs[0].pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    current, _ = outbox_claim(Job.objects.filter(pk=jobs[0].pk), fields=FIELDS, limit=1, lease=LEASE)

    outcome = outbox_record_failure(rows, fields=FIELDS, claim=stale, error="503", policy=POLICY)

    job = Job.objects.get(pk=jobs[0].pk)
    assert (job.attempts, job.last_error, job.claim) == (0, "", current)
    assert outcome.retrying == {} and outcome.failed == []


def fail_every_job(**failure):
    """Claims every job and records a failure on all of them; what was scheduled, and the outcome."""
    claim, _ = outbox_claim(Job.objects.all(), fields=FIELDS, limit=10, lease=LEASE)
    scheduled: list[tuple[list[int], object]] = []
    outcome = outbox_record_failure(
        list(Job.objects.filter(claim=claim)),
        fields=FIELDS,
        claim=claim,
        policy=POLICY,
        schedule=lambda pks, moment: scheduled.append((pks, moment)),
        **failure,
    )
    return scheduled, outcome


def test_retries_are_scheduled_once_per_moment_with_their_rows(jobs):
    # A Retry-After longer than any backoff: every row is due at the same moment.
    scheduled, outcome = fail_every_job(error="429", retry_after=600)

    [(moment, pks)] = outcome.retrying.items()
    assert scheduled == [(pks, moment)]
    assert sorted(pks) == sorted(job.pk for job in jobs)
    assert outcome.retrying_count == len(jobs)


def test_rows_due_at_different_moments_are_scheduled_apart(jobs):
    scheduled, outcome = fail_every_job(error="503")

    assert [(moment, pks) for pks, moment in scheduled] == list(outcome.retrying.items())
    assert sorted(pk for pks, _ in scheduled for pk in pks) == sorted(job.pk for job in jobs)


def test_due_rows_are_pending_and_past_their_next_attempt(jobs):
    now = timezone.now()
    Job.objects.filter(pk=jobs[0].pk).update(next_attempt_at=now + timedelta(minutes=5))  # waiting
    Job.objects.filter(pk=jobs[1].pk).update(next_attempt_at=now + timedelta(milliseconds=500))  # due, nearly
    Job.objects.filter(pk=jobs[2].pk).update(state="failed")

    due = outbox_due(Job.objects.all(), fields=FIELDS, now=now)

    assert sorted(due.values_list("pk", flat=True)) == [jobs[1].pk, jobs[3].pk]


@task()
def job_touch(job_id: int) -> None:
    Job.objects.filter(pk=job_id).update(last_error="touched")


def test_a_task_is_enqueued_once_per_row(jobs):
    assert task_enqueue(task=job_touch, args=[jobs[0].pk, jobs[1].pk]) is True

    assert sorted(Job.objects.filter(last_error="touched").values_list("pk", flat=True)) == [jobs[0].pk, jobs[1].pk]


def test_a_deferred_retry_is_left_to_the_sweep_when_the_backend_cannot_defer(jobs):
    assert not job_touch.get_backend().supports_defer  # the test settings run tasks at once

    assert task_enqueue(task=job_touch, args=[jobs[0].pk], run_after=timezone.now()) is False
    assert not Job.objects.filter(last_error="touched").exists()


def test_a_deferred_retry_waits_for_its_moment(jobs, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    moment = timezone.now() + timedelta(minutes=3)

    assert task_enqueue(task=job_touch, args=[jobs[0].pk], run_after=moment) is True

    [result] = job_touch.get_backend().results
    assert (result.args, result.task.run_after) == ([jobs[0].pk], moment)
    assert not Job.objects.filter(last_error="touched").exists()
