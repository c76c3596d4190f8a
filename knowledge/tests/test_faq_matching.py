"""
FAQ matching: a rephrasing is matched to its FAQ by meaning (the FAQ's own
question vector counts), and a word that is in almost every FAQ does not pull
a question toward the FAQ that is little more than that word.
"""

from __future__ import annotations

import pytest

from chatbot.tests.support import knowledge_base_load
from knowledge.selectors import search

pytestmark = pytest.mark.django_db(transaction=True)

MAIL_FAQS = [
    ("Gmail", "Gmail is Google's free email service. Sign in at mail.google.com with your Google account."),
    (
        "How can I search for Gmail messages on a particular date?",
        "Use the after: and before: operators in the search box, for example after:2024/01/01 before:2024/02/01.",
    ),
    (
        "How do I delete all my mail from my Gmail account?",
        "Select all conversations with the checkbox above the list, choose 'Select all conversations' and delete.",
    ),
    (
        "How do I strikethrough text in Gmail?",
        "Gmail has no strikethrough button; paste text that is already struck through from a word processor.",
    ),
    (
        "Display mail size in Gmail",
        "Search with size:5m or larger:10m to find big messages; Gmail shows no size column.",
    ),
    (
        "Can I see only mail I have archived in Gmail?",
        "Search for -in:inbox -in:sent -in:drafts to list archived conversations.",
    ),
]


def test_a_rephrasing_with_the_common_word_finds_its_faq_not_the_one_word_faq():
    knowledge_base_load(faqs=MAIL_FAQS)

    results = search(query="Filtering search results of mails on gmail to a time period.", k=3)

    assert results[0].title == "How can I search for Gmail messages on a particular date?"


def test_an_faq_carries_its_own_question_similarity():
    knowledge_base_load(faqs=MAIL_FAQS)

    best = search(query="How do I strikethrough text in Gmail?", k=1)[0]

    assert best.title == "How do I strikethrough text in Gmail?"
    assert best.question_similarity is not None and best.question_similarity > 0.95
    assert best.coverage == 1.0 and best.missing_words == ()
