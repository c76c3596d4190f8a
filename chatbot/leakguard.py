"""
Keeps the system prompt out of answers, whatever the model was talked into.

The rules tell the model never to reveal its instructions; this is the check
that does not depend on the model obeying. As the answer streams, the guard
holds back any tail that forms a run of three or more words of the secret
text, and stops the answer once a run reaches LEAK_WORDS words. So at most
two words of a leak are ever sent, and an ordinary answer is delayed by a
word or two only when it happens to share a phrase with the instructions.

Words are compared after normalising, so that the usual ways of smuggling a
text past a word-sequence match do not work:

- case and punctuation do not matter, and underscores, dots, dashes and the
  like separate words as spaces do ("You_are_the_assistant");
- letters spelled out one by one ("Y.o.u a.r.e", "Y o u a r e") are joined,
  and joined or run-together letters are split back into the secret's words;
- numbers are left out, so numbering the words ("1. You 2. are") does not
  break a run (numbers alone are not the secret's words);
- runs are matched on order-insensitive shingles: every three consecutive
  words, taken as a set, must be found among four consecutive words of the
  secret, so the secret reversed, or with neighbouring words swapped, still
  matches.

Ordinary answers share plenty of single words with the instructions ("you",
"the", "our products"); it takes LEAK_WORDS words in a row, each three of
them close neighbours in the secret, to stop one
(`chatbot/tests/test_leakguard.py` measures this on the sample knowledge base).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

LEAK_WORDS = 8
HOLD_WORDS = 3
SHINGLE = 3
# Raw words looked at for each check (LEAK_WORDS words spelled letter by letter, numbered);
# counted in words, so padding between words cannot push a leak out of sight.
WINDOW_WORDS = 96
# Run-together letters at least this long that are not a word of the secret are split into its words;
# of longer ones only the end (enough for LEAK_WORDS words), which is what a run is looked for in.
SPLIT_MIN_CHARS = 8
SPLIT_MAX_CHARS = 120

CHUNK_RE = re.compile(r"\S+")
# Letters of any script, or digits; everything else (punctuation, "_", symbols) separates words.
PART_RE = re.compile(r"[^\W\d_]+|\d+")
LONGER_PART_RE = re.compile(r"[^\W\d_]{2,}|\d{2,}")
LAST_SPACE_RE = re.compile(r"\s(?=\S*\Z)")


@dataclass(frozen=True)
class _Word:
    text: str
    start: int  # offset in the guard's text
    end: int
    spelled: bool = False  # joined from single characters: more may still join it
    letters: Sequence[int] = ()  # for spelled words, the offset of each character


def _last_parts(chunk: str, limit: int) -> list[tuple[int, int]]:
    """The spans of the last `limit` letter or digit runs of `chunk` (found from its end, whatever its length)."""
    n, spans = len(chunk), []
    for match in PART_RE.finditer(chunk[::-1]):
        spans.append((n - match.end(), n - match.start()))
        if len(spans) == limit:
            break
    spans.reverse()
    return spans


def _chunk_words(text: str, start: int, end: int) -> list[_Word]:
    """
    The words of one whitespace-separated chunk: its letter and digit runs
    (the last WINDOW_WORDS), or, when they are all single characters, one
    spelled word (of the last SPLIT_MAX_CHARS).
    """
    chunk = text[start:end]
    if not LONGER_PART_RE.search(chunk):
        # "Y.o.u", or "Y." still being streamed: letters that more may join.
        spans = _last_parts(chunk, SPLIT_MAX_CHARS)
        if not spans:
            return []
        return [
            _Word(
                text="".join(chunk[a:b] for a, b in spans).casefold(),
                start=start + spans[0][0],
                end=start + spans[-1][1],
                spelled=True,
                letters=tuple(start + a for a, _ in spans),
            )
        ]
    return [
        _Word(text=chunk[a:b].casefold(), start=start + a, end=start + b) for a, b in _last_parts(chunk, WINDOW_WORDS)
    ]


def _join_single_letters(words: list[_Word]) -> list[_Word]:
    """Three or more one-letter words in a row ("Y o u a r e") become one spelled word."""
    joined: list[_Word] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and len(words[j].text) == 1 and words[j].text.isalpha():
            j += 1
        if j - i >= 3:
            run = words[i:j]
            joined.append(
                _Word(
                    text="".join(w.text for w in run),
                    start=run[0].start,
                    end=run[-1].end,
                    spelled=True,
                    letters=tuple(w.start for w in run),
                )
            )
            i = j
        else:
            joined.append(words[i])
            i += 1
    return joined


class LeakGuard:
    def __init__(self, secret: str) -> None:
        words = [w.text for w in self._normalise(self._raw_words(secret, 0, len(secret)), vocabulary=None)]
        self._vocabulary = {w for w in words if w.isalpha()}
        self._segmentations: dict[str, tuple[int, list[int]]] = {}
        self._longest = max((len(w) for w in self._vocabulary), default=0)
        words = [w.text for w in self._normalise(self._raw_words(secret, 0, len(secret)), vocabulary=self._vocabulary)]
        # For each size up to SHINGLE: the sets of that many words found within size + 1 neighbours
        # of the secret (a little slack, for reorderings inside a compound like "STAFF-ONLY-2026").
        self._shingles: list[set[tuple[str, ...]]] = [set() for _ in range(SHINGLE + 1)]
        for size in range(1, SHINGLE + 1):
            for start in range(len(words)):
                neighbours = words[start : start + size + 1]
                for chosen in itertools.combinations(neighbours, min(size, len(neighbours))):
                    self._shingles[len(chosen)].add(tuple(sorted(chosen)))
        self.text = ""
        self._sent = 0
        # Words of the chunks that are complete (whitespace follows them), the last WINDOW_WORDS.
        self._done: list[_Word] = []
        self._done_to = 0
        self._complete_to = 0  # after the last whitespace
        self.tripped = False

    # --- Normalising ----------------------------------------------------------------------------

    @staticmethod
    def _raw_words(text: str, start: int, end: int) -> list[_Word]:
        return [word for chunk in CHUNK_RE.finditer(text, start, end) for word in _chunk_words(text, *chunk.span())]

    def _segmentation(self, text: str) -> tuple[int, list[int]]:
        """
        (how much of `text` splits into the secret's words, each piece's start
        by its end) for the longest prefix that does, in the fewest pieces;
        remembered, as the same words are looked at again for every token.
        """
        if text in self._segmentations:
            return self._segmentations[text]
        n = len(text)
        best: list[int | None] = [0] + [None] * n  # fewest words covering text[:i]
        cut: list[int] = [0] * (n + 1)
        for i in range(1, n + 1):
            for j in range(max(0, i - self._longest), i):
                words_before, words_here = best[j], best[i]
                if words_before is None or text[j:i] not in self._vocabulary:
                    continue
                if words_here is None or words_before + 1 < words_here:
                    best[i], cut[i] = words_before + 1, j
        found = (max(i for i in range(n + 1) if best[i] is not None), cut)
        if len(self._segmentations) > 4096:
            self._segmentations.clear()
        self._segmentations[text] = found
        return found

    def _split(self, word: _Word) -> list[_Word]:
        """Run-together letters as the secret's words ("youarethe" -> you, are, the), when they split fully."""
        offsets = word.letters or range(word.start, word.end)
        if len(offsets) != len(word.text):  # casefolding changed its length ("ß" -> "ss"): left whole
            return [word]
        if len(word.text) > SPLIT_MAX_CHARS:
            cut_at = len(word.text) - SPLIT_MAX_CHARS
            head = _Word(text=word.text[:cut_at], start=word.start, end=offsets[cut_at])
            tail = _Word(
                text=word.text[cut_at:],
                start=offsets[cut_at],
                end=word.end,
                spelled=word.spelled,
                letters=offsets[cut_at:],
            )
            return [head, *self._split(tail)]
        text, n = word.text, len(word.text)
        covered, cut = self._segmentation(text)
        if covered == 0 or (covered == n and cut[n] == 0):
            return [word]
        pieces: list[_Word] = []
        if covered < n:  # letters still coming (or not the secret's): one word of their own
            pieces.append(
                _Word(
                    text=text[covered:],
                    start=offsets[covered],
                    end=word.end,
                    spelled=word.spelled,
                    letters=offsets[covered:],
                )
            )
        i = covered
        while i > 0:
            j = cut[i]
            end = offsets[i] if i < n else word.end
            pieces.append(_Word(text=text[j:i], start=offsets[j], end=end))
            i = j
        pieces.reverse()
        if covered == n and word.spelled:
            last = pieces[-1]
            pieces[-1] = _Word(text=last.text, start=last.start, end=last.end, spelled=True)
        return pieces

    def _normalise(self, words: list[_Word], vocabulary: set[str] | None) -> list[_Word]:
        result: list[_Word] = []
        for word in _join_single_letters(words):
            if word.text.isdigit():
                continue
            if (
                vocabulary is not None
                and word.text not in vocabulary
                and (word.spelled or len(word.text) >= SPLIT_MIN_CHARS)
            ):
                result.extend(self._split(word))
            else:
                result.append(word)
        return result

    def _words(self) -> list[_Word]:
        """The normalised words at the end of the text (complete chunks, then the one still streaming)."""
        if self._complete_to > self._done_to:
            self._done += self._raw_words(self.text, self._done_to, self._complete_to)
            self._done = self._done[-WINDOW_WORDS:]
            self._done_to = self._complete_to
        pending = self._raw_words(self.text, self._done_to, len(self.text))
        return self._normalise((self._done + pending)[-WINDOW_WORDS:], vocabulary=self._vocabulary)

    # --- Matching -------------------------------------------------------------------------------

    def _run_start(self, *, final: bool = False) -> tuple[int, int, bool]:
        """
        (words in the longest run at the end whose every SHINGLE neighbours,
        as a set, are neighbours in the secret; the offset where that run
        starts; whether the last word may still grow). A word is complete once
        something other than a letter follows it, a spelled one once the
        stream ends or a word follows it.
        """
        words = self._words()[-(LEAK_WORDS + 1) :]
        partial = not final and bool(words) and (words[-1].end == len(self.text) or words[-1].spelled)
        if partial:
            words = words[:-1]
        texts = [w.text for w in words]
        run = 0
        for start in range(len(texts) - 1, max(-1, len(texts) - LEAK_WORDS - 1), -1):
            size = len(texts) - start
            window = texts[start:] if size <= SHINGLE else texts[start : start + SHINGLE]
            if tuple(sorted(window)) not in self._shingles[len(window)]:
                break
            run = size
        if run == 0:
            return 0, len(self.text), partial
        return run, words[len(words) - run].start, partial

    def feed(self, delta: str) -> str:
        """Adds model output; returns what may be sent now ("" while holding or once tripped)."""
        if self.tripped:
            return ""
        space = LAST_SPACE_RE.search(delta)
        if space is not None:
            self._complete_to = len(self.text) + space.end()
        self.text += delta
        run, start, partial = self._run_start()
        if run >= LEAK_WORDS:
            self.tripped = True
            self.text = self.text[: self._sent]
            return ""
        holding = run >= HOLD_WORDS or (partial and run >= HOLD_WORDS - 1)
        release_to = max(start if holding else len(self.text), self._sent)
        released = self.text[self._sent : release_to]
        self._sent = release_to
        return released

    def flush(self) -> str:
        """At the end of the stream: whatever was held back (nothing once tripped)."""
        if self.tripped:
            return ""
        run, _, _ = self._run_start(final=True)
        if run >= LEAK_WORDS:
            self.tripped = True
            self.text = self.text[: self._sent]
            return ""
        released = self.text[self._sent :]
        self._sent = len(self.text)
        return released

    @property
    def sent_text(self) -> str:
        return self.text[: self._sent]
