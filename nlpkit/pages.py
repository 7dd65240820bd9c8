"""HTML pages of predictions (`--format html`, `render()`): one self-contained file, read in any
browser with no network and no script (a small inline script only adds sorting), streamed a
record at a time so a long input never sits in memory. Every piece of user text goes through
`esc`; the tasks' page modules (nlpkit/tasks/TASK/page.py) write the records' fragments.
"""

from __future__ import annotations

import colorsys
import hashlib
import html
from collections.abc import Iterable, Iterator

STYLE = """
body { font: 16px/1.6 system-ui, sans-serif; margin: 2em auto; max-width: 60em; padding: 0 1em; color: #222; }
h1 { font-size: 1.3em; } .meta { color: #666; font-size: 0.9em; }
.rec { border-bottom: 1px solid #eee; padding: 0.5em 0; white-space: pre-wrap; }
.n { color: #999; font-size: 0.75em; margin-right: 0.8em; user-select: none; }
mark { border-radius: 0.3em; padding: 0.1em 0.3em; margin: 0 0.1em; color: #111; }
mark .t { font-size: 0.65em; font-weight: bold; margin-left: 0.4em; vertical-align: middle; }
.legend mark { display: inline-block; margin: 0.2em; }
table { border-collapse: collapse; } th, td { padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th.sort { cursor: pointer; text-decoration: underline dotted; }
.bar { display: inline-block; height: 0.8em; background: #4a7bd0; vertical-align: middle; }
.heat td { width: 1.6em; height: 1.6em; padding: 0; border: 1px solid #fff; }
.heat th { font-weight: normal; font-size: 0.85em; white-space: nowrap; }
.heat thead th { writing-mode: vertical-rl; transform: rotate(180deg); text-align: left; }
"""

# Sorting by a column's data-key when its header is clicked: an aid, not needed to read the page.
SORT_SCRIPT = """
document.querySelectorAll("th.sort").forEach(function (th) {
  th.addEventListener("click", function () {
    var body = th.closest("table").tBodies[0], key = th.dataset.key, down = th.dataset.down !== "1";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) { var d = parseFloat(a.dataset[key]) - parseFloat(b.dataset[key]); return down ? -d : d; });
    rows.forEach(function (r) { body.appendChild(r); });
    th.dataset.down = down ? "1" : "0";
  });
});
"""

# Colours of the usual entity types (CoNLL, OntoNotes, WNUT); others get one from their name.
KNOWN_COLOURS = {
    "PER": "#aa9cfc", "PERSON": "#aa9cfc", "ORG": "#7aecec", "LOC": "#ff9561", "GPE": "#feca74",
    "MISC": "#e4e7d2", "DATE": "#bfe1d9", "TIME": "#bfe1d9", "MONEY": "#e4e7d2", "PRODUCT": "#bfeeb7",
    "EVENT": "#ffeb80", "NORP": "#c887fb", "FAC": "#9cc9cc", "WORK_OF_ART": "#f0d0ff", "LAW": "#ff8197",
    "CARDINAL": "#e4e7d2", "ORDINAL": "#e4e7d2", "PERCENT": "#e4e7d2", "QUANTITY": "#e4e7d2",
    "LANGUAGE": "#ff8197", "CORPORATION": "#7aecec", "GROUP": "#c887fb", "LOCATION": "#ff9561",
    "CREATIVE-WORK": "#f0d0ff",
}  # fmt: skip


def esc(text) -> str:
    """User text as HTML text: `<script>` shows as those characters, quotes are safe in attributes."""
    return html.escape(str(text), quote=True)


def colour(kind: str) -> str:
    """A light background for an entity type: the usual ones fixed, any other from its name."""
    if kind.upper() in KNOWN_COLOURS:
        return KNOWN_COLOURS[kind.upper()]
    hue = int.from_bytes(hashlib.sha256(kind.encode("utf-8")).digest()[:2], "big") / 65536
    r, g, b = colorsys.hls_to_rgb(hue, 0.8, 0.7)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def head(title: str, meta: str = "", extra: str = "") -> str:
    """The page up to its first record: style, title, a line about the model, and `extra` (HTML
    made by the caller, e.g. a legend)."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{esc(title)}</h1>\n" + (f'<p class="meta">{esc(meta)}</p>\n' if meta else "") + extra
    )


def tail(extra: str = "", script: bool = False) -> str:
    return extra + (f"<script>{SORT_SCRIPT}</script>\n" if script else "") + "</body>\n</html>\n"


def page(start: str, fragments: Iterable[str], end: str) -> Iterator[str]:
    """The page as pieces to write one after the other (nothing held but the current one)."""
    yield start
    yield from fragments
    yield end
