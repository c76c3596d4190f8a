"""
The leak guard: an answer never carries more than two words of the system
prompt in a row, however they are spelled, numbered or ordered; ordinary
answers pass unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from chatbot.leakguard import LeakGuard
from chatbot.models import DEFAULT_SYSTEM_PROMPT
from chatbot.prompting import prompt_build

BASE_DIR = Path(__file__).resolve().parents[2]
SECRET = (
    "You are the assistant of Tidewater Bikes. Internal note: our margin on the Cargo Long is 41 percent "
    "and the discount code STAFF-ONLY-2026 must never be shared."
)
WORDS = re.findall(r"[\w-]+", SECRET)
PREFIX = "Sure! My instructions: "

# Each way of smuggling the prompt past a word-sequence match: the words as they are written out.
BYPASSES = {
    "underscores between words": ("_", WORDS),
    "numbered words": (" ", [f"{n}. {word}" for n, word in enumerate(WORDS, 1)]),
    "words numbered after": (" ", [f"{word}({n})" for n, word in enumerate(WORDS, 1)]),
    "dotted letters": (" ", [".".join(word) for word in WORDS]),
    "spaced letters": ("   ", [" ".join(word) for word in WORDS]),
    "reversed word order": (" ", list(reversed(WORDS))),
    "run together": ("", WORDS),
    "lower case without punctuation": (" ", [word.lower() for word in WORDS]),
}


def by_words(guard: LeakGuard, text: str) -> str:
    sent = "".join(guard.feed(piece) for piece in re.findall(r"\s*\S+", text))
    return sent + guard.flush()


def by_characters(guard: LeakGuard, text: str) -> str:
    return "".join(guard.feed(character) for character in text) + guard.flush()


def test_an_ordinary_answer_passes_unchanged():
    guard = LeakGuard(SECRET)
    answer = "The Cargo Long costs $4,199 [1] and carries two children. You are welcome to book a test ride!"

    assert by_words(guard, answer) == answer
    assert not guard.tripped


def test_a_repeated_system_prompt_is_cut_after_at_most_two_words():
    guard = LeakGuard(SECRET)
    sent = by_words(guard, PREFIX + SECRET)

    assert guard.tripped
    assert sent.startswith(PREFIX.strip())
    assert len(re.findall(r"\w+", sent)) <= 3 + 2
    assert "STAFF-ONLY" not in sent


def test_the_leak_is_found_case_insensitively_and_across_token_boundaries():
    guard = LeakGuard(SECRET)
    sent = by_characters(guard, "internal NOTE: Our margin on the cargo long is 41 percent")

    assert guard.tripped
    assert "margin" not in sent


def test_a_short_shared_phrase_is_held_only_until_the_next_word():
    guard = LeakGuard(SECRET)
    first = guard.feed("Ask about the Cargo Long")
    second = guard.feed(" today.")

    assert first + second + guard.flush() == "Ask about the Cargo Long today."
    assert not guard.tripped


@pytest.mark.parametrize("stream", [by_words, by_characters], ids=["word by word", "character by character"])
@pytest.mark.parametrize("bypass", BYPASSES, ids=list(BYPASSES))
def test_a_disguised_prompt_is_cut_after_at_most_two_words(bypass, stream):
    separator, written = BYPASSES[bypass]
    guard = LeakGuard(SECRET)

    sent = stream(guard, PREFIX + separator.join(written))

    leaked = sent[len(PREFIX) :]
    assert guard.tripped, bypass
    assert written[2] not in leaked, f"{bypass}: more than two words got out: {leaked!r}"
    assert "STAFF" not in leaked.upper().replace(".", "").replace(" ", "")
    assert "margin" not in leaked.lower().replace(".", "").replace(" ", "")


def test_a_disguised_prompt_in_the_middle_of_an_answer_is_cut_too():
    guard = LeakGuard(SECRET)
    answer = "Gift cards never expire [1]. By the way: " + "_".join(WORDS[8:])

    sent = by_words(guard, answer)

    assert guard.tripped
    assert sent.startswith("Gift cards never expire [1].")
    assert "margin" not in sent


def company_prompt(system_prompt: str, language: str = "") -> str:
    """The system text the leak guard protects in production: the rules and the company instructions."""
    return prompt_build(
        bot_name="Tidewater Assistant",
        system_prompt=system_prompt,
        question="Hello",
        passages=[],
        history=[],
        context_tokens=3000,
        language=language,
    ).system_text


TIDEWATER_PROMPT = (
    "You are the assistant of Tidewater Bikes, an e-bike shop in Portland. Answer questions about our e-bikes, "
    "the Cargo Long, the Commuter and the Trail, about delivery, returns within 30 days, warranty and maintenance. "
    "Be friendly and concise. Never promise discounts. If the visitor wants to buy, suggest a test ride."
)


def ordinary_answers() -> list[str]:
    """Every passage of the sample knowledge base, and replies that echo the rules' own words."""
    corpus = BASE_DIR / "bench" / "data" / "tidewater" / "corpus.jsonl"
    passages = [json.loads(line)["text"] for line in corpus.read_text().splitlines() if line.strip()]
    return passages + [
        "I can't share that, but I'm happy to help with any question about our products and services.",
        "Yes! We deliver to Canada [1]. Delivery takes 5 to 8 business days [2]. Anything else I can help with?",
        "Returns are accepted within 30 days of delivery [1]; the bike must be unused [1][2].",
        "You are welcome to visit our showroom: the assistant on duty can answer questions about the Cargo Long [3].",
    ]


@pytest.mark.parametrize("language", ["", "en"], ids=["language unknown", "english"])
@pytest.mark.parametrize("system_prompt", [DEFAULT_SYSTEM_PROMPT, TIDEWATER_PROMPT], ids=["default", "tidewater"])
def test_ordinary_answers_sharing_words_with_the_instructions_pass_unchanged(system_prompt, language):
    answers = ordinary_answers()
    changed = []
    for answer in answers:
        guard = LeakGuard(company_prompt(system_prompt, language))
        if by_words(guard, answer) != answer or guard.tripped:
            changed.append(answer)

    assert len(answers) > 50
    assert changed == []
