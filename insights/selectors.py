"""
Reads of insights: the report of a period, from the daily rollups (past days)
and today's rows (live), plus the few panels that are current state rather
than history (leads by status, open unanswered questions, the sources that
exist now).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from insights.figures import day_bounds, histogram_percentile, histograms_add, share
from insights.models import InsightsDay
from insights.services import insights_day_figures, insights_day_rollup, llm_cost
from knowledge.models import FAQ, Document
from leads.models import Lead

PERIODS = (7, 30, 90)
MAX_PERIOD_DAYS = 366
TOP = 15
DAY_FIELDS = [
    "conversations",
    "visitor_messages",
    "questions",
    "answered",
    "refused",
    "handed_over",
    "staff_replies",
    "answers",
    "thumbs_up",
    "thumbs_down",
    "leads",
    "prompt_tokens",
    "completion_tokens",
]


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    label: str  # "7", "30", "90" or "custom"

    @property
    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=n) for n in range((self.end - self.start).days + 1)]


class PeriodError(ValueError):
    pass


def period_parse(*, period: str = "", start: str = "", end: str = "", today: dt.date | None = None) -> Period:
    """The period a request asks for: the last 7, 30 or 90 days (today included), or custom dates."""
    today = today or timezone.localdate()
    if period == "custom" or (start and end and not period):
        try:
            first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
        except ValueError:
            raise PeriodError("Give both dates as YYYY-MM-DD.") from None
        if first > last:
            raise PeriodError("The start date is after the end date.")
        if (last - first).days >= MAX_PERIOD_DAYS:
            raise PeriodError(f"A period can be at most {MAX_PERIOD_DAYS} days long.")
        return Period(start=first, end=last, label="custom")
    days = int(period) if period.isdigit() and int(period) in PERIODS else 30
    return Period(start=today - dt.timedelta(days=days - 1), end=today, label=str(days))


@dataclass
class Report:
    period: Period
    days: list[dict] = field(default_factory=list)  # one per day: the DAY_FIELDS and first-token p50/p95
    totals: dict = field(default_factory=dict)
    leads_by_status: list[dict] = field(default_factory=list)
    unanswered: list[dict] = field(default_factory=list)
    cited: list[dict] = field(default_factory=list)
    never_cited: list[dict] = field(default_factory=list)
    asked: list[dict] = field(default_factory=list)


def _day_rows(period: Period) -> list[tuple[dt.date, dict[str, Any]]]:
    """Each day's figures: stored rollups, missing past days rolled up now, today computed live."""
    today = timezone.localdate()
    stored: dict[dt.date, dict[str, Any]] = {
        row["day"]: dict(row) for row in InsightsDay.objects.filter(day__range=(period.start, period.end)).values()
    }
    rows: list[tuple[dt.date, dict[str, Any]]] = []
    for day in period.days:
        if day > today:
            rows.append((day, {}))
        elif day in stored:
            rows.append((day, stored[day]))
        elif day == today:
            rows.append((day, insights_day_figures(day=day)))
        else:
            row = insights_day_rollup(day=day)
            rows.append((day, {f.attname: getattr(row, f.attname) for f in InsightsDay._meta.fields}))
    return rows


def insights_report(*, period: Period) -> Report:
    report = Report(period=period)
    histograms: list[list[int]] = []
    cited: dict[str, dict[str, Any]] = {}
    asked: dict[str, dict[str, Any]] = {}
    unanswered: dict[str, dict[str, Any]] = {}
    for day, row in _day_rows(period):
        figures = {name: row.get(name, 0) for name in DAY_FIELDS}
        histogram = row.get("first_token_histogram") or []
        histograms.append(histogram)
        figures |= {
            "day": day.isoformat(),
            "first_token_p50": histogram_percentile(histogram, 0.5),
            "first_token_p95": histogram_percentile(histogram, 0.95),
            "cost": llm_cost(prompt_tokens=figures["prompt_tokens"], completion_tokens=figures["completion_tokens"]),
        }
        report.days.append(figures)
        for key, entry in (row.get("cited") or {}).items():
            total = cited.setdefault(key, {"key": key, "title": entry["title"], "count": 0})
            total["count"] += entry["count"]
        for key, entry in (row.get("asked") or {}).items():
            total = asked.setdefault(key, {"question": entry["text"], "count": 0})
            total["count"] += entry["count"]
        for key, entry in (row.get("unanswered") or {}).items():
            total = unanswered.setdefault(key, {"question": entry["text"], "count": 0, "last": entry["last"]})
            total["count"] += entry["count"]
            total["last"] = max(total["last"], entry["last"])
    report.totals = _totals(report.days, histograms_add(histograms))
    report.cited = sorted(cited.values(), key=lambda e: (-e["count"], e["title"]))[:TOP]
    report.never_cited = _never_cited(set(cited))
    report.asked = sorted(asked.values(), key=lambda e: (-e["count"], e["question"]))[:TOP]
    report.leads_by_status = _leads_by_status(period)
    page = reverse("admin:conversations_unansweredquestion_changelist")
    report.unanswered = [
        {**entry, "last_asked": dt.datetime.fromisoformat(entry["last"]), "url": page}
        for entry in sorted(unanswered.values(), key=lambda e: (-e["count"], e["question"]))[:TOP]
    ]
    return report


def _totals(days: list[dict], histogram: list[int]) -> dict:
    totals = {name: sum(day[name] for day in days) for name in DAY_FIELDS}
    conversations = totals["conversations"]
    return totals | {
        "answered_share": share(totals["answered"], totals["questions"]),
        "refused_share": share(totals["refused"], totals["questions"]),
        "handed_over_share": share(totals["handed_over"], conversations),
        "thumbs_up_share": share(totals["thumbs_up"], totals["thumbs_up"] + totals["thumbs_down"]),
        "first_token_p50": histogram_percentile(histogram, 0.5),
        "first_token_p95": histogram_percentile(histogram, 0.95),
        "cost": llm_cost(prompt_tokens=totals["prompt_tokens"], completion_tokens=totals["completion_tokens"]),
    }


def _leads_by_status(period: Period) -> list[dict]:
    start, _ = day_bounds(period.start)
    _, end = day_bounds(period.end)
    counts = dict(
        Lead.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return [{"status": label, "leads": counts.get(value, 0)} for value, label in Lead.Status.choices]


def _never_cited(cited_keys: set[str]) -> list[dict]:
    """Sources in the knowledge base now that no answer of the period cited (web pages by URL too)."""
    never = []
    for pk, title, url in Document.objects.order_by("title").values_list("pk", "title", "url"):
        if f"document:{pk}" not in cited_keys and (not url or url not in cited_keys):
            never.append({"title": title or f"Document {pk}", "kind": "document", "url": f"/kb/sources/{pk}/"})
    for pk, question in FAQ.objects.order_by("question").values_list("pk", "question"):
        if f"faq:{pk}" not in cited_keys:
            never.append({"title": question, "kind": "FAQ", "url": f"/kb/faqs/{pk}/"})
    return never
