"""Splitting raw text into words with their character offsets (for `ner tag`).

A word is a run of letters and digits that may hold inner hyphens, apostrophes or periods
("U.S", "o'clock", "state-of-the-art"), or any other single non-space character (punctuation,
symbols): "Mr. O'Neil's U.S. trip" -> Mr | . | O'Neil's | U.S | . | trip. Offsets index the
original string, so entities map back to exact character spans.
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"\w+(?:[-'’.]\w+)*|\S")


def split_words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) for each word of `text`; end is exclusive. Combining marks (accents
    written as a second code point, Indic vowel signs and viramas) stay with their letters."""
    words: list[tuple[str, int, int]] = []
    for m in WORD.finditer(text):
        word, start, end = m.group(), m.start(), m.end()
        if words and words[-1][2] == start and (_mark(word[0]) or (_mark(words[-1][0][-1]) and word[0].isalnum())):
            previous = words[-1]
            words[-1] = (previous[0] + word, previous[1], end)
        else:
            words.append((word, start, end))
    return words


def _mark(ch: str) -> bool:
    return unicodedata.category(ch).startswith("M")
