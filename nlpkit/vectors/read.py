"""Reading word-vector files: word2vec text and binary, GloVe and fastText `.vec`, plain or gzipped.

The formats differ in two ways only: a header line "COUNT DIM" (word2vec, fastText) or none
(GloVe), and rows written as text ("word v1 ... vD") or as a word, a space and DIM little-endian
float32 numbers (word2vec binary). Both are told apart from the data, not the file name. Files
such as GloVe 840B hold millions of rows, so only the rows a caller asks for are kept (`wanted`,
and the first `first` rows: these files list the commonest words first); every row is still
checked. A vectors file from elsewhere is untrusted input: dimensions, numbers and encoding are
validated and reported with the line (or row) that breaks them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from nlpkit.data.readers import raw_lines
from nlpkit.errors import NlpkitError

MAX_DIM = 4096  # no published vectors come near; a larger "dimension" is a misread header


@dataclass
class WordVectors:
    """The rows of a vectors file that were asked for, in file order."""

    source: str
    sha256: str
    format: str  # "word2vec-text" (with a header), "glove-text" (without) or "word2vec-binary"
    dim: int
    rows: int = 0  # rows in the file
    duplicates: int = 0  # repeated words (the first row of a word wins)
    words: list[str] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # each kept word's row in the file, from 0
    index: dict[str, int] = field(default_factory=dict)  # word -> row of `vectors`
    vectors: torch.Tensor | None = None  # [len(words), dim] float32

    def get(self, word: str) -> torch.Tensor | None:
        i = self.index.get(word)
        return None if i is None else self.vectors[i]

    def describe(self) -> dict:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "format": self.format,
            "dim": self.dim,
            "rows": self.rows,
            "duplicates": self.duplicates,
        }


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_vectors(path: str, keep: Callable[[str, int], bool] | None = None) -> WordVectors:
    """The vectors of `path` whose (word, row number from 0) `keep` accepts (all without it).
    Raises NlpkitError naming the line (text) or row (binary) of a malformed file."""
    from nlpkit.data.readers import check_readable

    check_readable(path)
    if not os.path.isfile(path):  # read several times (sniffed, hashed, parsed): a pipe or device cannot be
        raise NlpkitError(f"{path}: not a regular file (a device or a FIFO); give a vectors file")
    keep = keep or (lambda word, row: True)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    stream = io.BufferedReader(gzip.open(path, "rb") if gzipped else open(path, "rb"), 1 << 20)  # noqa: SIM115
    with stream:
        try:
            first = stream.readline()
            if not first.strip():
                raise NlpkitError(f"{path}: no vectors in the file (it is empty or starts with a blank line)")
            header = _header(first, path)
            if header is None:  # GloVe: the first line is already a row
                dim = _text_dim(first, path)
                out = WordVectors(path, file_sha256(path), "glove-text", dim)
                _read_text(stream, out, keep, first_line=first)
            else:
                count, dim = header
                if not stream.peek(1):
                    raise NlpkitError(f"{path}: a header ({count:,} rows of {dim}) and no vectors after it")
                if _binary_follows(stream, dim):
                    out = WordVectors(path, file_sha256(path), "word2vec-binary", dim)
                    _read_binary(stream, out, keep, count)
                else:
                    out = WordVectors(path, file_sha256(path), "word2vec-text", dim)
                    _read_text(stream, out, keep, first_line=None)
                    if out.rows != count:
                        from nlpkit.console import warn

                        warn(f"{path}: the header announces {count:,} rows, the file holds {out.rows:,}")
        except (EOFError, gzip.BadGzipFile, OSError) as exc:
            raise NlpkitError(f"{path}: unreadable vectors file ({exc})") from None
    if not out.rows:
        raise NlpkitError(f"{path}: no vectors in the file")
    if out.duplicates:
        from nlpkit.console import warn

        warn(f"{path}: {out.duplicates:,} word(s) appear more than once; the first row of each was used")
    return out


def _header(line: bytes, path: str) -> tuple[int, int] | None:
    """(count, dim) of a "COUNT DIM" header line, or None if the line is a row."""
    parts = line.split()
    if len(parts) != 2 or not all(p.lstrip(b"-").isdigit() for p in parts):
        return None
    count, dim = int(parts[0]), int(parts[1])
    if count < 1:
        raise NlpkitError(f"{path}:1: header gives {count} rows; a 'COUNT DIM' header counts 1 or more")
    if not 1 <= dim <= MAX_DIM:
        raise NlpkitError(f"{path}:1: header gives dimension {dim}; expected 1 to {MAX_DIM}")
    return count, dim


def _text_dim(line: bytes, path: str) -> int:
    parts = _decode(line, path, 1).rstrip().split(" ")
    dim = len(parts) - 1
    if dim < 1 or dim > MAX_DIM:
        raise NlpkitError(f"{path}:1: not a vectors row (a word followed by numbers) nor a 'COUNT DIM' header")
    return dim


def _binary_follows(stream: io.BufferedReader, dim: int) -> bool:
    """Whether the rows after the header are binary: the first text row would be a word and dim
    numbers on one line; binary float32 bytes are almost never that."""
    ahead = stream.peek(1 << 16)
    end = ahead.find(b"\n")
    line = ahead[: end if end >= 0 else len(ahead)]
    try:
        parts = line.decode("utf-8").rstrip().split(" ")
        [float(x) for x in parts[-dim:]]
        return len(parts) < dim + 1
    except (UnicodeDecodeError, ValueError):
        return True


def _decode(raw: bytes, path: str, where: int, what: str = "") -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        place = f"{path}:{where}" if not what else f"{path}: {what} {where:,}"
        raise NlpkitError(
            f"{place}: not UTF-8 (byte 0x{raw[exc.start]:02x}); convert the file, e.g. iconv -f latin1 -t utf-8"
        ) from None


def _read_text(stream, out: WordVectors, keep, first_line: bytes | None) -> None:
    """The text rows of `stream`; `first_line` is line 1 when it is already a row (GloVe), else
    line 1 was the header."""
    dim, path = out.dim, out.source
    kept: list[list[float]] = []
    seen: set[str] = set()
    rest = raw_lines(stream, path, 2)  # line 1 (a header or the first row) is read already
    lines = rest if first_line is None else _chain(first_line, rest)
    line_no = 1 if first_line is not None else 2
    for raw in lines:
        text = _decode(raw, path, line_no).rstrip()
        if not text:  # a blank line (say, at the end) holds no row
            line_no += 1
            continue
        fields = text.count(" ")
        if fields < dim:
            raise NlpkitError(
                f"{path}:{line_no}: {fields} number(s) where the file's vectors have {dim} "
                f"({'the header' if out.format == 'word2vec-text' else 'line 1'} says {dim})"
            )
        # a word may hold spaces (GloVe 840B): the last `dim` fields are the numbers
        cut = _nth_space_from_end(text, dim)
        word = text[:cut]
        if " " in word and _is_float(word.rsplit(" ", 1)[1]):
            raise NlpkitError(f"{path}:{line_no}: more than {dim} numbers (line 1 or the header says {dim})")
        row = out.rows
        out.rows += 1
        line_no += 1
        if word in seen:
            out.duplicates += 1
            continue
        seen.add(word)
        if not keep(word, row):
            continue
        try:
            values = [float(x) for x in text[cut + 1 :].split(" ")]
        except ValueError:
            bad = next(x for x in text[cut + 1 :].split(" ") if not _is_float(x))
            raise NlpkitError(f"{path}:{line_no - 1}: {bad[:20]!r} is not a number") from None
        if not all(math.isfinite(v) for v in values):
            raise NlpkitError(f"{path}:{line_no - 1}: values that are not finite numbers")
        out.index[word] = len(out.words)
        out.words.append(word)
        out.positions.append(row)
        kept.append(values)
    out.vectors = torch.tensor(kept, dtype=torch.float32) if kept else torch.zeros(0, dim)


def _read_binary(stream, out: WordVectors, keep, count: int) -> None:
    dim, path = out.dim, out.source
    size = 4 * dim
    kept: list[torch.Tensor] = []
    seen: set[str] = set()
    for row in range(count):
        word_bytes = bytearray()
        while True:
            ch = stream.read(1)
            if not ch:
                if row and not word_bytes:
                    raise NlpkitError(f"{path}: ends at row {row:,} of the {count:,} its header announces")
                raise NlpkitError(f"{path}: row {row + 1:,}: the file ends inside the row")
            if ch == b" ":
                break
            if ch != b"\n" or word_bytes:  # word2vec writes a line end after each vector
                word_bytes += ch
            if len(word_bytes) > 10_000:
                raise NlpkitError(f"{path}: row {row + 1:,}: no word of reasonable length (not a vectors file?)")
        word = _decode(bytes(word_bytes), path, row + 1, what="row")
        data = stream.read(size)
        if len(data) != size:
            raise NlpkitError(f"{path}: row {row + 1:,}: the file ends inside the row")
        out.rows += 1
        if word in seen:
            out.duplicates += 1
            continue
        seen.add(word)
        if keep(word, row):
            vector = torch.frombuffer(bytearray(data), dtype=torch.float32)
            if not torch.isfinite(vector).all():
                raise NlpkitError(f"{path}: row {row + 1:,} ({word[:40]!r}): values that are not finite numbers")
            out.index[word] = len(out.words)
            out.words.append(word)
            out.positions.append(row)
            kept.append(vector)
    out.vectors = torch.stack(kept) if kept else torch.zeros(0, dim)


def _chain(first: bytes, rest):
    yield first
    yield from rest


def _nth_space_from_end(text: str, n: int) -> int:
    cut = len(text)
    for _ in range(n):
        cut = text.rindex(" ", 0, cut)
    return cut


def _is_float(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
