"""
Two web processes sharing PostgreSQL and Redis, as in production.

These tests need services that several processes share, so they run in the
PostgreSQL + Redis pass of `make test` only. On the embedded pass (SQLite, a
per-process cache and channel layer) they are skipped with that reason: it is
the one deliberate skip of the suite.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from chatbot.tests.support import TIDEWATER_FAQS, knowledge_base_load


def _shared_services() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql") and bool(settings.REDIS_URL)


def pytest_collection_modifyitems(config, items) -> None:
    if _shared_services():
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL and Redis shared by several processes: runs in the PostgreSQL + Redis pass "
        "of `make test` (DATABASE_URL=postgres://... REDIS_URL=redis://...)"
    )
    for item in items:
        if "tests/multiprocess/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(skip)


@pytest.fixture
def tidewater_kb(transactional_db):
    knowledge_base_load(faqs=TIDEWATER_FAQS)
