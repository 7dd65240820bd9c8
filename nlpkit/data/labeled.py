"""Readers for labeled texts (text classification): TSV/CSV, `label text` lines, FastText,
JSONL and `datasets` sources.

Every example remembers where it came from, so a problem names its file and line. A row with
no text or no label is an error, or with `skip_bad` is skipped and counted.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from nlpkit.console import warn
from nlpkit.data.readers import (
    _decode,
    _open_binary,
    check_readable,
    display_name,
    iter_json_objects,
    iter_lines,
    load_dataset,
    raw_lines,
)
from nlpkit.errors import NlpkitError, option

FORMATS = ("auto", "tsv", "csv", "label-first", "fasttext", "jsonl")
FASTTEXT_PREFIX = "__label__"


@dataclass
class Labeled:
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # "file:line" of each example
    skipped: int = 0

    def add(self, text: str, label: str, where: str) -> None:
        self.texts.append(text)
        self.labels.append(label)
        self.where.append(where)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class Columns:
    """Which columns hold the text and the label: names, or 1-based numbers (then the file
    has no header line)."""

    text: str = "text"
    label: str = "label"

    @property
    def numbered(self) -> bool:
        return self.text.isdigit() and self.label.isdigit()


def detect_format(path: str, first_line: str | None) -> str:
    lower = path.lower().removesuffix(".gz")
    if lower.endswith(".jsonl") or lower.endswith(".json"):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".tsv"):
        return "tsv"
    if first_line is None:
        return "label-first"
    if first_line.startswith(FASTTEXT_PREFIX):
        return "fasttext"
    return "tsv" if "\t" in first_line else "label-first"


def _first_line(path: str, encoding_errors: str) -> str | None:
    if path == "-":
        return None  # stdin cannot be peeked without consuming it
    for line in iter_lines(path, encoding_errors):
        if line.strip():
            return line
    return None


def read_labeled(
    paths: list[str],
    *,
    input_format: str = "auto",
    columns: Columns | None = None,
    skip_bad: bool = False,
    encoding_errors: str = "strict",
) -> Labeled:
    """All labeled examples of the given files, in order."""
    columns = columns or Columns()
    out = Labeled()
    for path in paths:
        check_readable(path)
        fmt = input_format
        if fmt == "auto":
            fmt = detect_format(path, _first_line(path, encoding_errors))
        reader = {
            "tsv": _read_table,
            "csv": _read_table,
            "label-first": _read_label_first,
            "fasttext": _read_fasttext,
            "jsonl": _read_jsonl,
        }[fmt]
        reader(path, fmt, columns, out, skip_bad, encoding_errors)
    return out


def _bad(out: Labeled, skip_bad: bool, message: str) -> None:
    if not skip_bad:
        raise NlpkitError(f"{message} (or pass {option('skip_bad')} to skip such rows)")
    out.skipped += 1


def _keep(out: Labeled, text, label, where: str, skip_bad: bool) -> None:
    # JSON and datasets rows can hold anything: a text is a string, a label a string or a
    # whole number (class ids), never a list or an object turned into its Python spelling
    if text is not None and not isinstance(text, str):
        return _bad(out, skip_bad, f"{where}: the text is a {type(text).__name__}, not a string")
    if label is not None and (isinstance(label, bool) or not isinstance(label, str | int)):
        return _bad(out, skip_bad, f"{where}: the label is a {type(label).__name__}, not a string or a number")
    text = "" if text is None else text
    label = "" if label is None else str(label).strip()
    if not label:
        _bad(out, skip_bad, f"{where}: row has no label")
    elif not text.strip():
        _bad(out, skip_bad, f"{where}: row has no text")
    else:
        out.add(text, label, where)


def _read_label_first(path, fmt, columns, out, skip_bad, errors) -> None:
    name = display_name(path)
    for line_no, line in enumerate(iter_lines(path, errors), start=1):
        if not line.strip():
            continue
        label, _, text = line.strip().partition(" ")
        if "\t" in label:
            label, _, rest = label.partition("\t")
            text = rest + (" " + text if text else "")
        _keep(out, text.strip(), label, f"{name}:{line_no}", skip_bad)


def _read_fasttext(path, fmt, columns, out, skip_bad, errors) -> None:
    name = display_name(path)
    for line_no, line in enumerate(iter_lines(path, errors), start=1):
        if not line.strip():
            continue
        words = line.split()
        labels = []
        while words and words[0].startswith(FASTTEXT_PREFIX):
            labels.append(words.pop(0)[len(FASTTEXT_PREFIX) :])
        where = f"{name}:{line_no}"
        if len(labels) > 1:
            raise NlpkitError(f"{where}: {len(labels)} labels on one line; multi-label data is not supported")
        _keep(out, " ".join(words), labels[0] if labels else "", where, skip_bad)


def _read_jsonl(path, fmt, columns, out, skip_bad, errors) -> None:
    for where, record in iter_json_objects(path, errors, f"{columns.text!r} and {columns.label!r}"):
        _keep(out, record.get(columns.text), record.get(columns.label), where, skip_bad)


def _table_text(path: str, errors: str) -> str:
    """The whole file as text (tables may hold quoted newlines, so they are not read by line)."""
    f = _open_binary(path)
    try:
        raw = b"".join(raw_lines(f, display_name(path)))  # each line bounded: /dev/zero is refused, not read
    finally:
        if path != "-":
            f.close()
    # Decoding line by line names the line of a bad byte; whole-file decoding is the fast path.
    try:
        return raw.decode("utf-8", errors=errors).removeprefix("\ufeff")
    except UnicodeDecodeError:
        offset = 0
        for line_no, line in enumerate(raw.splitlines(keepends=True), start=1):
            _decode(line, display_name(path), offset, line_no, errors)
            offset += len(line)
        raise


def _read_table(path, fmt, columns, out, skip_bad, errors) -> None:
    name = display_name(path)
    delimiter = "," if fmt == "csv" else "\t"
    # TSV files rarely quote; a lone double quote in a review must stay text.
    quoting = csv.QUOTE_MINIMAL if fmt == "csv" else csv.QUOTE_NONE
    csv.field_size_limit(2**31 - 1)  # a long review is data, not an attack: the default refuses 128 KiB
    # strict: a quote never closed is an error, not a field that swallows every row after it
    reader = csv.reader(
        io.StringIO(_table_text(path, errors), newline=""), delimiter=delimiter, quoting=quoting, strict=True
    )
    if columns.numbered:
        text_i, label_i = int(columns.text) - 1, int(columns.label) - 1
        if min(text_i, label_i) < 0:
            raise NlpkitError(f"{option('text_column')}/{option('label_column')} numbers start at 1")
    else:
        header = next(reader, None)
        if header is None:
            return
        header = [h.strip() for h in header]
        missing = [c for c in (columns.text, columns.label) if c not in header]
        if missing:
            raise NlpkitError(
                f"{name}:1: no column {missing[0]!r} in the header ({', '.join(header)}); "
                f"name the columns with {option('text_column')}/{option('label_column')}, or give their numbers for a file without a header"
            )
        text_i, label_i = header.index(columns.text), header.index(columns.label)
    need = max(text_i, label_i) + 1
    line_no = reader.line_num
    try:
        for row in reader:
            start, line_no = line_no + 1, reader.line_num
            if not row or not any(cell.strip() for cell in row):
                continue
            where = f"{name}:{start}"
            if len(row) < need:
                _bad(out, skip_bad, f"{where}: {len(row)} column(s), expected at least {need}")
                continue
            _keep(out, row[text_i], row[label_i], where, skip_bad)
    except csv.Error as exc:
        start = line_no + 1  # the line the broken row starts on
        if "unexpected end of data" in str(exc):
            raise NlpkitError(
                f"{name}:{start}: a quote opened in this row is never closed (malformed {fmt.upper()}; "
                f'double a quote inside a quoted field: "")'
            ) from None
        raise NlpkitError(f"{name}:{start}: malformed {fmt.upper()} ({exc})") from None


def dataset_labeled(
    source: str, split: str, columns: Columns, config: str | None = None, skip_bad: bool = False
) -> Labeled:
    """Labeled examples from a `datasets` source; integer class labels become their names."""
    data = load_dataset(source, split, config)
    for col in (columns.text, columns.label):
        if col not in data.column_names:
            raise NlpkitError(
                f"dataset {source!r} has no column {col!r}; columns: {', '.join(data.column_names)} "
                f"(see {option('text_column')}/{option('label_column')})"
            )
    feature = data.features.get(columns.label)
    names = getattr(feature, "names", None)
    out = Labeled()
    for row, (text, label) in enumerate(zip(data[columns.text], data[columns.label], strict=True)):
        if names is not None and isinstance(label, int) and 0 <= label < len(names):
            label = names[label]
        _keep(out, text, label, f"dataset {source!r} row {row}", skip_bad)
    return out


def read_examples(
    paths,
    *,
    input_format="auto",
    text_column="text",
    label_column="label",
    skip_bad=False,
    encoding_errors="strict",
    what="data",
):
    """Labeled examples of files, checked: skipped rows are counted in a warning."""
    data = read_labeled(
        paths,
        input_format=input_format,
        columns=Columns(text_column, label_column),
        skip_bad=skip_bad,
        encoding_errors=encoding_errors,
    )
    if data.skipped:
        warn(f"{what}: skipped {data.skipped:,} row(s) with no label or no text")
    if not len(data):
        raise NlpkitError(f"{', '.join(paths)}: no labeled examples")
    return data


def hold_out(data: Labeled, fraction: float, seed: int) -> tuple[Labeled, Labeled]:
    """Split off a seeded random share of the examples for validation."""
    from nlpkit.data.holdout import split

    rows = list(zip(data.texts, data.labels, data.where, strict=True))
    return split(rows, fraction, seed, Labeled(skipped=data.skipped), Labeled())
