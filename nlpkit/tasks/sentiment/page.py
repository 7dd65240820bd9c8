"""Labels as a page (`sentiment predict --format html`, SentimentTask.render): a table of
line number, label, probability (a bar) and text, sortable by confidence with a click on its
header (nlpkit.pages draws the frame; the table reads without the script)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from nlpkit.pages import colour, esc, head, page, tail

TABLE_HEAD = (
    '<table>\n<thead><tr><th class="sort" data-key="n">#</th><th>label</th>'
    '<th class="sort" data-key="prob" title="click to sort by confidence">probability</th><th>text</th></tr></thead>\n'
    "<tbody>\n"
)
TABLE_TAIL = "</tbody>\n</table>\n"


def fragment(number: int, text: str, record: dict) -> str:
    prob = float(record["prob"])
    label = str(record["label"])
    return (
        f'<tr data-n="{number}" data-prob="{prob:.5f}"><td class="n">{number}</td>'
        f'<td><mark style="background:{colour(label)}">{esc(label)}</mark></td>'
        f'<td><span class="bar" style="width:{4 * prob:.2f}em"></span> {prob:.3f}</td><td>{esc(text)}</td></tr>\n'
    )


def start(meta: str = "") -> str:
    return head("Sentiment", meta) + TABLE_HEAD


def end() -> str:
    return tail(TABLE_TAIL, script=True)


def sentiment_page(texts: Iterable[str], records: Iterable[dict], meta: str = "") -> Iterator[str]:
    rows = (fragment(n, t, r) for n, (t, r) in enumerate(zip(texts, records, strict=True), start=1))
    return page(start(meta), rows, end())
