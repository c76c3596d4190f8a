import numpy as np
import pytest

from knowledge.embeddings import EmbeddingError, get_provider
from knowledge.tests.servers import bag_of_words_vector
from testsupport.waiting import wait_until


def test_it_embeds_through_the_configured_openai_compatible_server(openai_embeddings, settings):
    settings.EMBEDDING_OPENAI_MODEL = "text-embedding-3-small"
    provider = get_provider()

    vectors = provider.embed_documents(["first text", "second text here"])

    request = openai_embeddings.requests[-1]
    assert request["path"] == "/v1/embeddings"
    assert request["body"]["model"] == "text-embedding-3-small"
    assert request["authorization"] == "Bearer test-key"
    assert vectors.shape == (2, 64)
    assert np.allclose(vectors[1], bag_of_words_vector("second text here", 64), atol=1e-6)
    assert provider.model_id == f"openai:text-embedding-3-small@127.0.0.1:{openai_embeddings.server.server_address[1]}"


def test_it_sends_batches_of_the_configured_size(openai_embeddings, settings):
    settings.EMBEDDING_BATCH_SIZE = 2

    vectors = get_provider().embed_documents([f"text {n}" for n in range(5)])

    assert [len(r["body"]["input"]) for r in openai_embeddings.requests] == [2, 2, 1]
    assert vectors.shape == (5, 64)


def test_a_server_error_becomes_a_plain_embedding_error(openai_embeddings):
    openai_embeddings.failures.append(500)

    with pytest.raises(EmbeddingError) as caught:
        get_provider().embed_documents(["anything"])

    assert "answered 500" in str(caught.value)


def test_a_retry_recovers_from_one_transient_failure(openai_embeddings, settings):
    settings.LLM_MAX_RETRIES = 1
    openai_embeddings.failures.append(503)

    vectors = get_provider().embed_documents(["anything"])

    assert len(openai_embeddings.requests) == 2
    assert vectors.shape == (1, 64)


def test_a_server_that_does_not_answer_times_out(openai_embeddings, settings):
    settings.LLM_TIMEOUT = 1
    openai_embeddings.failures.append("hang")

    with pytest.raises(EmbeddingError) as caught:
        get_provider().embed_query("anything")

    assert "did not answer in time" in str(caught.value)
    # The fake holds the call for a minute unless the client cuts it.
    wait_until(lambda: openai_embeddings.requests[0]["client_gave_up"], describe="the client never gave up")
