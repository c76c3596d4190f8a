"""Helpers shared by the chat and conversations tests."""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.models import FAQ, Document, SourceStatus
from knowledge.selectors import search

TIDEWATER_FAQS: list[tuple[str, str]] = [
    (
        "How long do I have to return a bike?",
        "You can return any Tidewater bike within 30 days of delivery for a full refund, as long as it has been "
        "ridden less than 50 miles. Return shipping is free within the contiguous US.",
    ),
    (
        "How long does the battery last before it needs replacing?",
        "Tidewater batteries keep at least 80% of their capacity for 800 full charge cycles, which is typically "
        "4 to 6 years of daily riding.",
    ),
    (
        "Can I ride my e-bike in the rain?",
        "Yes. All Tidewater bikes are rated IPX5 and can be ridden in rain. Do not use a pressure washer and do "
        "not submerge the motor or battery.",
    ),
    (
        "Do you ship to Canada?",
        "Yes. We deliver to all 50 US states and to Canada. Alaska, Hawaii and Canada pay a flat $149 per bike.",
    ),
    (
        "What warranty do Tidewater bikes have?",
        "Frames have a lifetime warranty for the original owner; motors and batteries are covered for 2 years.",
    ),
]


def knowledge_base_load(*, faqs: Sequence[tuple[str, str]] = (), documents: Sequence[tuple[str, str]] = ()) -> None:
    """
    Creates FAQs and pasted-text documents through the knowledge base's own
    save path (signal -> task, run at once by the immediate backend) and
    checks that each one was indexed. Needs a transactional test.
    """
    for question, answer in faqs:
        FAQ.objects.create(question=question, answer=answer)
    for title, text in documents:
        Document.objects.create(kind=Document.Kind.TEXT, title=title, identifier=title, text=text)
    failed = [str(s) for s in [*FAQ.objects.all(), *Document.objects.all()] if s.status != SourceStatus.READY]
    assert not failed, f"not indexed: {failed}"
    # Loads the new index version in this process now. While a version loads,
    # concurrent searches are served from the previous one (knowledge.index),
    # which after the test database was flushed points at chunks that no
    # longer exist.
    search(query="warm up", k=1)


def module_transactional_db(django_db_setup) -> None:
    """
    A module that shares one committed knowledge base between its tests (the
    `sample_kb` fixture) sets `transactional_db = pytest.fixture(scope="module")(module_transactional_db)`.
    """
