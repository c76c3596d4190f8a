"""Grouping similar unanswered questions, most frequent first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from conversations.grouping import (
    Question,
    knowledge_embedder,
    normalise,
    questions_group,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def questions(*texts: str) -> list[Question]:
    return [
        Question(message_id=i, text=t, asked_at=NOW - timedelta(minutes=i), conversation_id=f"c{i}")
        for i, t in enumerate(texts, start=1)
    ]


def test_without_an_embedder_the_same_wording_is_one_group():
    groups = questions_group(questions("Do you ship to Mexico?", "do you ship to mexico??", "Is there a kids bike?"))

    assert [(g.count, g.representative) for g in groups] == [
        (2, "Do you ship to Mexico?"),
        (1, "Is there a kids bike?"),
    ]


def test_normalising_ignores_case_punctuation_and_filler_words():
    assert normalise("Hi! Do you ship to Mexico?") == normalise("ship mexico") == "ship mexico"


@pytest.mark.django_db
def test_with_the_knowledge_embedder_paraphrases_are_one_group_most_frequent_first():
    embedder = knowledge_embedder()
    assert embedder is not None
    embed, model_id = embedder
    groups = questions_group(
        questions(
            "Do you ship to Mexico?",
            "Is there a kids e-bike?",
            "shipping to mexico possible?",
            "Do you ship to Canada?",
            "Do you make e-bikes for children?",
            "Can I get my bike delivered to Mexico?",
            "What are your opening hours on Sunday?",
        ),
        embed=embed,
        model_id=model_id,
    )

    by_text = {frozenset(q.text for q in g.questions): g.count for g in groups}
    assert (
        by_text[
            frozenset(
                {"Do you ship to Mexico?", "shipping to mexico possible?", "Can I get my bike delivered to Mexico?"}
            )
        ]
        == 3
    )
    assert by_text[frozenset({"Is there a kids e-bike?", "Do you make e-bikes for children?"})] == 2
    assert frozenset({"Do you ship to Canada?"}) in by_text, "the same question about another place stays apart"
    assert [g.count for g in groups] == [3, 2, 1, 1]


@pytest.mark.django_db
def test_vectors_are_embedded_once_per_question():
    calls: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        vectors = np.eye(8, dtype=np.float32)[: len(texts)]
        return vectors

    batch = questions("a?", "b?", "c?")
    questions_group(batch, embed=embed, model_id="test")
    questions_group(batch + questions("d?", "e?", "f?", "g?")[3:], embed=embed, model_id="test")

    assert calls[0] == ["a?", "b?", "c?"]
    assert calls[1] == ["g?"]


def test_a_failing_embedder_falls_back_to_text_grouping():
    def broken(texts):
        raise RuntimeError("model missing")

    groups = questions_group(questions("Mexico?", "mexico"), embed=broken, model_id="x")

    assert [g.count for g in groups] == [2]
