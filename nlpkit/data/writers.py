"""Writing records one a line: what a predict command prints, and the JSONL files it writes
beside (alignments), hold exactly one record per line whatever the text holds."""

from __future__ import annotations

# Characters that Python's splitlines() and other readers take as line ends: one record a line
# holds only if none is written raw. JSON escapes them; plain text output shows a space.
LINE_BREAKS = "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
AS_SPACE = str.maketrans(dict.fromkeys(LINE_BREAKS, " "))
_ESCAPED = str.maketrans({ch: f"\\u{ord(ch):04x}" for ch in LINE_BREAKS})


def json_line(record) -> str:
    """One JSON record on one line, with no character some reader would split it at."""
    import json

    return json.dumps(record, ensure_ascii=False).translate(_ESCAPED)
