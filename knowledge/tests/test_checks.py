from knowledge.checks import check_knowledge_settings


def ids(settings) -> set[str]:
    return {message.id for message in check_knowledge_settings(None)}


def test_the_defaults_raise_nothing(settings):
    assert not ids(settings) & {"knowledge.E001", "knowledge.W001", "knowledge.W002"}


def test_openai_embeddings_without_a_key_or_server_are_an_error(settings):
    settings.EMBEDDING_PROVIDER, settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "openai", "", ""

    assert "knowledge.E001" in ids(settings)


def test_an_overlap_above_half_a_chunk_is_flagged(settings):
    settings.CHUNK_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 100, 60

    assert "knowledge.W001" in ids(settings)


def test_chunks_longer_than_the_local_model_reads_are_flagged(settings):
    settings.CHUNK_TOKENS = 400

    assert "knowledge.W002" in ids(settings)


def test_a_missing_onnx_export_is_flagged(settings, tmp_path):
    settings.MODEL_CACHE_DIR = tmp_path

    assert "knowledge.W003" in ids(settings)
