import json
from io import StringIO

import numpy as np
from django.core.management import call_command

from knowledge.embeddings import (
    LOCAL_DIMENSION,
    ONNX_FILE,
    export_onnx,
    get_provider,
    onnx_dir,
    onnx_is_prepared,
)


def test_prepare_models_is_idempotent_and_leaves_an_existing_export_alone():
    export_onnx()
    model_file = onnx_dir() / ONNX_FILE
    before = model_file.stat().st_mtime_ns

    out = StringIO()
    call_command("prepare_models", "--json", stdout=out)

    assert json.loads(out.getvalue())["exported"] is False
    assert model_file.stat().st_mtime_ns == before


def test_a_missing_onnx_file_is_exported_on_first_use_and_matches_sentence_transformers(settings, tmp_path):
    settings.MODEL_CACHE_DIR = tmp_path / "models"
    assert not onnx_is_prepared()

    vector = get_provider().embed_query("Where is the Portland showroom?")

    assert (tmp_path / "models" / "all-MiniLM-L6-v2" / ONNX_FILE).exists()
    assert onnx_is_prepared()
    manifest = json.loads((tmp_path / "models" / "all-MiniLM-L6-v2" / "manifest.json").read_text())
    assert manifest["max_difference"] < 1e-5
    assert vector.shape == (LOCAL_DIMENSION,) and abs(float(np.linalg.norm(vector)) - 1) < 1e-5
