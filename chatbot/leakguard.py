"""
Keeps the system prompt out of answers, whatever the model was talked into.

The rules tell the model never to reveal its instructions; this is the check
that does not depend on the model obeying. As the answer streams, the guard
holds back any tail that repeats three or more consecutive words of the
secret text, and stops the answer once a run reaches LEAK_WORDS words. So at
most two words of a leak are ever sent, and an ordinary answer is delayed by a
word or two only when it happens to share a phrase with the instructions.
"""

from __future__ import annotations

import re

WORD_RE = re.compile(r"\w+", re.UNICODE)
LEAK_WORDS = 8
HOLD_WORDS = 3
# Enough text for the last LEAK_WORDS + 1 words of any real prose; scanning
# only this much keeps each token's check constant-time.
TAIL_CHARS = 400


class LeakGuard:
    def __init__(self, secret: str) -> None:
        words = [w.lower() for w in WORD_RE.findall(secret)]
        self._ngrams: set[tuple[str, ...]] = set()
        for size in range(1, LEAK_WORDS + 1):
            for start in range(len(words) - size + 1):
                self._ngrams.add(tuple(words[start : start + size]))
        self.text = ""
        self._sent = 0
        self.tripped = False

    def _run_start(self, *, final: bool = False) -> tuple[int, int, bool]:
        """
        (words in the longest run of complete words at the end that the secret
        contains, the offset where that run starts, whether a word is still
        being streamed). A word is complete once something follows it.
        """
        tail = self.text[-TAIL_CHARS:]
        offset = len(self.text) - len(tail)
        matches = list(WORD_RE.finditer(tail))
        partial = not final and bool(matches) and matches[-1].end() == len(tail)
        if partial:
            matches = matches[:-1]
        matches = matches[-LEAK_WORDS:]
        words = [m.group().lower() for m in matches]
        for size in range(len(words), 0, -1):
            if tuple(words[-size:]) in self._ngrams:
                return size, offset + matches[-size].start(), partial
        return 0, len(self.text), partial

    def feed(self, delta: str) -> str:
        """Adds model output; returns what may be sent now ("" while holding or once tripped)."""
        if self.tripped:
            return ""
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
