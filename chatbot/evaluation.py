"""
Answer evaluation: a question file through the real answer pipeline, scored.

    questions = eval_questions_parse(data=..., filename="dev.jsonl")
    results = await eval_run(questions=questions)        # one EvalResult per question
    summary = eval_summary(results)

A question file is JSONL (one object a line) or CSV with the same columns:

    {"question": "...", "expected_sources": ["file name or source title", ...],
     "expected_answer": "optional text", "group": "optional label"}

An empty `expected_sources` marks a question the knowledge base does not answer:
the right outcome is a refusal. In CSV, `expected_sources` holds the names
separated by `|`.

Each question is asked in a conversation of its own on the `eval` channel: the
pipeline is the one both doors use, but contact details in a question make no
lead, the question never reaches the unanswered list, and the conversations
are deleted when the run ends.
"""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, field

from channels.db import database_sync_to_async
from django.db.models import Q

from conversations.models import Conversation, new_conversation_id
from conversations.types import SourceItem
from knowledge.models import FAQ, Document

WORD_RE = re.compile(r"\w+", re.UNICODE)
# Function words carry no content: token recall counts the words that do.
RECALL_STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could do does did for from had has have how i if in into is it
    its me my of on or our so than that the their them then there these they this to too was we were what
    when where which who why will with would you your yours not no yes also just only any all more most
    """.split()
)


class EvalFileError(ValueError):
    """The question file cannot be read; the message says where and why."""


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    expected_sources: tuple[str, ...]
    expected_answer: str = ""
    group: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.expected_sources)


@dataclass
class EvalResult:
    question: str
    answerable: bool
    answered: bool
    cited_sources: list[str]
    first_source_right: bool | None  # None when there is nothing to judge (refused, or unanswerable)
    token_recall: float | None  # None without an expected answer
    time_to_first_token_ms: float | None
    answer: str
    group: str = ""
    error: str = ""

    @property
    def right(self) -> bool:
        """Refused when it should be; answered with an expected first source when it should be."""
        if not self.answerable:
            return not self.answered
        return self.answered and self.first_source_right is not False

    def as_dict(self) -> dict:
        return {**asdict(self), "right": self.right}


# --- Reading a question file --------------------------------------------------------------------


def eval_questions_parse(*, data: bytes | str, filename: str = "") -> list[EvalQuestion]:
    """Questions from JSONL, or from CSV when the file name ends in .csv."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
    if filename.lower().endswith(".csv"):
        rows = _csv_rows(text)
    else:
        rows = _jsonl_rows(text)
    questions = [_question(row, where) for where, row in rows]
    if not questions:
        raise EvalFileError("The file holds no questions.")
    return questions


def _jsonl_rows(text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalFileError(f"Line {number}: not JSON ({exc.msg}).") from None
        if not isinstance(row, dict):
            raise EvalFileError(f"Line {number}: expected a JSON object.")
        yield f"Line {number}", row


def _csv_rows(text: str):
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "question" not in reader.fieldnames:
        raise EvalFileError("The CSV needs a header row with a `question` column.")
    for number, row in enumerate(reader, start=2):
        sources = [name.strip() for name in (row.get("expected_sources") or "").split("|") if name.strip()]
        yield f"Row {number}", {**row, "expected_sources": sources}


def _question(row: dict, where: str) -> EvalQuestion:
    question = row.get("question")
    if not isinstance(question, str) or not question.strip():
        raise EvalFileError(f"{where}: `question` must be a non-empty string.")
    sources = row.get("expected_sources", [])
    if not isinstance(sources, list) or not all(isinstance(name, str) for name in sources):
        raise EvalFileError(f"{where}: `expected_sources` must be a list of strings.")
    answer = row.get("expected_answer") or ""
    group = row.get("group") or ""
    if not isinstance(answer, str) or not isinstance(group, str | int):
        raise EvalFileError(f"{where}: `expected_answer` and `group` must be strings.")
    return EvalQuestion(
        question=question.strip(),
        expected_sources=tuple(name.strip() for name in sources if name.strip()),
        expected_answer=answer.strip(),
        group=str(group),
    )


# --- Scoring -------------------------------------------------------------------------------------


def content_words(text: str) -> set[str]:
    return {word for word in WORD_RE.findall(text.lower()) if word not in RECALL_STOPWORDS}


def token_recall(*, expected: str, answer: str) -> float | None:
    """The share of the expected answer's content words that the answer holds."""
    wanted = content_words(expected)
    if not wanted:
        return None
    return len(wanted & content_words(answer)) / len(wanted)


@dataclass(frozen=True)
class SourceKey:
    kind: str  # "document" or "faq"
    id: int


def _source_keys(names: Sequence[str]) -> set[SourceKey]:
    """The sources a question file names: a file name (identifier), a title, a web page's URL or an FAQ question."""
    keys: set[SourceKey] = set()
    for name in names:
        documents = Document.objects.filter(Q(identifier__iexact=name) | Q(title__iexact=name) | Q(url=name))
        keys.update(SourceKey("document", pk) for pk in documents.values_list("pk", flat=True))
        faqs = FAQ.objects.filter(question__iexact=name)
        keys.update(SourceKey("faq", pk) for pk in faqs.values_list("pk", flat=True))
    return keys


_SOURCE_PATH_RE = re.compile(r"^/kb/(sources|faqs)/(\d+)/")


def _cited_key(url: str, documents_by_url: dict[str, int]) -> SourceKey | None:
    """A cited source's URL (`/kb/sources/<id>/#chunk-…`, `/kb/faqs/<id>/` or a web page's URL) as a key."""
    match = _SOURCE_PATH_RE.match(url)
    if match:
        return SourceKey("document" if match.group(1) == "sources" else "faq", int(match.group(2)))
    document_id = documents_by_url.get(url)
    return SourceKey("document", document_id) if document_id else None


# --- Running ------------------------------------------------------------------------------------


@dataclass
class _Collected:
    answer: str = ""
    answered: bool = False
    sources: list[SourceItem] = field(default_factory=list)
    first_token_ms: float | None = None
    error: str = ""


async def _ask(question: str) -> _Collected:
    from chatbot.pipeline import answer_stream

    collected = _Collected()
    parts: list[str] = []
    started = time.perf_counter()
    conversation_id = new_conversation_id()
    async for frame in answer_stream(
        conversation_id=conversation_id, text=question, channel=Conversation.Channel.EVAL, admitted=True
    ):
        if frame["type"] == "token":
            if collected.first_token_ms is None:
                collected.first_token_ms = (time.perf_counter() - started) * 1000
            parts.append(frame["text"])
        elif frame["type"] == "sources":
            collected.sources = list(frame["items"])
        elif frame["type"] == "done":
            collected.answered = bool(frame["answered"])
        elif frame["type"] == "error":
            collected.error = f"{frame['code']}: {frame['message']}"
    collected.answer = "".join(parts)
    return collected


def _documents_by_url() -> dict[str, int]:
    return dict(Document.objects.exclude(url="").values_list("url", "pk"))


async def eval_run(*, questions: Sequence[EvalQuestion]) -> AsyncIterator[EvalResult]:
    """Asks each question in turn, in a fresh `eval` conversation, and yields its scored result."""
    documents_by_url = await database_sync_to_async(_documents_by_url)()
    try:
        for item in questions:
            expected = await database_sync_to_async(_source_keys)(item.expected_sources)
            collected = await _ask(item.question)
            # Only a grounded answer cites; a refusal's sources (none) are not judged.
            answered = collected.answered and not collected.error
            cited = [source["title"] for source in collected.sources]
            first_right: bool | None = None
            if item.answerable and answered:
                first = collected.sources[0]["url"] if collected.sources else ""
                first_right = _cited_key(first, documents_by_url) in expected
            recall = None
            if item.expected_answer:
                recall = token_recall(expected=item.expected_answer, answer=collected.answer if answered else "")
            yield EvalResult(
                question=item.question,
                answerable=item.answerable,
                answered=answered,
                cited_sources=cited,
                first_source_right=first_right,
                token_recall=recall,
                time_to_first_token_ms=round(collected.first_token_ms, 1) if collected.first_token_ms else None,
                answer=collected.answer,
                group=item.group,
                error=collected.error,
            )
    finally:
        await database_sync_to_async(eval_conversations_delete)()


def eval_conversations_delete() -> int:
    """Removes the conversations an evaluation asked in (they are not visitors')."""
    deleted, _ = Conversation.objects.filter(channel=Conversation.Channel.EVAL).delete()
    return deleted


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


def eval_summary(results: Sequence[EvalResult]) -> dict:
    """
    The totals of a run. Rates are shares (0-1): `answerable_answered` of the
    answerable questions, `unanswerable_refused` of the others,
    `first_source_right` of the answerable questions that were answered,
    `token_recall` the mean over answerable questions with an expected answer
    (a refusal counts 0; `token_recall_answered` leaves refusals out).
    """
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in answerable if r.answered]
    recalls = [r.token_recall for r in answerable if r.token_recall is not None]
    recalls_answered = [r.token_recall for r in answered if r.token_recall is not None]
    first_tokens = [r.time_to_first_token_ms for r in results if r.time_to_first_token_ms is not None]
    summary: dict = {
        "summary": True,
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answerable_answered": _rate(len(answered), len(answerable)),
        "unanswerable_refused": _rate(sum(not r.answered for r in unanswerable), len(unanswerable)),
        "first_source_right": _rate(sum(bool(r.first_source_right) for r in answered), len(answered)),
        "token_recall": round(statistics.fmean(recalls), 4) if recalls else None,
        "token_recall_answered": round(statistics.fmean(recalls_answered), 4) if recalls_answered else None,
        "errors": sum(bool(r.error) for r in results),
        "time_to_first_token_ms": {"p50": _percentile(first_tokens, 0.5), "p95": _percentile(first_tokens, 0.95)},
    }
    groups: dict[str, dict] = {}
    for result in results:
        if result.group:
            group = groups.setdefault(
                result.group, {"questions": 0, "answerable": result.answerable, "answered": 0, "refused": 0}
            )
            group["questions"] += 1
            group["answered" if result.answered else "refused"] += 1
    if groups:
        summary["groups"] = groups
    return summary
