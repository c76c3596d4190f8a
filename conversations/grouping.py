"""
Groups similar unanswered questions, most frequent first.

"Do you ship to Mexico?", "shipping to mexico??" and "Can you deliver a bike
to Mexico City?" are one gap in the knowledge base and should be one line with
a count. Questions are embedded with the knowledge base's own embedder (the
same model that decides what retrieval finds, so "similar" means similar to
the search as well) and joined greedily to the closest group whose centroid is
at least GROUP_SIMILARITY cosine; vectors are cached per message, so a page view
embeds only the questions asked since the last one. When no embedder can run,
questions fall back to grouping by normalised text (case, punctuation and
filler words ignored), which still merges the repeated wordings.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from django.core.cache import cache

logger = logging.getLogger(__name__)

# Measured on all-MiniLM-L6-v2: rewordings of one question score 0.8-0.9
# ("Do you ship to Mexico?" / "shipping to mexico possible?" 0.85), while the
# same question about another thing scores up to ~0.7 ("... to Mexico?" /
# "... to Canada?" 0.71). Merging two gaps would hide one, so the threshold
# errs on the side of splitting.
GROUP_SIMILARITY = 0.75
VECTOR_CACHE_SECONDS = 7 * 24 * 3600
WORD_RE = re.compile(r"\w+", re.UNICODE)
FILLER = frozenset(
    "a an the is are do does can could you your we our i me my please hi hello hey to of for in on and or "
    "what how when where which there any it this that be".split()
)


@dataclass(frozen=True)
class Question:
    message_id: int
    text: str
    asked_at: datetime
    conversation_id: str


@dataclass
class QuestionGroup:
    questions: list[Question] = field(default_factory=list)
    centroid: np.ndarray | None = None

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def representative(self) -> str:
        """The most common wording (normalised), shortest first among equals."""
        wordings = Counter(normalise(q.text) for q in self.questions)
        best_key = max(wordings, key=lambda key: (wordings[key], -len(key)))
        return min((q.text for q in self.questions if normalise(q.text) == best_key), key=len).strip()

    @property
    def variants(self) -> list[str]:
        seen: dict[str, str] = {}
        for question in self.questions:
            seen.setdefault(normalise(question.text), question.text.strip())
        return list(seen.values())

    @property
    def last_asked(self) -> datetime:
        return max(q.asked_at for q in self.questions)

    @property
    def message_ids(self) -> list[int]:
        return [q.message_id for q in self.questions]


def normalise(text: str) -> str:
    words = [w for w in WORD_RE.findall(text.lower()) if w not in FILLER]
    return " ".join(words) or text.strip().lower()


def _group_by_text(questions: Sequence[Question]) -> list[QuestionGroup]:
    groups: dict[str, QuestionGroup] = {}
    for question in questions:
        groups.setdefault(normalise(question.text), QuestionGroup()).questions.append(question)
    return list(groups.values())


def _group_by_vectors(questions: Sequence[Question], vectors: np.ndarray) -> list[QuestionGroup]:
    groups: list[QuestionGroup] = []
    sums: list[np.ndarray] = []
    for question, vector in zip(questions, vectors, strict=True):
        if groups:
            centroids = np.stack([s / np.linalg.norm(s) for s in sums])
            scores = centroids @ vector
            best = int(np.argmax(scores))
            if scores[best] >= GROUP_SIMILARITY:
                groups[best].questions.append(question)
                sums[best] = sums[best] + vector
                continue
        groups.append(QuestionGroup(questions=[question]))
        sums.append(vector.astype(np.float32).copy())
    return groups


def _cached_vectors(
    questions: Sequence[Question], embed: Callable[[list[str]], np.ndarray], model_id: str
) -> np.ndarray:
    keys = [f"unanswered:vec:{model_id}:{q.message_id}" for q in questions]
    found = cache.get_many(keys)
    missing = [i for i, key in enumerate(keys) if key not in found]
    if missing:
        fresh = embed([questions[i].text for i in missing])
        cache.set_many(
            {keys[i]: fresh[row].astype(np.float32).tobytes() for row, i in enumerate(missing)},
            timeout=VECTOR_CACHE_SECONDS,
        )
        for row, i in enumerate(missing):
            found[keys[i]] = fresh[row].astype(np.float32).tobytes()
    return np.stack([np.frombuffer(found[key], dtype=np.float32) for key in keys])


def questions_group(
    questions: Sequence[Question],
    *,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    model_id: str = "",
) -> list[QuestionGroup]:
    """Groups, most frequent first (then most recent). `embed` returns unit vectors, one row per text."""
    if not questions:
        return []
    groups: list[QuestionGroup]
    if embed is None:
        groups = _group_by_text(questions)
    else:
        try:
            groups = _group_by_vectors(questions, _cached_vectors(questions, embed, model_id))
        except Exception:
            logger.exception("embedding unanswered questions failed; grouping by text")
            groups = _group_by_text(questions)
    groups.sort(key=lambda g: (g.count, g.last_asked), reverse=True)
    return groups


def knowledge_embedder() -> tuple[Callable[[list[str]], np.ndarray], str] | None:
    """The knowledge base's embedder (embed function and model id), or None when it cannot be loaded."""
    try:
        from knowledge.embeddings import get_provider

        provider = get_provider()
    except Exception:
        logger.exception("no embedder for grouping unanswered questions")
        return None
    return provider.embed_documents, provider.model_id
