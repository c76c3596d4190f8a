"""Payloads that cross from the knowledge base into the chat pipeline."""

from dataclasses import dataclass, field


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
    score: float  # fused score (standardised dense + keyword, see knowledge.index.hybrid): orders the results
    confidence: float  # 0..1 cosine similarity to the question (an FAQ: mean of its question's and its own)
    dense_rank: int | None  # 1-based rank on the FAISS side, None if that side did not find it
    keyword_rank: int | None  # 1-based rank on the BM25 side, None if that side did not find it
    # Evidence for the answer decision (knowledge.answerability); see knowledge.index.Candidate.
    question_similarity: float | None = None  # an FAQ's own question to the visitor's
    lift: float = 0.0  # confidence minus the mean similarity of the question's nearest chunks
    coverage: float = 0.0  # IDF-weighted share of the question's content words the passage holds
    missing_words: tuple[str, ...] = field(default=())  # question words the passage lacks, rarest first

    @property
    def citation_label(self) -> str:
        """For example "Returns policy > Refunds (p. 2)"."""
        label = self.heading_path or self.title
        return f"{label} (p. {self.page})" if self.page else label
