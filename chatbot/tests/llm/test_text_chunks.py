"""Text sent at once (an extractive answer, a fixed reply) streams in word-sized chunks, like a model's."""

from __future__ import annotations

import pytest

from chatbot.llm import text_chunks

TEXTS = [
    "",
    "Hello!",
    "Returns are accepted within 30 days of delivery.",
    "  Leading space,\n\nparagraphs [1]\n- a list\n- of items  ",
    "Öffnungszeiten: Mo–Fr 9–17 Uhr. 電話でお問い合わせください。",
]


@pytest.mark.parametrize("text", TEXTS)
def test_the_chunks_joined_are_the_text(text):
    assert "".join(text_chunks(text)) == text


def test_it_sends_three_words_a_chunk_with_their_spacing():
    assert text_chunks("one two three four five six seven") == ["one two three ", "four five six ", "seven"]
    assert text_chunks("a\n\nb c\nd") == ["a\n\nb c\n", "d"]


def test_nothing_to_say_is_no_chunk():
    assert text_chunks("") == []
