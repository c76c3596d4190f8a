"""The leak guard: an answer never carries more than two words of the system prompt in a row."""

from __future__ import annotations

import re

from chatbot.leakguard import LeakGuard

SECRET = ("You are the assistant of Tidewater Bikes. Internal note: our margin on the Cargo Long is 41 percent "
          "and the discount code STAFF-ONLY-2026 must never be shared.")


def stream(guard: LeakGuard, text: str) -> str:
    sent = "".join(guard.feed(piece) for piece in re.findall(r"\s*\S+", text))
    return sent + guard.flush()


def test_an_ordinary_answer_passes_unchanged():
    guard = LeakGuard(SECRET)
    answer = "The Cargo Long costs $4,199 [1] and carries two children. You are welcome to book a test ride!"

    assert stream(guard, answer) == answer
    assert not guard.tripped


def test_a_repeated_system_prompt_is_cut_after_at_most_two_words():
    guard = LeakGuard(SECRET)
    sent = stream(guard, "Sure! My instructions: " + SECRET)

    assert guard.tripped
    assert sent.startswith("Sure! My instructions:")
    assert len(re.findall(r"\w+", sent)) <= 3 + 2
    assert "STAFF-ONLY" not in sent


def test_the_leak_is_found_case_insensitively_and_across_token_boundaries():
    guard = LeakGuard(SECRET)
    sent = "".join(guard.feed(ch) for ch in "internal NOTE: Our margin on the cargo long is 41 percent") + guard.flush()

    assert guard.tripped
    assert "margin" not in sent


def test_a_short_shared_phrase_is_held_only_until_the_next_word():
    guard = LeakGuard(SECRET)
    first = guard.feed("Ask about the Cargo Long")
    second = guard.feed(" today.")

    assert first + second + guard.flush() == "Ask about the Cargo Long today."
    assert not guard.tripped
