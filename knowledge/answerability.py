"""
The answer decision: does the knowledge base answer this question?

The search (`knowledge.index.hybrid`) gives each passage three pieces of evidence:

- `similarity`: its cosine to the question (for an FAQ, the mean of its own
  question's and its question + answer's);
- `lift`: how far that similarity stands above the question's background, the
  mean similarity of its nearest chunks: a question about something the
  knowledge base lacks is about as close to many passages as to the best one;
- `coverage`: the IDF-weighted share of the question's content words that the
  passage holds (IDF from this knowledge base; a word it never uses counts
  as much as its rarest word). "YouTube" asked and "Vimeo" answered is a
  rare word missing; so is "rent" asked of a shop that only sells.

A small logistic model turns them into a score from 0 to 1 per passage, and
the best of the first DECISION_PASSAGES decides. The bot answers when the
passage's similarity reaches the bot's `confidence_threshold` (a floor under
everything else) and

- an FAQ's own question is (nearly) the visitor's (`faq_match`), or
- the score reaches the bot's `answer_threshold` and the passage holds at
  least COVERAGE_FLOOR of the question's words (else only the question's form
  matched).

A message of several sentences is searched whole and by its asking sentences
(`answer_search`), and the best-supported search decides: a preamble or context
before the question would otherwise dilute its evidence.

Both thresholds are bot settings (admin > Bot settings > Answers). The weights
are fitted on the dev halves of the sample knowledge base's questions and of
the StackFAQ protocol (as FAQs and as one help-centre document) by
`python -m bench.answer_decision`, which reports the test halves too. The
chat pipeline, `answer_eval` and the admin's "covered by" hint all call
`answer_decide`.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from knowledge.types import SearchResult

# Fitted by `python -m bench.answer_decision` (logistic regression, classes and
# sets weighted equally); the bias folds in the threshold that answers 97.5% of
# the answerable dev questions, so the default answer_threshold is 0.5.
WEIGHTS = {"similarity": 6.31, "lift": 5.66, "coverage": 2.89}
BIAS = -4.28
DEFAULT_ANSWER_THRESHOLD = 0.5
# Under any evidence: the lowest similarity of an answerable dev question was 0.19.
DEFAULT_SIMILARITY_FLOOR = 0.15
# A passage that holds (nearly) none of the question's words, IDF-weighted, answers it only by
# an FAQ match: what is left is the question's form ("Can I rent an e-bike for a weekend?" is
# 0.58 similar to "Can I ride my e-bike in the rain?"). On the dev halves this refuses two
# out-of-scope questions of the sample KB for one answerable one (and 1.5% more of StackFAQ's
# unanswerable for 0.8% of its answerable).
COVERAGE_FLOOR = 0.05
# An FAQ whose own question is this close to the visitor's is answered whatever
# else the evidence says (no question of another thread came within 0.8 in StackFAQ).
FAQ_MATCH_SIMILARITY = 0.9
# The passages whose evidence counts: the strongest ones a prompt gets.
DECISION_PASSAGES = 3
# A message of several sentences is also searched by its asking sentences (see `message_queries`).
SENTENCE_BREAK_RE = re.compile(r"(?<=[.!?;:])\s+|\n+")
MAX_ASKING_SENTENCES = 2


@dataclass(frozen=True)
class AnswerDecision:
    """The verdict and the figures behind it, for the pipeline, the admin and the decision trace."""

    answer: bool
    # "faq_match", "score" (answered); "below_threshold", "below_similarity_floor",
    # "below_coverage_floor", "nothing_found" (refused)
    reason: str
    score: float  # 0..1, of the deciding passage
    threshold: float
    similarity_floor: float
    passage: int | None = None  # index of the deciding passage in the search results
    title: str = ""  # its citation label
    features: dict[str, float] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)  # weight x value, in logits
    missing_words: tuple[str, ...] = ()

    @property
    def similarity(self) -> float:
        return self.features.get("similarity", 0.0)

    def as_dict(self) -> dict:
        return asdict(self)


def passage_features(result: SearchResult) -> dict[str, float]:
    return {"similarity": result.confidence, "lift": result.lift, "coverage": result.coverage}


def passage_score(result: SearchResult) -> tuple[float, dict[str, float]]:
    """The passage's score (0..1) and each feature's contribution to it, in logits."""
    features = passage_features(result)
    contributions = {name: WEIGHTS[name] * value for name, value in features.items()}
    logit = BIAS + sum(contributions.values())
    return 1.0 / (1.0 + math.exp(-logit)), contributions


def answer_decide(
    *, results: Sequence[SearchResult], threshold: float = DEFAULT_ANSWER_THRESHOLD, similarity_floor: float = 0.0
) -> AnswerDecision:
    """Whether to answer from these search results (best first), and why."""
    considered = list(results[:DECISION_PASSAGES])
    if not considered:
        return AnswerDecision(
            answer=False, reason="nothing_found", score=0.0, threshold=threshold, similarity_floor=similarity_floor
        )
    scored = [(passage_score(result), index) for index, result in enumerate(considered)]
    (score, contributions), index = max(scored, key=lambda item: (item[0][0], -item[1]))
    matches = [i for i, result in enumerate(considered) if (result.question_similarity or 0.0) >= FAQ_MATCH_SIMILARITY]
    if matches:
        index = matches[0]
        score, contributions = passage_score(considered[index])
    best = considered[index]
    if best.confidence < similarity_floor:
        reason = "below_similarity_floor"
    elif matches:
        reason = "faq_match"
    elif best.coverage < COVERAGE_FLOOR:
        reason = "below_coverage_floor"
    elif score < threshold:
        reason = "below_threshold"
    else:
        reason = "score"
    return AnswerDecision(
        answer=reason in ("faq_match", "score"),
        reason=reason,
        score=round(score, 4),
        threshold=threshold,
        similarity_floor=similarity_floor,
        passage=index,
        title=best.citation_label,
        features={name: round(value, 4) for name, value in passage_features(best).items()}
        | ({"question_similarity": round(best.question_similarity, 4)} if best.question_similarity is not None else {}),
        contributions={name: round(value, 4) for name, value in contributions.items()} | {"bias": BIAS},
        missing_words=best.missing_words,
    )


def message_queries(text: str) -> list[str]:
    """
    What to search for a message: the message itself and, when it has several
    sentences, the ones that ask (those ending in "?", else the last one; at
    most MAX_ASKING_SENTENCES, the last ones). Visitors often write context
    before the question ("We are a delivery company with ten riders. Do you
    offer fleet discounts?"), and a long preamble dilutes the question's
    evidence: its words are a small share of the message's.
    """
    text = (text or "").strip()
    sentences = [part.strip() for part in SENTENCE_BREAK_RE.split(text) if part.strip()]
    if len(sentences) < 2:
        return [text]
    asking = [sentence for sentence in sentences if sentence.endswith("?")] or sentences[-1:]
    return [text, *[sentence for sentence in asking[-MAX_ASKING_SENTENCES:] if sentence != text]]


def _best_supported(searches: Sequence[Sequence[SearchResult]]) -> list[SearchResult]:
    """The search whose decision is strongest (an FAQ match first, then the score); the whole message on ties."""

    def strength(results: Sequence[SearchResult]) -> tuple[bool, float]:
        decision = answer_decide(results=results)
        return decision.reason == "faq_match", decision.score

    best = max(range(len(searches)), key=lambda i: (strength(searches[i]), -i))
    return list(searches[best])


def answer_search(*, query: str, k: int) -> list[SearchResult]:
    """
    The search results the answer decision and the prompt use: those of the
    message or of one of its asking sentences (`message_queries`), whichever
    the decision supports best. Every caller that decides whether the bot
    answers (the chat, `answer_eval`, the admin's "covered by" hint) searches
    through here.
    """
    from knowledge.selectors import search

    return _best_supported([search(query=text, k=k) for text in message_queries(query)])


async def aanswer_search(*, query: str, k: int) -> list[SearchResult]:
    """`answer_search` off the event loop; the searches of one message run concurrently."""
    from knowledge.selectors import asearch

    return _best_supported(await asyncio.gather(*(asearch(query=text, k=k) for text in message_queries(query))))
