"""
Every chart and list of the insights page as a table: the page's CSV links
download exactly these rows, and the page's charts are drawn from the same
report, so the two cannot disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from insights.selectors import Report

Table = tuple[list[str], list[list]]


def _daily(*columns: str) -> Callable[[Report], Table]:
    def table(report: Report) -> Table:
        return ["day", *columns], [[day["day"], *(day[name] for name in columns)] for day in report.days]

    return table


def _outcomes(report: Report) -> Table:
    header = ["day", "questions", "answered", "refused", "conversations", "handed_over"]
    return header, [[d["day"], *(d[name] for name in header[1:])] for d in report.days]


def _lead_status(report: Report) -> Table:
    return ["status", "leads"], [[row["status"], row["leads"]] for row in report.leads_by_status]


def _unanswered(report: Report) -> Table:
    return ["question", "times_asked", "last_asked"], [
        [row["question"], row["count"], row["last_asked"].isoformat()] for row in report.unanswered
    ]


def _cited(report: Report) -> Table:
    return ["source", "key", "citations"], [[row["title"], row["key"], row["count"]] for row in report.cited]


def _never_cited(report: Report) -> Table:
    return ["source", "kind", "url"], [[row["title"], row["kind"], row["url"]] for row in report.never_cited]


def _asked(report: Report) -> Table:
    return ["question", "times_asked"], [[row["question"], row["count"]] for row in report.asked]


TABLES: dict[str, tuple[str, Callable[[Report], Table]]] = {
    "volume": (
        "Conversations and visitor messages per day",
        _daily("conversations", "visitor_messages", "staff_replies"),
    ),
    "outcomes": ("Answered, refused and handed to a person", _outcomes),
    "feedback": ("Thumbs up and down per day", _daily("thumbs_up", "thumbs_down")),
    "leads": ("Leads per day", _daily("leads")),
    "lead_status": ("Leads by status", _lead_status),
    "first_token": ("Time to first token (ms)", _daily("first_token_p50", "first_token_p95")),
    "tokens": ("LLM tokens and estimated cost per day", _daily("prompt_tokens", "completion_tokens", "cost")),
    "unanswered": ("Top unanswered questions", _unanswered),
    "cited": ("Most cited sources", _cited),
    "never_cited": ("Sources never cited", _never_cited),
    "asked": ("Most asked questions", _asked),
}


def table_csv(*, name: str, report: Report) -> str:
    header, rows = TABLES[name][1](report)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if value is None else _safe(value) for value in row])
    return buffer.getvalue()


def _safe(value):
    """A cell a spreadsheet would run as a formula (=, +, -, @ first) is quoted with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
