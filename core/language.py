"""
The visitor's language: detected offline for each message, and fixed texts in it.

Detection is py3langid (a naive Bayes model over byte n-grams, 4.5 MB, no
network), restricted to the languages with catalogues (`settings.LANGUAGES`)
plus a few dozen widely written ones (`OTHER_LANGUAGES`). Restricting it makes
short questions reliable; keeping the others in stops an Italian or Swedish
question being read as Spanish or German (a chat model is told the language
by name, and must not be told a wrong one).

Short or ambiguous messages ("Commuter 2", "ok", an email address) have no
language of their own: `language_choose` returns "" for them and the caller
falls back to the conversation's previous language, then to the page's
(the widget's UI language), then to `settings.LANGUAGE_CODE`. Measured on
`bench/data/language/messages.jsonl` by `python -m bench.language_detection`.

Fixed texts are Django i18n: marked with `gettext_noop` where they are
defined, translated in `locale/<lang>/LC_MESSAGES/django.po`, and looked up
with `gettext_in(language, text)` where the language is known (the answer
pipeline runs in no request, so there is no active language to rely on).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

# A message whose best language scores below this has no language of its own.
DETECT_MIN_CONFIDENCE = 0.5
# Visitors rarely change language mid-conversation; moving away from the
# conversation's language takes stronger evidence (an English question that
# names "Rue de la Paix" scores 0.78 French; real switches mostly score above
# 0.8: see the benchmark).
SWITCH_MIN_CONFIDENCE = 0.8
OTHER_LANGUAGES = (
    "it",
    "pt",
    "pl",
    "sv",
    "da",
    "no",
    "fi",
    "cs",
    "sk",
    "hu",
    "ro",
    "hr",
    "sl",
    "tr",
    "ru",
    "uk",
    "el",
    "ar",
    "he",
    "zh",
    "ja",
    "ko",
    "hi",
    "id",
    "vi",
)
# Letters, two or more in a row: without any, a message (a number, an email
# address's parts aside, a "?") gives nothing to go by.
WORD_RE = re.compile(r"[^\W\d_]{2,}")
# Parts of a message that are in no language: addresses, links, numbers.
NOISE_RE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|[+\d][\d\s().-]{5,}\d")
# Languages whose names are capitalised mid-sentence ("auf Englisch", "in het Engels").
CAPITALISED_LANGUAGE_NAMES = frozenset({"en", "de", "nl"})


@dataclass(frozen=True)
class LanguageGuess:
    language: str  # an ISO 639-1 code, "" when the text has no words to go by
    confidence: float  # 0-1, the detector's probability among the candidate languages


NO_GUESS = LanguageGuess(language="", confidence=0.0)


class _Detector:
    """The model, loaded once per process on first use (~60 MB in memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._identifier = None

    def get(self):
        if self._identifier is None:
            with self._lock:
                if self._identifier is None:
                    self._identifier = self._load()
        return self._identifier

    @staticmethod
    def _load():
        import numpy as np
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        full.set_languages(detection_languages())
        # A fresh identifier over the restricted columns only, so the full
        # 97-language table does not stay in memory.
        return LanguageIdentifier(
            np.ascontiguousarray(full.nb_ptc),
            full.nb_pc,
            full.nb_classes,
            full.tk_nextmove,
            full.tk_output,
            norm_probs=True,
            tk_row=full.tk_row,
        )


_detector = _Detector()


def detection_languages() -> list[str]:
    codes = [code.split("-")[0] for code, _ in settings.LANGUAGES]
    return list(dict.fromkeys([*codes, *OTHER_LANGUAGES]))


def language_detector_load() -> None:
    """Loads the model now (a server's warm-up), so that no visitor waits for it."""
    _detector.get()


def _without_names(text: str) -> str:
    """The text without capitalised words inside a sentence: names, mostly ("Rue de la Paix", "Trail X")."""
    kept: list[str] = []
    sentence_start = True
    for token in text.split():
        if sentence_start or len(token) < 2 or not token[0].isupper():
            kept.append(token)
        sentence_start = token[-1] in ".!?:¿¡"
    return " ".join(kept)


def _best(identifier, text: str) -> LanguageGuess:
    language, confidence = identifier.rank(text)[0]
    return LanguageGuess(language=language, confidence=float(confidence))


def language_detect(text: str) -> LanguageGuess:
    """
    The likeliest language of a text and its probability; NO_GUESS when it
    has no words. Names are in no language of the sentence around them: when
    the text without its capitalised words still has two words and the two
    readings disagree, the one without names wins when it is confident on its
    own ("Do you deliver to Rue de la Paix?" is English); German capitalises
    every noun, so a reading left with too little to go by does not.
    """
    cleaned = NOISE_RE.sub(" ", text or "")
    if not WORD_RE.search(cleaned):
        return NO_GUESS
    identifier = _detector.get()
    guess = _best(identifier, cleaned)
    without_names = _without_names(cleaned)
    if without_names != " ".join(cleaned.split()) and len(WORD_RE.findall(without_names)) >= 2:
        other = _best(identifier, without_names)
        if other.language != guess.language:
            return other if other.confidence >= DETECT_MIN_CONFIDENCE else guess
        return max(guess, other, key=lambda g: g.confidence)
    return guess


def language_choose(*, guess: LanguageGuess, previous: str = "") -> str:
    """
    The language a message is taken to be written in, or "" when it does not
    tell (the caller then uses the conversation's previous language). Moving
    away from `previous` takes SWITCH_MIN_CONFIDENCE.
    """
    if not guess.language or guess.confidence < DETECT_MIN_CONFIDENCE:
        return ""
    if previous and guess.language != previous and guess.confidence < SWITCH_MIN_CONFIDENCE:
        return ""
    return guess.language


def language_supported(code: str | None) -> str:
    """`code` ("fr", "fr-CA", "FR_be") as a language with catalogues ("fr"), else ""."""
    if not code:
        return ""
    base = code.strip().replace("_", "-").lower().split("-")[0]
    return base if base in {c for c, _ in settings.LANGUAGES} else ""


def language_default() -> str:
    """The site's default language: LANGUAGE_CODE (one of LANGUAGES, checked in settings)."""
    return language_supported(settings.LANGUAGE_CODE) or settings.LANGUAGES[0][0]


def gettext_in(language: str, text: str) -> str:
    """
    A fixed text (marked with gettext_noop) in `language`; in the site's
    default language when there is no catalogue for it.
    """
    with translation.override(language_supported(language) or language_default()):
        return gettext(text)


def language_name(code: str, *, in_language: str = "en") -> str:
    """
    A language's name, written in `in_language` as it reads mid-sentence
    ("French"; "anglais" in French, "Englisch" in German); the code itself
    when Django does not know it.
    """
    try:
        english = translation.get_language_info(code)["name"]
    except KeyError:
        return code
    name = gettext_in(in_language, english)
    display = language_supported(in_language) or language_default()
    if display not in CAPITALISED_LANGUAGE_NAMES:
        name = name[:1].lower() + name[1:]
    return name
