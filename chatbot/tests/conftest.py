"""Fixtures for the chat tests: a fake LLM on loopback and a small knowledge base."""

from __future__ import annotations

import pytest

from chatbot.tests.support import TIDEWATER_FAQS, knowledge_base_load
from leads.tests.conftest import mirror_off, webhook_receiver  # noqa: F401 (fixtures of the bot settings tests)
from testsupport.fake_openai import FakeOpenAI


@pytest.fixture
def fake_llm():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def openai_llm(settings, fake_llm):
    """
    The `openai` provider, pointed at the fake server. The timeout is generous:
    a busy machine must not turn a slow answer into a failure. A test about
    timeouts sets a short one and scripts `Reply.hang()`, which the fake holds
    until the client gives up.
    """
    settings.LLM_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = fake_llm.base_url
    settings.OPENAI_API_KEY = "sk-test"
    settings.LLM_MODEL = "fake-gpt"
    settings.LLM_TIMEOUT = 30.0
    settings.LLM_MAX_RETRIES = 2
    return fake_llm


@pytest.fixture
def extractive(settings):
    settings.LLM_PROVIDER = "extractive"


@pytest.fixture
def tidewater_kb(transactional_db):
    """A few FAQs of the sample company, indexed through the knowledge base's own save path."""
    return knowledge_base_load(faqs=TIDEWATER_FAQS)


@pytest.fixture(scope="module")
def sample_kb(transactional_db, django_db_blocker):
    """
    The sample knowledge base (`sample_kb/`), ingested once for a module by the
    `ingest` command and committed, so that the answer pipeline's threads see
    it; the database is flushed after the module. Tests use it through `kb_db`.

    A module using it replaces `transactional_db` with a module-scoped fixture
    that does nothing (`support.module_transactional_db`): the name is what makes
    pytest-django create the test database, and the real one would flush the
    knowledge base after the first test.
    """
    from django.core.management import call_command

    from knowledge.selectors import search
    from knowledge.tests.samples import SAMPLE_KB

    with django_db_blocker.unblock():
        call_command("ingest", str(SAMPLE_KB), verbosity=0)
        search(query="warm up", k=1)
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)


@pytest.fixture
def kb_db(sample_kb, django_db_blocker, settings):
    """Database access on the module's sample knowledge base, with the extractive provider answering."""
    settings.LLM_PROVIDER = "extractive"
    with django_db_blocker.unblock():
        yield
