"""Splitting raw text into words with their character offsets (for `ner tag`).

A word is a run of letters and digits that may hold inner hyphens, apostrophes or periods
("U.S", "o'clock", "state-of-the-art"), or any other single non-space character (punctuation,
symbols): "Mr. O'Neil's U.S. trip" -> Mr | . | O'Neil's | U.S | . | trip. Offsets index the
original string, so entities map back to exact character spans.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\w+(?:[-'’.]\w+)*|\S")


def split_words(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) for each word of `text`; end is exclusive."""
    return [(m.group(), m.start(), m.end()) for m in WORD.finditer(text)]
