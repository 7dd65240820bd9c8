"""Translations as a page (`translate predict --format html`, TranslationTask.render): each
source line, its translation, and the attention as a heat map (target subwords down, source
subwords across; the darker, the more weight; a cell's title gives the weight)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from nlpkit.pages import esc, head, page, tail


def heat_map(alignment: dict) -> str:
    source, target, attention = alignment["source"], alignment["target"], alignment["attention"]
    if not attention:
        return ""
    cols = "".join(f"<th>{esc(s)}</th>" for s in source)
    rows = []
    for word, weights in zip(target, attention, strict=False):
        cells = "".join(
            f'<td style="background:rgba(40,90,190,{w:.3f})" title="{esc(word)} / {esc(s)}: {w:.3f}"></td>'
            for s, w in zip(source, weights, strict=False)
        )
        rows.append(f"<tr><th>{esc(word)}</th>{cells}</tr>")
    return f'<table class="heat"><thead><tr><th></th>{cols}</tr></thead><tbody>{"".join(rows)}</tbody></table>\n'


def fragment(number: int, record: dict) -> str:
    aligned = heat_map(record["alignment"]) if record.get("alignment") else ""
    return (
        f'<div class="rec" id="r{number}"><span class="n">{number}</span>'
        f'<div class="src">{esc(record["source"])}</div><div class="hyp"><b>{esc(record["translation"])}</b></div>'
        f"{aligned}</div>\n"
    )


def start(meta: str = "") -> str:
    return head("Translations", meta)


def end() -> str:
    return tail()


def translate_page(records: Iterable[dict], meta: str = "") -> Iterator[str]:
    return page(start(meta), (fragment(n, r) for n, r in enumerate(records, start=1)), end())
