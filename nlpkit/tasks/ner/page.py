"""Entities as a page (`ner tag --format html`, NERTask.render): the text with each entity
marked inline in its type's colour, and a legend (nlpkit.pages draws the frame)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from nlpkit.pages import colour, esc, head, page, tail


def legend(types: Iterable[str]) -> str:
    marks = "".join(f'<mark style="background:{colour(t)}">{esc(t)}</mark>' for t in types)
    return f'<p class="legend">entity types: {marks}</p>\n' if marks else ""


def mark(text: str, entity: dict) -> str:
    kind = entity["type"]
    score = f" {entity['score']:.2f}" if isinstance(entity.get("score"), float) else ""
    return (
        f'<mark class="ent" data-type="{esc(kind)}" style="background:{colour(kind)}" title="{esc(kind)}{score}">'
        f'{esc(text[entity["start"] : entity["end"]])}<span class="t">{esc(kind)}</span></mark>'
    )


def fragment(number: int, record: dict) -> str:
    """One record (NERTask.predict's) as a block: the text escaped, its entities marked."""
    text, pieces, last = record["text"], [], 0
    for entity in record["entities"]:
        pieces += [esc(text[last : entity["start"]]), mark(text, entity)]
        last = entity["end"]
    pieces.append(esc(text[last:]))
    return f'<div class="rec" id="r{number}"><span class="n">{number}</span>{"".join(pieces)}</div>\n'


def start(types: Iterable[str], meta: str = "") -> str:
    return head("Named entities", meta, legend(types))


def ner_page(records: Iterable[dict], types: Iterable[str], meta: str = "", first: int = 1) -> Iterator[str]:
    """The whole page for `records`, a piece at a time."""
    return page(start(types, meta), (fragment(n, r) for n, r in enumerate(records, start=first)), tail())
