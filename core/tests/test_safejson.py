"""JSON from strangers (core.safejson): bounded nesting and numbers, no NUL characters."""

from __future__ import annotations

import pytest

from core.safejson import MAX_DEPTH, JsonRefused, json_depth, json_loads_bounded


def test_it_parses_ordinary_json_as_json_loads_does():
    text = '{"type": "lead", "name": "Ana [Brightside]", "consent": true, "rating": -1, "score": 0.5, "x": null}'

    assert json_loads_bounded(text) == {
        "type": "lead",
        "name": "Ana [Brightside]",
        "consent": True,
        "rating": -1,
        "score": 0.5,
        "x": None,
    }


def test_it_refuses_fifty_thousand_brackets_without_recursing():
    with pytest.raises(JsonRefused, match=f"nest more than {MAX_DEPTH} levels"):
        json_loads_bounded("[" * 50_000)


def test_it_accepts_nesting_up_to_the_limit_and_refuses_one_more():
    assert json_loads_bounded("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonRefused):
        json_loads_bounded("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ('{"a": [1, {"b": "[[[["}]}', 3),
        ('["\\"[[[", "]]]"]', 1),
        ('["\\\\", [[]]]', 3),
        ("[" + "[], " * 1000 + "[]]", 2),
    ],
)
def test_brackets_inside_strings_do_not_count_towards_the_depth(text, depth):
    assert json_depth(text) == depth


def test_many_shallow_brackets_are_fine():
    assert len(json_loads_bounded("[" + "[], " * 10_000 + "[]]")) == 10_001


@pytest.mark.parametrize("number", ["9" * 5000, "-" + "1" * 200, "1." + "5" * 200, "1e" + "9" * 200])
def test_it_refuses_numbers_longer_than_the_bound(number):
    with pytest.raises(JsonRefused, match="Numbers must be at most"):
        json_loads_bounded(f'{{"rating": {number}}}')


@pytest.mark.parametrize("text", ['{"name": "a\\u0000b"}', '{"a\\u0000": 1}', '[["x", {"y": "\\u0000"}]]'])
def test_it_refuses_nul_characters_in_keys_and_values(text):
    with pytest.raises(JsonRefused, match="NUL"):
        json_loads_bounded(text)


def test_an_escaped_backslash_before_u0000_is_not_a_nul():
    assert json_loads_bounded('["\\\\u0000"]') == ["\\u0000"]


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}'])
def test_it_refuses_what_is_not_standard_json(text):
    with pytest.raises(JsonRefused, match="not valid JSON"):
        json_loads_bounded(text)


@pytest.mark.parametrize("text", ["", "{", '{"a": "unterminated', '"' + '\\"' * 10_000, "[" * 40 + '"'])
def test_malformed_text_is_a_value_error(text):
    with pytest.raises(ValueError):
        json_loads_bounded(text)
