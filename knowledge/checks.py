"""System checks for knowledge-base configuration mistakes."""

from django.conf import settings
from django.core import checks

from knowledge.embeddings import MAX_SEQUENCE_TOKENS

CONTEXT_ALLOWANCE = 40  # tokens the heading path adds in front of each chunk


@checks.register(checks.Tags.compatibility)
def check_knowledge_settings(app_configs, **kwargs) -> list[checks.CheckMessage]:
    messages: list[checks.CheckMessage] = []
    if settings.EMBEDDING_PROVIDER == "openai" and not (settings.OPENAI_API_KEY or settings.OPENAI_BASE_URL):
        messages.append(
            checks.Error(
                "EMBEDDING_PROVIDER=openai but neither OPENAI_API_KEY nor OPENAI_BASE_URL is set.",
                hint="Set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server), "
                "or use EMBEDDING_PROVIDER=local.",
                id="knowledge.E001",
            )
        )
    if settings.CHUNK_OVERLAP_TOKENS * 2 > settings.CHUNK_TOKENS:
        messages.append(
            checks.Warning(
                f"CHUNK_OVERLAP_TOKENS ({settings.CHUNK_OVERLAP_TOKENS}) is more than half of CHUNK_TOKENS "
                f"({settings.CHUNK_TOKENS}); the overlap is capped at half a chunk.",
                hint="Use an overlap of 10-20% of CHUNK_TOKENS.",
                id="knowledge.W001",
            )
        )
    if settings.EMBEDDING_PROVIDER == "local" and settings.CHUNK_TOKENS + CONTEXT_ALLOWANCE > MAX_SEQUENCE_TOKENS:
        messages.append(
            checks.Warning(
                f"CHUNK_TOKENS={settings.CHUNK_TOKENS} plus the heading line exceeds the {MAX_SEQUENCE_TOKENS} tokens "
                "all-MiniLM-L6-v2 reads: the end of long chunks is not embedded (it is still keyword-searchable).",
                hint=f"Use CHUNK_TOKENS <= {MAX_SEQUENCE_TOKENS - CONTEXT_ALLOWANCE} with the local model.",
                id="knowledge.W002",
            )
        )
    if settings.EMBEDDING_PROVIDER == "local" and settings.EMBEDDING_BACKEND == "onnx":
        from knowledge.embeddings import onnx_dir, onnx_is_prepared

        try:
            prepared = onnx_is_prepared()
        except Exception:  # noqa: BLE001 - a missing model package is reported below
            prepared = False
        if not prepared:
            messages.append(
                checks.Warning(
                    f"The ONNX export of all-MiniLM-L6-v2 is missing from {onnx_dir()}; the first embedding "
                    "will export it (needs PyTorch, takes a few seconds).",
                    hint="Run `python manage.py prepare_models` once after installing (make install does).",
                    id="knowledge.W003",
                )
            )
    return messages
