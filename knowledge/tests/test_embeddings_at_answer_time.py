"""What the extractive provider asks of the local model at answer time: a few short texts, and word vectors."""

import numpy as np

from knowledge import embeddings
from knowledge.embeddings import few_cache_clear, get_provider, word_vector

LINES = ["Tidewater Commuter 2: Weight: 48 lb (21.8 kg)", "Tidewater Commuter 2: Price: $2,399"]


def test_a_few_short_texts_get_the_vectors_a_batch_gets(settings):
    settings.EMBEDDING_BACKEND = "onnx"
    provider = get_provider()
    few_cache_clear()

    vectors = provider.embed_few(LINES)

    assert vectors.shape == (2, 384)
    assert np.abs(vectors - provider.embed_documents(LINES)).max() < 1e-5


def test_they_are_embedded_once_per_process(settings):
    settings.EMBEDDING_BACKEND = "onnx"
    provider = get_provider()
    few_cache_clear()
    first = provider.embed_few(LINES)
    cached = dict(embeddings._few_cache)

    again = provider.embed_few(list(reversed(LINES)))

    assert np.array_equal(again, first[::-1])
    assert len(embeddings._few_cache) == 2
    assert all(embeddings._few_cache[key] is vector for key, vector in cached.items()), "not embedded again"


def test_word_vectors_put_related_words_close_and_unrelated_ones_apart():
    def similarity(a: str, b: str) -> float:
        return float(word_vector(a) @ word_vector(b))

    assert abs(float(np.linalg.norm(word_vector("weight"))) - 1.0) < 1e-5
    assert similarity("heavy", "weight") > 0.4 > similarity("heavy", "frame")
    assert similarity("kids", "children") > 0.7
