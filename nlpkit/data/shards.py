"""One part of a large input, so that N jobs (scheduler array tasks, torchrun ranks) can share it:
`--shard K/N` takes the K-th of N parts, numbered from 1 as `split -n l/K/N` numbers them, and
the N outputs concatenated in order are the output of the whole input.

The parts are cut by bytes, not lines: a job finds its part with one seek instead of reading
everything before it. A line belongs to the part in which its first byte lies, so no line is cut
or repeated. Several input files count as their concatenation. A gzipped file cannot be entered
in the middle: its lines are counted in a first pass and the parts cut by line numbers. Standard
input cannot be split without reading it all, so a shard needs named files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from nlpkit.data.readers import STDIN, check_readable, iter_lines
from nlpkit.errors import NlpkitError, option


def parse(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise NlpkitError(f"{option('shard')} {text!r}: write K/N, the K-th of N parts (for example 1/4)")
    k, n = int(match[1]), int(match[2])
    if n < 1 or not 1 <= k <= n:
        raise NlpkitError(f"{option('shard')} {text}: K runs from 1 to N (the first of 4 parts is 1/4)")
    return k, n


def shard_lines(paths: list[str], k: int, n: int, encoding_errors: str = "strict") -> Iterator[str]:
    """The lines of part k of n of the files `paths`, in order."""
    _named_files(paths)
    for path in paths:
        check_readable(path)
    if any(p.endswith(".gz") for p in paths):  # cut by line numbers over all the files

        def lines():
            return (line for path in paths for line in iter_lines(path, encoding_errors))

        yield from records_part(lines, k, n, paths)
        return
    sizes = [Path(p).stat().st_size for p in paths]
    total = sum(sizes)
    begin, end = (k - 1) * total // n, k * total // n
    base = 0
    for path, size in zip(paths, sizes, strict=True):
        local_begin, local_end = max(0, begin - base), min(size, end - base)
        base += size
        if local_begin >= local_end:
            continue
        start = _line_start_at_or_after(path, local_begin)
        if start < local_end:
            yield from iter_lines(path, encoding_errors, start=start, end=local_end)


def records_part(records, k: int, n: int, paths: list[str]) -> Iterator:
    """Part k of n of the records `records()` yields when a record spans lines (CoNLL
    sentences): they are counted in a first pass and the parts cut by record numbers."""
    _named_files(paths)
    total = sum(1 for _ in records())
    first, last = (k - 1) * total // n, k * total // n
    for index, record in enumerate(records()):
        if index >= last:
            return
        if index >= first:
            yield record


def _named_files(paths: list[str]) -> None:
    if any(p == STDIN for p in paths):
        raise NlpkitError(f"{option('shard')}: give input files; standard input cannot be split without reading it all")


def _line_start_at_or_after(path: str, offset: int) -> int:
    """The first byte offset >= `offset` at which a line begins."""
    if offset == 0:
        return 0
    with open(path, "rb") as f:
        f.seek(offset - 1)
        f.readline()  # up to and including the line end at or after offset - 1
        return f.tell()
