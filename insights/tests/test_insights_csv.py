"""Every chart's CSV holds the figures of the database: past days from the rollups, today counted live."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db.models import Count, Sum
from django.urls import reverse

from conversations.models import Conversation, Message
from insights.figures import day_bounds
from insights.models import InsightsDay
from insights.tests.factories import (
    conversation_on,
    days_ago,
    exchange_on,
    lead_on,
    staff_reply_on,
)
from knowledge.models import FAQ
from leads.models import Lead

pytestmark = pytest.mark.django_db


def rows(client, name: str, **params) -> list[dict]:
    response = client.get(reverse("insights:csv", args=[name]), {"period": "7", **params})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.content.decode())))


@pytest.fixture
def traffic(db):
    """Three days of traffic: two days ago, yesterday and today, and a conversation that is no visitor's."""
    for day, answered in ((days_ago(2), [True, True, False]), (days_ago(1), [True, None]), (days_ago(0), [False])):
        for outcome in answered:
            exchange_on(day, answered=outcome, feedback=1 if outcome else -1 if outcome is False else None)
    handed = conversation_on(days_ago(1), handed=True)
    exchange_on(days_ago(1), conversation=handed, answered=False)
    staff_reply_on(days_ago(1), conversation=handed)
    exchange_on(days_ago(1), conversation=conversation_on(days_ago(1), channel=Conversation.Channel.EVAL))
    lead_on(days_ago(2), status=Lead.Status.WON)
    lead_on(days_ago(0))


def by_day(model, day, **filters) -> int:
    start, end = day_bounds(day)
    return model.objects.filter(created_at__gte=start, created_at__lt=end, **filters).count()


def visitor_messages(day, **filters) -> int:
    return by_day(Message, day, conversation__channel__in=["widget", "api"], **filters)


def test_the_volume_csv_counts_conversations_and_messages_per_day(client, analyst, traffic):
    table = rows(client, "volume")

    assert len(table) == 7
    for row in table:
        day = dt.date.fromisoformat(row["day"])
        assert int(row["conversations"]) == by_day(Conversation, day, channel__in=["widget", "api"])
        assert int(row["visitor_messages"]) == visitor_messages(day, role="visitor")
        assert int(row["staff_replies"]) == visitor_messages(day, role="agent")
    assert sum(int(row["conversations"]) for row in table) == 7, "the eval conversation is not a visitor's"


def test_the_outcomes_csv_counts_answered_refused_and_handed_over(client, analyst, traffic):
    table = {row["day"]: row for row in rows(client, "outcomes")}

    for offset in (0, 1, 2):
        day = days_ago(offset)
        row = table[day.isoformat()]
        assert int(row["answered"]) == visitor_messages(day, role="visitor", answered=True)
        assert int(row["refused"]) == visitor_messages(day, role="visitor", answered=False)
        assert int(row["questions"]) == visitor_messages(day, role="visitor", answered__isnull=False)
        start, end = day_bounds(day)
        assert (
            int(row["handed_over"])
            == Conversation.objects.filter(handed_over_at__gte=start, handed_over_at__lt=end).count()
        )
    assert int(table[days_ago(1).isoformat()]["handed_over"]) == 1


def test_the_feedback_leads_and_token_csvs_match_the_database(client, analyst, traffic, settings):
    settings.LLM_PRICE_INPUT_PER_MILLION = 1.0
    settings.LLM_PRICE_OUTPUT_PER_MILLION = 10.0
    feedback = {row["day"]: row for row in rows(client, "feedback")}
    leads = {row["day"]: row for row in rows(client, "leads")}
    tokens = {row["day"]: row for row in rows(client, "tokens")}

    for offset in (0, 1, 2):
        day = days_ago(offset)
        key = day.isoformat()
        assert int(feedback[key]["thumbs_up"]) == visitor_messages(day, feedback=1)
        assert int(feedback[key]["thumbs_down"]) == visitor_messages(day, feedback=-1)
        assert int(leads[key]["leads"]) == by_day(Lead, day)
        start, end = day_bounds(day)
        sums = Message.objects.filter(
            created_at__gte=start, created_at__lt=end, role="assistant", conversation__channel__in=["widget", "api"]
        ).aggregate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
        assert int(tokens[key]["prompt_tokens"]) == (sums["p"] or 0)
        assert int(tokens[key]["completion_tokens"]) == (sums["c"] or 0)
        assert float(tokens[key]["cost"]) == pytest.approx((sums["p"] or 0) / 1e6 + (sums["c"] or 0) * 10 / 1e6)


def test_leads_by_status_counts_the_leads_of_the_period(client, analyst, traffic):
    table = {row["status"]: int(row["leads"]) for row in rows(client, "lead_status")}

    expected = dict(Lead.objects.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    assert table["Won"] == expected[Lead.Status.WON] == 1
    assert table["New"] == expected[Lead.Status.NEW] == 1
    assert table["Lost"] == 0


def test_past_days_are_rolled_up_and_today_is_not(client, analyst, traffic):
    rows(client, "volume")

    stored = set(InsightsDay.objects.values_list("day", flat=True))
    assert days_ago(1) in stored and days_ago(6) in stored
    assert days_ago(0) not in stored


def test_the_unanswered_and_most_asked_lists_count_wordings(client, analyst, db):
    for question in ["Can I rent a bike?", "can i rent a bike", "Do you sell gift cards?"]:
        exchange_on(days_ago(1), question=question, answered=False)
    exchange_on(days_ago(0), question="Do you ship to Canada?", answered=True)

    unanswered = rows(client, "unanswered")
    asked = rows(client, "asked")

    assert [(row["question"], row["times_asked"]) for row in unanswered][0][1] == "2"
    assert {row["question"].lower().rstrip("?") for row in unanswered} == {
        "can i rent a bike",
        "do you sell gift cards",
    }
    assert sorted(int(row["times_asked"]) for row in asked) == [1, 1, 2]


def test_cited_and_never_cited_sources_come_from_the_answers_and_the_knowledge_base(client, analyst, db):
    shipping = FAQ.objects.create(question="Do you ship to Canada?", answer="Yes.")
    rentals = FAQ.objects.create(question="Do you rent bikes?", answer="No.")
    cited = [{"n": 1, "title": "Do you ship to Canada?", "url": f"/kb/faqs/{shipping.pk}/"}]
    exchange_on(days_ago(1), sources=cited)
    exchange_on(days_ago(0), sources=cited)

    assert rows(client, "cited") == [
        {"source": "Do you ship to Canada?", "key": f"faq:{shipping.pk}", "citations": "2"}
    ]
    assert [row["source"] for row in rows(client, "never_cited")] == [rentals.question]


def test_first_token_percentiles_are_read_from_the_days_histograms(client, analyst, db):
    for ms in (100, 200, 300, 400, 5000):
        exchange_on(days_ago(1), first_token_ms=ms)

    [row] = [r for r in rows(client, "first_token") if r["day"] == days_ago(1).isoformat()]

    assert 300 <= int(row["first_token_p50"]) <= 330, "the bucket's upper bound: at most 10% high"
    assert 5000 <= int(row["first_token_p95"]) <= 5500


def test_a_custom_period_covers_exactly_its_dates(client, analyst, traffic):
    start, end = days_ago(2), days_ago(1)

    table = rows(client, "volume", period="custom", start=start.isoformat(), end=end.isoformat())

    assert [row["day"] for row in table] == [start.isoformat(), end.isoformat()]


def test_a_cell_that_a_spreadsheet_would_run_is_quoted(client, analyst, db):
    exchange_on(days_ago(1), question='=HYPERLINK("http://evil.example")', answered=False)

    [row] = rows(client, "unanswered")

    assert row["question"].startswith("'=")


def test_an_unknown_chart_is_a_404(client, analyst):
    assert client.get(reverse("insights:csv", args=["nope"])).status_code == 404
