"""Payloads that cross from the knowledge base into the chat pipeline."""

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchResult:
    chunk_id: int
    text: str
    source_type: str  # "document" or "faq"
    source_id: int
    source_identifier: str  # file name, URL, or "faq:<id>"
    title: str
    heading_path: str  # "Returns policy > Refunds"
    page: int | None
    url: str  # where a citation links to
    score: float  # fused (reciprocal rank fusion) score: orders the results
    confidence: float  # 0..1, comparable across queries: what the "I don't know" threshold is checked against
    dense_rank: int | None  # 1-based rank on the FAISS side, None if that side did not find it
    keyword_rank: int | None  # 1-based rank on the BM25 side, None if that side did not find it

    @property
    def citation_label(self) -> str:
        """For example "Returns policy > Refunds (p. 2)"."""
        label = self.heading_path or self.title
        return f"{label} (p. {self.page})" if self.page else label
