"""The report as the data the page's charts draw (Chart.js datasets), passed with `json_script`."""

from __future__ import annotations

from insights.selectors import Report

CHARTS = ["volume", "outcomes", "feedback", "leads", "lead_status", "first_token", "tokens"]


def _series(report: Report, name: str) -> list:
    return [day[name] for day in report.days]


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def charts_data(report: Report) -> dict:
    labels = [day["day"] for day in report.days]
    days = report.days
    return {
        "labels": labels,
        "volume": {
            "type": "line",
            "datasets": [
                {"label": "Conversations", "data": _series(report, "conversations")},
                {"label": "Visitor messages", "data": _series(report, "visitor_messages")},
                {"label": "Staff replies", "data": _series(report, "staff_replies")},
            ],
        },
        "outcomes": {
            "type": "line",
            "percent": True,
            "datasets": [
                {"label": "Answered %", "data": [_percent(d["answered"], d["questions"]) for d in days]},
                {"label": "Refused %", "data": [_percent(d["refused"], d["questions"]) for d in days]},
                {
                    "label": "Handed to a person %",
                    "data": [_percent(d["handed_over"], d["conversations"]) for d in days],
                },
            ],
        },
        "feedback": {
            "type": "bar",
            "datasets": [
                {"label": "Thumbs up", "data": _series(report, "thumbs_up")},
                {"label": "Thumbs down", "data": _series(report, "thumbs_down")},
            ],
        },
        "leads": {"type": "bar", "datasets": [{"label": "Leads", "data": _series(report, "leads")}]},
        "lead_status": {
            "type": "bar",
            "labels": [row["status"] for row in report.leads_by_status],
            "datasets": [{"label": "Leads", "data": [row["leads"] for row in report.leads_by_status]}],
        },
        "first_token": {
            "type": "line",
            "datasets": [
                {"label": "p50 (ms)", "data": _series(report, "first_token_p50")},
                {"label": "p95 (ms)", "data": _series(report, "first_token_p95")},
            ],
        },
        "tokens": {
            "type": "bar",
            "datasets": [
                {"label": "Prompt tokens", "data": _series(report, "prompt_tokens"), "stack": "tokens"},
                {"label": "Completion tokens", "data": _series(report, "completion_tokens"), "stack": "tokens"},
                {"label": "Estimated cost", "data": _series(report, "cost"), "type": "line", "yAxisID": "cost"},
            ],
        },
    }
