"""
Seeds a busy site's history for the insights page and its benchmark:
conversations and messages spread over the last days, as the pipeline stores
them (questions answered or refused, answers with sources, timings and tokens,
feedback, handoffs with staff replies, leads).

Rows go in with COPY on PostgreSQL and one `executemany` per batch on SQLite,
not through the ORM: a million messages in a minute or two rather than half an
hour. The figures are drawn from a seeded random generator, so a seed gives
the same site every time.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from conversations.models import Conversation, Message
from leads.models import Lead

BATCH = 20_000
QUESTIONS = [
    "Do you ship to Canada?",
    "How long does delivery take?",
    "What is your return policy?",
    "How long is the battery warranty?",
    "What is the range of the Commuter 2?",
    "Can I test ride a bike?",
    "Do you offer financing?",
    "How much is the cargo bike?",
    "Where is your showroom?",
    "What tyre pressure should I use?",
    "Is the first service free?",
    "Do you lease bikes to companies?",
    "How do I charge the battery?",
    "What sizes does the Trail X come in?",
    "Can I rent an e-bike for a weekend?",
    "Do you sell gift cards?",
    "Do you ship to Mexico?",
    "Can I pay with PayPal?",
    "Do you have a student discount?",
    "Is there a child seat for the cargo bike?",
]
UNANSWERED_FROM = 14  # questions from this index on are outside the knowledge base
SOURCES = [
    ("Shipping and delivery", "/kb/sources/1/#chunk-1"),
    ("Returns policy > Refunds (p. 1)", "/kb/sources/2/#chunk-4"),
    ("Warranty", "/kb/sources/3/#chunk-2"),
    ("Products", "/kb/sources/4/#chunk-7"),
    ("Care and maintenance (p. 2)", "/kb/sources/5/#chunk-3"),
    ("Company and contact", "/kb/sources/6/#chunk-1"),
]


@dataclass(frozen=True)
class SeedReport:
    conversations: int
    messages: int
    leads: int
    days_rolled_up: int


def _token(nbytes: int) -> str:
    token = secrets.token_urlsafe(nbytes)
    return "x" + token[1:] if token.startswith("-") else token


class _Writer:
    """Rows of one model, in its column order, written in batches (COPY or executemany)."""

    def __init__(self, model: type[Model]) -> None:
        self.table: str = model._meta.db_table
        automatic = ("AutoField", "BigAutoField")
        fields = [f for f in model._meta.concrete_fields if f.get_internal_type() not in automatic]
        self.columns: list[str] = [f.column or f.attname for f in fields]
        self.defaults = {f.attname: self._default(f) for f in fields}
        self.attnames = [f.attname for f in fields]
        self.postgres = connection.vendor == "postgresql"
        self.rows: list[tuple] = []
        self.written = 0

    @staticmethod
    def _default(field) -> object:
        if field.has_default() and field.default in (list, dict):
            return json.dumps(field.default())
        if field.has_default() and not callable(field.default):
            return field.default
        return None if field.null else ""

    def add(self, **values: object) -> None:
        row = []
        for name in self.attnames:
            value = values.get(name, self.defaults[name])
            if isinstance(value, dt.datetime) and not self.postgres:
                value = value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ")
            row.append(value)
        self.rows.append(tuple(row))
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {connection.ops.quote_name(self.table)} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(
                    f"INSERT INTO {connection.ops.quote_name(self.table)} ({columns}) VALUES ({marks})", self.rows
                )
        self.written += len(self.rows)
        self.rows = []


def _question_index(rng: random.Random) -> int:
    """Zipf-like: a few questions are asked far more often than the rest."""
    weights = [1 / (rank + 1) for rank in range(len(QUESTIONS))]
    return rng.choices(range(len(QUESTIONS)), weights=weights)[0]


def _exchange(rng: random.Random, asked_at: dt.datetime) -> tuple[dict, dict]:
    index = _question_index(rng)
    text = QUESTIONS[index]
    if rng.random() < 0.3:
        text = text.lower().rstrip("?")
    answered = index < UNANSWERED_FROM and rng.random() < 0.95
    question = {"role": Message.Role.VISITOR, "text": text, "answered": answered, "language": "en"}
    first_token = int(math.exp(rng.gauss(math.log(450), 0.5)))
    sources = []
    if answered:
        title, url = SOURCES[index % len(SOURCES)]
        sources = [{"n": 1, "title": title, "url": url, "snippet": ""}]
    feedback = rng.choices([None, 1, -1], weights=[90, 8, 2])[0]
    answer = {
        "role": Message.Role.ASSISTANT,
        "text": "Here is what our knowledge base says [1]." if answered else "I'm sorry, I couldn't find that.",
        "answered": answered,
        "sources": json.dumps(sources),
        "confidence": round(rng.uniform(0.4, 0.9) if answered else rng.uniform(0.05, 0.3), 3),
        "provider": "openai" if answered else "",
        "model": "gpt-4o-mini" if answered else "",
        "prompt_tokens": rng.randint(600, 1400) if answered else None,
        "completion_tokens": rng.randint(40, 220) if answered else None,
        "time_to_first_token_ms": first_token,
        "duration_ms": first_token + rng.randint(200, 2500),
        "feedback": feedback,
        "feedback_at": asked_at + dt.timedelta(seconds=30) if feedback else None,
    }
    return question, answer


def insights_seed(
    *,
    conversations: int,
    messages: int,
    days: int = 90,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> SeedReport:
    """
    Adds `conversations` visitor conversations holding `messages` messages in
    all (question-and-answer pairs, and staff replies in the 3% handed over),
    created over the last `days` days; then rolls those days up.
    """
    from insights.services import insights_rollup

    rng = random.Random(seed)
    now = timezone.now()
    base, extra = divmod(messages, max(conversations, 1))
    conversation_rows = _Writer(Conversation)
    message_rows = _Writer(Message)
    lead_rows = _Writer(Lead)
    with transaction.atomic():
        for number in range(conversations):
            started = now - dt.timedelta(seconds=rng.uniform(0, days * 86400))
            conversation_id = _token(24)
            count = base + (1 if number < extra else 0)
            handed = rng.random() < 0.03
            moment = started
            for written in _conversation_messages(rng, conversation_id, count, handed, started, message_rows):
                moment = written
            conversation_rows.add(
                id=conversation_id,
                channel=Conversation.Channel.WIDGET if rng.random() < 0.9 else Conversation.Channel.API,
                created_at=started,
                last_message_at=moment,
                handed_over_at=started + dt.timedelta(minutes=2) if handed else None,
            )
            if rng.random() < 0.02:
                lead_rows.add(
                    name="Seeded visitor",
                    email=f"visitor{number}@example.com",
                    status=rng.choice(Lead.Status.values),
                    sync_version=_uuid(rng),
                    created_at=started,
                    updated_at=started,
                    sync_state="synced",
                )
            if progress and number % 1000 == 999:
                progress(1000)
        for writer in (conversation_rows, message_rows, lead_rows):
            writer.flush()
    _statistics_refresh(conversation_rows, message_rows, lead_rows)
    rolled = insights_rollup(days=days + 1)
    return SeedReport(conversation_rows.written, message_rows.written, lead_rows.written, rolled)


def _statistics_refresh(*writers: _Writer) -> None:
    """
    ANALYZE the tables just filled: after a bulk load the planner's statistics
    still describe the empty tables (PostgreSQL's autovacuum catches up only
    later), and a join planned for 70 conversations over 100,000 takes seconds.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for writer in writers:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(writer.table)}")
        else:
            cursor.execute("ANALYZE")


def _uuid(rng: random.Random) -> object:
    value = uuid.UUID(int=rng.getrandbits(128), version=4)
    return value if connection.vendor == "postgresql" else value.hex


def _conversation_messages(
    rng: random.Random, conversation_id: str, count: int, handed: bool, started: dt.datetime, rows: _Writer
) -> Iterator[dt.datetime]:
    """Question-and-answer pairs; in a conversation handed over, its second half is between visitor and staff."""
    moment = started
    answer: dict = {}
    for index in range(count):
        moment = moment + dt.timedelta(seconds=rng.uniform(5, 90))
        common = {"public_id": _token(12), "conversation_id": conversation_id, "created_at": moment}
        if handed and index >= count // 2:
            staff = index % 2 == 1
            rows.add(
                **common,
                role=Message.Role.AGENT if staff else Message.Role.VISITOR,
                text="A colleague here: happy to help." if staff else "Thanks!",
            )
        elif index % 2 == 0:
            question, answer = _exchange(rng, moment)
            rows.add(**common, **question)
        else:
            rows.add(**common, **answer)
        yield moment
