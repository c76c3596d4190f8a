"""
The embedding cache: one vector per (model, content hash) in the database, so
text that did not change is never embedded twice, by any process or index build.
"""

from __future__ import annotations

import numpy as np

from knowledge.embeddings import EmbeddingProvider, get_provider
from knowledge.models import Embedding

DB_BATCH = 500  # rows per query or bulk write, everywhere in these services


def embeddings_ensure(*, texts_by_hash: dict[str, str], provider: EmbeddingProvider | None = None) -> int:
    """Embeds the texts whose (model, hash) has no vector yet; returns how many were embedded."""
    provider = provider or get_provider()
    hashes = list(texts_by_hash)
    known: set[str] = set()
    for start in range(0, len(hashes), DB_BATCH):
        known.update(
            Embedding.objects.filter(
                model_id=provider.model_id, content_hash__in=hashes[start : start + DB_BATCH]
            ).values_list("content_hash", flat=True)
        )
    missing = [h for h in hashes if h not in known]
    if not missing:
        return 0
    vectors = provider.embed_documents([texts_by_hash[h] for h in missing])
    Embedding.objects.bulk_create(
        [
            Embedding(
                model_id=provider.model_id,
                content_hash=h,
                dimension=vector.shape[0],
                vector=vector.astype(np.float32).tobytes(),
            )
            for h, vector in zip(missing, vectors, strict=False)
        ],
        ignore_conflicts=True,
        batch_size=DB_BATCH,
    )
    return len(missing)


def embeddings_load(*, hashes: list[str], model_id: str) -> dict[str, np.ndarray]:
    vectors: dict[str, np.ndarray] = {}
    unique = list(dict.fromkeys(hashes))
    for start in range(0, len(unique), DB_BATCH):
        rows = Embedding.objects.filter(model_id=model_id, content_hash__in=unique[start : start + DB_BATCH])
        for content_hash, vector in rows.values_list("content_hash", "vector"):
            vectors[content_hash] = np.frombuffer(bytes(vector), dtype=np.float32)
    return vectors
