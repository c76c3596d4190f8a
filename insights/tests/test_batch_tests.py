"""Batch tests in admin: a question file in the answer_eval format, run in the background, kept to compare."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from conversations.models import Conversation
from insights.models import BatchRun
from insights.services import batch_run_execute
from knowledge.models import FAQ

pytestmark = pytest.mark.django_db(transaction=True)

QUESTIONS = [
    {"question": "Can I ride my e-bike in the rain?", "expected_sources": ["Can I ride my e-bike in the rain?"]},
    {"question": "What is the capital of Australia?", "expected_sources": []},
    {"question": "Do you sell skateboards?", "expected_sources": ["Do you sell skateboards?"]},
]


def jsonl(questions=QUESTIONS) -> SimpleUploadedFile:
    body = "\n".join(json.dumps(q) for q in questions).encode()
    return SimpleUploadedFile("questions.jsonl", body, content_type="application/octet-stream")


def upload(client, file):
    return client.post(reverse("insights:batch_list"), {"file": file})


def test_an_uploaded_file_runs_and_shows_pass_or_fail_per_question_and_the_totals(
    client, tester, tidewater_kb, extractive
):
    response = upload(client, jsonl())

    run = BatchRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("insights:batch_detail", args=[run.pk])
    assert run.state == BatchRun.State.DONE, "the immediate task backend ran it on commit"
    assert [r["right"] for r in run.results] == [True, True, False]
    assert (run.summary["questions"], run.summary["passed"], run.summary["failed"]) == (3, 2, 1)
    assert run.created_by == tester
    page = client.get(response["Location"]).content.decode()
    assert page.count('class="pass">pass<') == 2 and page.count('class="fail">fail<') == 1
    assert Conversation.objects.count() == 0, "the evaluation's conversations are deleted"


def test_a_csv_file_with_the_same_columns_runs_too(client, tester, tidewater_kb, extractive):
    body = (
        b"question,expected_sources\n"
        b"Can I ride my e-bike in the rain?,Can I ride my e-bike in the rain?\n"
        b"What is 2+2?,\n"
    )

    upload(client, SimpleUploadedFile("questions.csv", body))

    run = BatchRun.objects.get()
    assert run.name == "questions.csv"
    assert [r["right"] for r in run.results] == [True, True]


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("bad.jsonl", b'{"question": "ok?"}\nnot json\n', "Line 2: not JSON"),
        ("bad.csv", b"text\nhello\n", "needs a header row with a `question` column"),
        ("empty.jsonl", b"\n\n", "holds no questions"),
        ("latin1.jsonl", '{"question": "caf\u00e9?"}'.encode("latin-1"), "not UTF-8"),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_error_and_no_run(client, tester, name, body, message):
    response = upload(client, SimpleUploadedFile(name, body))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BatchRun.objects.exists()


def test_a_rerun_after_the_knowledge_base_changed_is_kept_beside_the_first_to_compare(
    client, tester, tidewater_kb, extractive
):
    upload(client, jsonl())
    first = BatchRun.objects.get()
    FAQ.objects.create(question="Do you sell skateboards?", answer="No, only e-bikes and accessories.")

    response = client.post(reverse("insights:batch_rerun", args=[first.pk]))

    second = BatchRun.objects.exclude(pk=first.pk).get()
    assert second.rerun_of == first and second.questions == first.questions
    assert response["Location"] == reverse("insights:batch_detail", args=[second.pk]) + f"?compare={first.pk}"
    compared = client.get(response["Location"])
    rows = compared.context["rows"]
    assert [row["previous_right"] for row in rows] == [True, True, False]
    assert [row["question"] for row in rows if row["changed"]] == ["Do you sell skateboards?"]
    assert second.summary["passed"] == 3
    assert "Run again" in compared.content.decode()


def test_a_run_is_claimed_once(tidewater_kb, extractive, tester):
    run = BatchRun.objects.create(name="q.jsonl", questions=[{**QUESTIONS[0], "expected_answer": "", "group": ""}])

    assert batch_run_execute(run_id=run.pk) == "done"
    assert batch_run_execute(run_id=run.pk) == "nothing to do"


def test_a_run_that_breaks_records_why(tester, db):
    run = BatchRun.objects.create(
        name="q.jsonl", questions=[{"question": "hi?", "expected_sources": [], "unexpected": 1}]
    )

    assert batch_run_execute(run_id=run.pk) == "failed"

    run.refresh_from_db()
    assert run.state == BatchRun.State.FAILED and "unexpected" in run.error
