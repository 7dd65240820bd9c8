"""Readers for token-tagged sentences: CoNLL column files, JSONL and `datasets` sources.

CoNLL: one token a line, columns split on whitespace; any whitespace-only line ends a sentence
(WNUT-17 separates with tab-only lines); `-DOCSTART-` lines are skipped. The token and tag
columns are chosen by 1-based number (default first and last; negative numbers count from the
end). Every sentence remembers the line it starts on, for error messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nlpkit.data.readers import display_name, iter_json_objects, iter_lines, load_dataset
from nlpkit.errors import NlpkitError, option
from nlpkit.text.words import split_words

COLUMNS = re.compile(r"[ \t]+")


@dataclass
class Sentences:
    tokens: list[list[str]] = field(default_factory=list)
    tags: list[list[str]] = field(default_factory=list)
    where: list[str] = field(default_factory=list)

    def add(self, tokens: list[str], tags: list[str], where: str) -> None:
        self.tokens.append(tokens)
        self.tags.append(tags)
        self.where.append(where)

    def __len__(self) -> int:
        return len(self.tokens)


def _column(index: int, width: int) -> int:
    return index - 1 if index > 0 else width + index


class SentenceAt(str):
    """Where a CoNLL sentence starts ('file:line'), knowing the line of each of its tokens too,
    so that a message about one tag can name that tag's own line."""

    def __new__(cls, name: str, lines):
        where = super().__new__(cls, f"{name}:{lines[0]}")
        where.name, where.lines = name, lines
        return where

    def token(self, i: int) -> str:
        return f"{self.name}:{self.lines[i]}"


def iter_conll(path: str, token_column: int = 1, tag_column: int | None = -1, encoding_errors: str = "strict"):
    """(tokens, tags or None, 'file:line') per sentence, streamed. With tag_column None the file
    is read for its tokens only (tagging pre-tokenized input)."""
    name = display_name(path)
    from array import array

    tokens: list[str] = []
    tags: list[str] = []
    lines = array("I")
    width = t = g = None
    split = COLUMNS.split
    for line_no, line in enumerate(iter_lines(path, encoding_errors), start=1):
        if not line.strip():
            if tokens:
                yield tokens, (tags if tag_column is not None else None), SentenceAt(name, lines)
            tokens, tags, lines = [], [], array("I")
            continue
        cells = split(line.strip(" \t\r"))  # only spaces and tabs part columns: a no-break space is text
        if cells[0] == "-DOCSTART-":
            continue
        if width is None:  # the first line fixes the columns (and where the token and tag are)
            width = len(cells)
            t = _column(token_column, width)
            if not 0 <= t < width:
                raise NlpkitError(f"{name}:{line_no}: no column {token_column} for the token (the line has {width})")
            if tag_column is not None:
                g = _column(tag_column, width)
                if not 0 <= g < width or g == t:
                    raise NlpkitError(f"{name}:{line_no}: no column {tag_column} for the tag (the line has {width})")
        if len(cells) != width:
            raise NlpkitError(f"{name}:{line_no}: {len(cells)} columns, expected {width} like the lines before")
        lines.append(line_no)
        tokens.append(cells[t])
        if g is not None:
            tags.append(cells[g])
    if tokens:
        yield tokens, (tags if tag_column is not None else None), SentenceAt(name, lines)


def read_conll(
    paths: list[str], token_column: int = 1, tag_column: int = -1, encoding_errors: str = "strict"
) -> Sentences:
    out = Sentences()
    for path in paths:
        for tokens, tags, where in iter_conll(path, token_column, tag_column, encoding_errors):
            out.add(tokens, tags, where)
    return out


def read_jsonl(paths: list[str], encoding_errors: str = "strict") -> Sentences:
    """Records {"tokens": [...], "tags": [...]} or {"text": "...", "entities": [{"start", "end",
    "type"}]} (character spans; the text is split with nlpkit.text.words and a span must fall on
    word boundaries)."""
    out = Sentences()
    for path in paths:
        for where, record in iter_json_objects(path, encoding_errors):
            if "tokens" in record:
                tokens, tags = record.get("tokens"), record.get("tags")
                if not isinstance(tokens, list) or not isinstance(tags, list) or len(tokens) != len(tags):
                    raise NlpkitError(f"{where}: 'tokens' and 'tags' must be lists of the same length")
                out.add([str(t) for t in tokens], [str(t) for t in tags], where)
            elif "text" in record:
                out.add(*_spans_to_tags(record, where), where)
            else:
                raise NlpkitError(f"{where}: a record needs 'tokens' and 'tags', or 'text' and 'entities'")
    return out


def _spans_to_tags(record: dict, where: str) -> tuple[list[str], list[str]]:
    words = split_words(str(record["text"]))
    tags = ["O"] * len(words)
    starts = {s: i for i, (_, s, _) in enumerate(words)}
    ends = {e: i for i, (_, _, e) in enumerate(words)}
    for entity in record.get("entities", []):
        try:
            start, end, kind = int(entity["start"]), int(entity["end"]), str(entity["type"])
        except (KeyError, TypeError, ValueError):
            raise NlpkitError(f"{where}: an entity needs integer 'start', 'end' and a 'type'") from None
        if start not in starts or end not in ends or ends[end] < starts[start]:
            raise NlpkitError(f"{where}: entity {start}-{end} does not fall on word boundaries")
        first, last = starts[start], ends[end]
        tags[first] = f"B-{kind}"
        for i in range(first + 1, last + 1):
            tags[i] = f"I-{kind}"
    return [w for w, _, _ in words], tags


def dataset_sentences(
    source: str, split: str, token_column: str, tag_column: str, config: str | None = None
) -> Sentences:
    """Sentences from a `datasets` source; integer tags become their class names."""
    data = load_dataset(source, split, config)
    for col in (token_column, tag_column):
        if col not in data.column_names:
            raise NlpkitError(
                f"dataset {source!r} has no column {col!r}; columns: {', '.join(data.column_names)} "
                f"(see {option('token_column')}/{option('tag_column')})"
            )
    feature = data.features.get(tag_column)
    names = getattr(getattr(feature, "feature", None), "names", None)
    out = Sentences()
    for row, (tokens, tags) in enumerate(zip(data[token_column], data[tag_column], strict=True)):
        if names is not None:
            tags = [names[t] if isinstance(t, int) else t for t in tags]
        if len(tokens) != len(tags):
            raise NlpkitError(f"dataset {source!r} row {row}: {len(tokens)} tokens but {len(tags)} tags")
        if tokens:
            out.add([str(t) for t in tokens], [str(t) for t in tags], f"dataset {source!r} row {row}")
    return out
