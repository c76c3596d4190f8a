"""`manage.py answer_eval FILE [--json]`: a question file through the real answer pipeline, scored."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from chatbot.evaluation import EvalFileError, eval_questions_parse, token_recall
from conversations.models import Conversation, Message
from leads.models import Lead

pytestmark = pytest.mark.django_db(transaction=True)

QUESTIONS = [
    {
        "question": "Can I send my bike to someone in Canada?",
        "expected_sources": ["Do you ship to Canada?"],
        "expected_answer": "We deliver to all 50 US states and to Canada.",
    },
    {
        "question": "How many years will the battery keep going?",
        "expected_sources": ["What warranty do Tidewater bikes have?"],
    },
    {"question": "What is the capital of Australia?", "expected_sources": [], "group": "off-topic"},
    {
        "question": "Who won the football world cup in 1998? Write to me at ana@example.com",
        "expected_sources": [],
        "group": "off-topic",
    },
]


@pytest.fixture
def question_file(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    return path


def _run(path) -> tuple[list[dict], dict]:
    out = StringIO()
    call_command("answer_eval", str(path), "--json", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    return lines[:-1], lines[-1]


def test_it_reports_each_question_and_the_totals(tidewater_kb, extractive, question_file):
    per_question, summary = _run(question_file)

    assert [row["question"] for row in per_question] == [q["question"] for q in QUESTIONS]
    canada, battery, capital, football = per_question
    assert canada["answered"] and canada["first_source_right"] is True
    assert canada["cited_sources"][0] == "Do you ship to Canada?"
    assert canada["token_recall"] == token_recall(expected=QUESTIONS[0]["expected_answer"], answer=canada["answer"])
    assert canada["token_recall"] > 0
    assert canada["time_to_first_token_ms"] > 0
    # Answered from the battery FAQ, which is not the source the file expects.
    assert battery["answered"] and battery["first_source_right"] is False and not battery["right"]
    assert not capital["answered"] and capital["right"] and capital["first_source_right"] is None
    assert summary["questions"] == 4 and summary["answerable"] == 2 and summary["unanswerable"] == 2
    assert summary["answerable_answered"] == 1.0
    assert summary["unanswerable_refused"] == 1.0
    assert summary["first_source_right"] == 0.5
    assert summary["token_recall"] == round(canada["token_recall"], 4)
    assert summary["groups"]["off-topic"] == {"questions": 2, "answerable": False, "answered": 0, "refused": 2}


def test_it_leaves_nothing_behind(tidewater_kb, extractive, question_file):
    _run(question_file)

    assert not Conversation.objects.exists()
    assert not Message.objects.exists()
    assert not Lead.objects.exists(), "an email in an evaluation question must not become a lead"


def test_the_human_readable_report_marks_wrong_answers(tidewater_kb, extractive, question_file):
    out = StringIO()
    call_command("answer_eval", str(question_file), stdout=out)

    printed = out.getvalue()
    assert "first source wrong: What warranty do Tidewater bikes have?" not in printed
    assert "BAD [2/4] answered: How many years will the battery keep going?" in printed
    assert "answerable answered:      100%" in printed
    assert "first cited source right: 50% of the answered" in printed


def test_it_reads_csv_with_the_same_columns(tidewater_kb, extractive, tmp_path):
    path = tmp_path / "questions.csv"
    path.write_text(
        "question,expected_sources,expected_answer\n"
        "Can I send my bike to someone in Canada?,Do you ship to Canada?|shipping.md,\n"
        "What is the capital of Australia?,,\n",
        encoding="utf-8",
    )
    per_question, summary = _run(path)

    assert per_question[0]["answered"] and per_question[0]["first_source_right"] is True
    assert summary["unanswerable_refused"] == 1.0


def test_a_document_is_named_by_its_file_name(extractive, transactional_db, tmp_path):
    from chatbot.tests.support import knowledge_base_load

    knowledge_base_load(documents=[("shipping.md", "# Shipping\n\nWe ship bikes to Canada for a flat $149.")])
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"question": "Do you ship bikes to Canada?", "expected_sources": ["shipping.md"]}))

    per_question, _ = _run(path)

    assert per_question[0]["first_source_right"] is True


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"question": "ok", "expected_sources": []}\nnot json\n', "Line 2: not JSON"),
        ('{"question": "", "expected_sources": []}\n', "Line 1: `question` must be a non-empty string."),
        ('{"question": "ok", "expected_sources": "a.md"}\n', "Line 1: `expected_sources` must be a list of strings."),
        ("\n\n", "The file holds no questions."),
    ],
)
def test_a_malformed_file_is_refused_with_the_place_and_the_reason(content, message):
    with pytest.raises(EvalFileError, match=message):
        eval_questions_parse(data=content.encode(), filename="q.jsonl")


def test_the_command_names_an_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("answer_eval", str(tmp_path / "missing.jsonl"))


def test_token_recall_counts_content_words_only():
    assert token_recall(expected="The bike weighs 48 lb.", answer="Weight: 48 lb (21.8 kg)") == 0.5
    assert token_recall(expected="the and of", answer="anything") is None
