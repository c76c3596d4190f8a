"""
An outbox on any model: rows that stand for work another system must see (a
row pushed to a spreadsheet, a webhook, an email), done by whichever worker
claims them first and retried until done or given up.

Claiming is one conditional UPDATE that writes a claim id and a lease: its
WHERE repeats the caller's conditions and "unclaimed, or the lease is over",
and the database evaluates it row by row as it writes, so of two workers
racing for a row only one gets it, and a worker that died leaves its rows to
the next one once the lease runs out. Every later write is conditional on the
claim too, so a worker that outlived its lease cannot overwrite the outcome of
the one that took over. A failure keeps the error, counts the attempt and sets
the next one after a backoff (`core.retry`, never before the peer's
Retry-After), or gives the row up as failed after too many attempts or on a
permanent error.

A model takes part by having the columns `OutboxFields` names (state,
attempts, error, next attempt, claim, lease end); this module imports no app.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from core.retry import backoff_delay

# A deferred retry task runs on time, not later; a row is due a little early so
# the task that was scheduled for it finds it due.
DUE_EARLY = timedelta(seconds=1)
ERROR_MAX_CHARS = 2000


@dataclass(frozen=True)
class OutboxFields:
    """The names of a model's outbox columns, and the values its state column takes."""

    state: str = "state"
    attempts: str = "attempts"
    error: str = "last_error"
    next_attempt_at: str = "next_attempt_at"
    claim: str = "claim"
    claimed_until: str = "claimed_until"
    pending: str = "pending"
    done: str = "done"
    failed: str = "failed"

    def unclaimed(self, *, now: datetime) -> Q:
        """Never claimed, or the lease is over."""
        return Q(**{f"{self.claimed_until}__isnull": True}) | Q(**{f"{self.claimed_until}__lt": now})

    def released(self) -> dict[str, None]:
        return {self.claim: None, self.claimed_until: None}


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a failed row is tried again."""

    max_attempts: int
    base: float
    cap: float

    def delay(self, *, attempts: int, retry_after: float | None = None) -> float:
        return backoff_delay(attempt=attempts, base=self.base, cap=self.cap, retry_after=retry_after)


@dataclass
class Failures:
    """What `outbox_record_failure` did: rows to retry (by the time of their next attempt) and rows given up."""

    retrying: dict[datetime, list[Any]] = field(default_factory=dict)
    failed: list[Any] = field(default_factory=list)

    @property
    def retrying_count(self) -> int:
        return sum(len(pks) for pks in self.retrying.values())


def outbox_unclaimed(queryset: QuerySet[Any], *, fields: OutboxFields, now: datetime | None = None) -> QuerySet[Any]:
    """The rows of `queryset` no worker holds a live claim on."""
    return queryset.filter(fields.unclaimed(now=now or timezone.now()))


def outbox_due(queryset: QuerySet[Any], *, fields: OutboxFields, now: datetime | None = None) -> QuerySet[Any]:
    """The pending rows of `queryset` whose next attempt has come (or was never set)."""
    soon = (now or timezone.now()) + DUE_EARLY
    return queryset.filter(
        Q(**{fields.state: fields.pending}),
        Q(**{f"{fields.next_attempt_at}__isnull": True}) | Q(**{f"{fields.next_attempt_at}__lte": soon}),
    )


def outbox_claim(
    queryset: QuerySet[Any], *, fields: OutboxFields, limit: int, lease: timedelta
) -> tuple[uuid.UUID, int]:
    """
    Claims up to `limit` rows of `queryset` until `lease` from now; the claim
    id and how many rows it got (0 when another worker was faster). The
    claimed rows are then `queryset.model` rows with `fields.claim` = the id.
    """
    claim = uuid.uuid4()
    now = timezone.now()
    ids = list(queryset.values_list("pk", flat=True)[:limit])
    if not ids:
        return claim, 0
    claimed = (
        queryset.filter(pk__in=ids)
        .filter(fields.unclaimed(now=now))
        .update(**{fields.claim: claim, fields.claimed_until: now + lease})
    )
    return claim, claimed


def outbox_release(queryset: QuerySet[Any], *, fields: OutboxFields, claim: uuid.UUID) -> int:
    """Gives back the rows of `queryset` still under `claim`, untouched otherwise."""
    return queryset.filter(**{fields.claim: claim}).update(**fields.released())


def outbox_complete(queryset: QuerySet[Any], *, fields: OutboxFields, claim: uuid.UUID, **changes: Any) -> int:
    """
    Marks the rows of `queryset` still under `claim` done, clears their error
    and retry state and releases them; `changes` are written with them (and
    win over those defaults). How many rows were still ours.
    """
    values: dict[str, Any] = {
        fields.state: fields.done,
        fields.error: "",
        fields.attempts: 0,
        fields.next_attempt_at: None,
        **fields.released(),
    }
    return queryset.filter(**{fields.claim: claim}).update(**{**values, **changes})


def outbox_record_failure(
    rows: Sequence[models.Model],
    *,
    fields: OutboxFields,
    claim: uuid.UUID,
    error: str,
    policy: RetryPolicy,
    permanent: bool = False,
    retry_after: float | None = None,
    schedule: Callable[[list[Any], datetime], None] | None = None,
) -> Failures:
    """
    Records a failed attempt on claimed `rows` and releases them: each keeps
    the error and counts the attempt, and is either given up as failed
    (`permanent`, or its attempts reached `policy.max_attempts`) or left pending
    with its next attempt after the backoff. `schedule(pks, moment)`, when
    given, is called once per moment with the rows to retry then. Rows no
    longer under `claim` are left alone.
    """
    outcome = Failures()
    if not rows:
        return outcome
    manager = type(rows[0])._default_manager
    now = timezone.now()
    for row in rows:
        attempts = getattr(row, fields.attempts) + 1
        gave_up = permanent or attempts >= policy.max_attempts
        next_attempt = (
            None if gave_up else now + timedelta(seconds=policy.delay(attempts=attempts, retry_after=retry_after))
        )
        updated = manager.filter(**{"pk": row.pk, fields.claim: claim}).update(
            **{
                fields.state: fields.failed if gave_up else fields.pending,
                fields.error: error[:ERROR_MAX_CHARS],
                fields.attempts: attempts,
                fields.next_attempt_at: next_attempt,
                **fields.released(),
            }
        )
        if not updated:
            continue
        if next_attempt is None:
            outcome.failed.append(row.pk)
        else:
            outcome.retrying.setdefault(next_attempt, []).append(row.pk)
    if schedule is not None:
        for moment, pks in outcome.retrying.items():
            schedule(pks, moment)
    return outcome


def task_enqueue(*, task: Any, args: Iterable[Any], run_after: datetime | None = None) -> bool:
    """
    Enqueues `task` once per argument, at `run_after` when given. A backend
    that cannot defer gets nothing for a deferred run (False): the rows stay
    pending for the next sweep instead of being retried at once.
    """
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return False
        task = task.using(run_after=run_after)
    for arg in args:
        task.enqueue(arg)
    return True
