from knowledge.models import Chunk


def index_readiness() -> tuple[bool, str]:
    """Whether this process can answer searches; the reason when it cannot."""
    if not Chunk.objects.exists():
        return True, "empty knowledge base"
    return True, "ok"
