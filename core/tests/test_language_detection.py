"""The language of a visitor message (core.language), with the real model."""

import pytest

from core.language import (
    LanguageGuess,
    gettext_in,
    language_choose,
    language_default,
    language_detect,
    language_name,
    language_supported,
)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Livrez-vous au Canada ?", "fr"),
        ("¿Hacen envíos a Canadá?", "es"),
        ("Liefern Sie nach Kanada?", "de"),
        ("Hoe lang is de garantie?", "nl"),
        ("How much does the Commuter 2 weigh?", "en"),
        ("Combien coûte le Commuter 2 ?", "fr"),
        ("livraison", "fr"),
        ("Rückerstattung", "de"),
        ("Quanto costa il Commuter 2?", "it"),
    ],
)
def test_it_tells_the_language_of_a_short_question(text, language):
    assert language_choose(guess=language_detect(text)) == language


@pytest.mark.parametrize(
    "text",
    [
        "Do you deliver to Rue de la Paix in Montréal?",
        "My name is Jean-Pierre Dubois and I live in Lyon, can you deliver there?",
        "Does Señor García's order from Málaga qualify for free shipping?",
        "I bought a Commuter 2 from Fahrradladen Müller, is the warranty still valid?",
    ],
)
def test_names_from_another_language_do_not_change_an_english_question(text):
    assert language_choose(guess=language_detect(text)) == "en"


@pytest.mark.parametrize(
    "text", ["Commuter 2", "Trail X", "ok", "?", "42", "jean.dubois@example.com", "+33 6 12 34 56 78", "Garantie", ""]
)
def test_a_message_in_no_language_is_left_undecided(text):
    assert language_choose(guess=language_detect(text)) == ""


def test_a_product_name_does_not_make_a_dutch_question_german():
    assert language_choose(guess=language_detect("Wat kost de Commuter 2?")) in ("nl", "")


def test_contact_details_are_not_read_as_words():
    guess = language_detect("Mon e-mail est jean.dubois@example.com, mon numéro +33 6 12 34 56 78")

    assert guess.language == "fr"


def test_leaving_the_conversation_language_takes_a_confident_guess():
    weak = LanguageGuess(language="fr", confidence=0.7)
    strong = LanguageGuess(language="fr", confidence=0.95)

    assert language_choose(guess=weak) == "fr"
    assert language_choose(guess=weak, previous="en") == ""
    assert language_choose(guess=weak, previous="fr") == "fr"
    assert language_choose(guess=strong, previous="en") == "fr"
    assert language_choose(guess=LanguageGuess(language="fr", confidence=0.4)) == ""


@pytest.mark.parametrize(
    ("code", "supported"),
    [
        ("fr", "fr"),
        ("fr-CA", "fr"),
        ("FR_be", "fr"),
        ("nl-NL", "nl"),
        ("it", ""),
        ("", ""),
        (None, ""),
        ("klingon", ""),
    ],
)
def test_a_language_code_is_read_as_one_with_a_catalogue_or_none(code, supported):
    assert language_supported(code) == supported


@pytest.mark.parametrize(
    ("in_language", "name"),
    [("en", "English"), ("fr", "anglais"), ("de", "Englisch"), ("es", "inglés"), ("nl", "Engels")],
)
def test_a_language_is_named_as_it_reads_mid_sentence(in_language, name):
    assert language_name("en", in_language=in_language) == name


def test_a_language_without_a_catalogue_gets_the_site_default(settings):
    assert gettext_in("it", "The message is empty.") == "The message is empty."
    settings.LANGUAGE_CODE = "de"

    assert language_default() == "de"
    assert gettext_in("it", "The message is empty.") == "Die Nachricht ist leer."
    assert gettext_in("fr", "The message is empty.") == "Le message est vide."
