"""Fixtures of the fault suite: a small indexed knowledge base and throwaway services."""

from __future__ import annotations

import pytest

from chatbot.tests.support import TIDEWATER_FAQS, knowledge_base_load
from tests.faults.services import RedisServer


@pytest.fixture
def tidewater_kb(transactional_db):
    """The sample company's FAQs, indexed through the knowledge base's own save path."""
    knowledge_base_load(faqs=TIDEWATER_FAQS)


@pytest.fixture
def own_redis():
    """A `redis-server` of this test's own, which it may restart (never the shared one)."""
    with RedisServer() as server:
        yield server
