"""
Greetings and thanks, answered without retrieval.

"Hi" or "thanks!" are not questions the knowledge base should answer; without
this they would get the "I couldn't find that" fallback and fill the
unanswered-questions list.
"""

from __future__ import annotations

import re
from typing import Literal

from django.utils.translation import gettext_noop

GREETINGS = {
    "hi",
    "hello",
    "hey",
    "hiya",
    "howdy",
    "yo",
    "good morning",
    "good afternoon",
    "good evening",
    "hallo",
    "guten tag",
    "moin",
    "servus",
    "bonjour",
    "salut",
    "hola",
    "buenos dias",
    "buenas",
    "ciao",
    "buongiorno",
    "ola",
    "olá",
    "hej",
    "hoi",
    "goedemorgen",
}
THANKS = {
    "thanks",
    "thank you",
    "thx",
    "ty",
    "many thanks",
    "thanks a lot",
    "thank you very much",
    "cheers",
    "great thanks",
    "ok thanks",
    "perfect thanks",
    "danke",
    "vielen dank",
    "danke schön",
    "merci",
    "merci beaucoup",
    "gracias",
    "muchas gracias",
    "grazie",
    "obrigado",
    "obrigada",
    "dank je",
    "bedankt",
    "tack",
}
GOODBYES = {"bye", "goodbye", "see you", "bye bye", "tschüss", "au revoir", "adios", "adiós", "ciao bye"}

# Sent in the visitor's language (core.language.gettext_in).
THANKS_REPLY = gettext_noop("You're welcome! Is there anything else I can help you with?")
GOODBYE_REPLY = gettext_noop("Goodbye, and thanks for stopping by!")


def _normalise(text: str) -> str:
    text = re.sub(r"[^\w\s']", " ", text.lower())
    return re.sub(r"\s+", " ", text).strip()


FILLERS = {
    "there",
    "team",
    "all",
    "everyone",
    "so",
    "much",
    "very",
    "again",
    "folks",
    "guys",
    "bot",
    "ok",
    "okay",
    "great",
    "a",
    "lot",
    "for",
    "the",
    "help",
    "your",
    "info",
    "!",
    "oh",
    "alle",
    "zusammen",
}


def smalltalk_kind(text: str) -> Literal["greeting", "thanks", "goodbye"] | None:
    """The kind of a message made only of a greeting, thanks or goodbye (and filler words), else None."""
    words = _normalise(text).split()
    if not words or len(words) > 8:
        return None
    for kind, phrases in (("thanks", THANKS), ("greeting", GREETINGS), ("goodbye", GOODBYES)):
        for size in (3, 2, 1):
            for start in range(len(words) - size + 1):
                if " ".join(words[start : start + size]) in phrases:
                    rest = words[:start] + words[start + size :]
                    if all(word in FILLERS or word in phrases for word in rest):
                        return kind  # type: ignore[return-value]
    return None
