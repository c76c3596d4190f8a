import pytest

from knowledge.tests.servers import FakeEmbeddings, PageServer


@pytest.fixture
def site(settings):
    """A loopback web site for web-page sources, which the fetcher may reach (the intranet opt-in)."""
    settings.FETCH_ALLOW_PRIVATE_ADDRESSES = True
    with PageServer() as server:
        yield server


@pytest.fixture
def fake_embeddings():
    """A loopback OpenAI-compatible /v1/embeddings server."""
    with FakeEmbeddings() as server:
        yield server


@pytest.fixture
def openai_embeddings(settings, fake_embeddings):
    """Settings that point the OpenAI embedding provider at the loopback server."""
    settings.EMBEDDING_PROVIDER = "openai"
    settings.OPENAI_BASE_URL = fake_embeddings.openai_base_url
    settings.OPENAI_API_KEY = "test-key"
    settings.LLM_MAX_RETRIES = 0
    settings.LLM_TIMEOUT = 30.0  # generous: a test about timeouts sets its own and scripts a "hang"
    return fake_embeddings


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Runs on-commit callbacks (the enqueued indexing tasks) inside a `db` test: `with on_commit(): ...`."""

    def run():
        return django_capture_on_commit_callbacks(execute=True)

    return run
