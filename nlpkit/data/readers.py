"""Readers for the inputs every task takes: plain text, JSONL and `datasets` sources.

Errors name the file, the line and the problem. Invalid UTF-8 is an error naming the byte
offset unless the user asks for `--encoding-errors replace`.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from nlpkit.errors import NlpkitError, option

STDIN = "-"
# The longest line (or record of a line-based format) any reader takes: a file without line ends
# (a binary file, /dev/zero) is refused here rather than read into memory whole.
MAX_LINE_BYTES = 16 << 20


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def check_readable(path: str) -> None:
    if path == STDIN:
        return
    p = Path(path)
    if not p.exists():
        raise NlpkitError(f"{path}: no such file")
    if p.is_dir():
        raise NlpkitError(f"{path}: is a directory, expected a file")


def _decode(raw: bytes, name: str, offset: int, line_no: int, errors: str) -> str:
    try:
        return raw.decode("utf-8", errors=errors)
    except UnicodeDecodeError as exc:
        raise NlpkitError(
            f"{name}:{line_no}: invalid UTF-8 at byte offset {offset + exc.start} "
            f"(use {option('encoding_errors')} replace to substitute U+FFFD)"
        ) from None


def _open_binary(path: str):
    if path == STDIN:
        if sys.stdin is None:
            raise NlpkitError("standard input is closed: give input files, or pipe text in")
        return sys.stdin.buffer
    if path.endswith(".gz"):
        import gzip

        return gzip.open(path, "rb")
    return open(path, "rb")  # noqa: SIM115 - closed by the caller


def raw_lines(f, name: str, first_line_no: int = 1) -> Iterator[bytes]:
    """The lines of a binary stream with their ends, each at most MAX_LINE_BYTES (else an error
    naming the line): memory stays bounded whatever the stream holds."""
    line_no = first_line_no
    for raw in iter(lambda: f.readline(MAX_LINE_BYTES + 1), b""):
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise _too_long(name, line_no)
        yield raw
        line_no += 1


def iter_lines(path: str, encoding_errors: str = "strict", start: int = 0, end: int | None = None) -> Iterator[str]:
    """Lines without their line end, streamed (flat memory); CRLF and a UTF-8 BOM are handled.
    With `start`/`end` (a seekable file): the lines that begin at byte offsets start..end-1,
    `start` being the first byte of a line."""
    check_readable(path)
    name = display_name(path)
    f = _open_binary(path)
    try:
        if start or end is not None:
            yield from _shard_lines(f, path, name, encoding_errors, start, end)
        else:
            first = True
            for lines in _line_blocks(f, name, encoding_errors):
                if first and lines and lines[0].startswith("\ufeff"):
                    lines[0] = lines[0][1:]
                first = False
                yield from lines
    finally:
        if f is not sys.stdin.buffer:
            f.close()


READ_BLOCK = 1 << 20  # bytes read (and decoded) at a time
NEWLINE = b"\n"


def _line_blocks(f, name: str, errors: str) -> Iterator[list[str]]:
    """The lines of a binary stream as text, a block at a time: each block's whole lines are
    decoded in one call and split in one call (per-line work in Python was most of reading a
    large file). A decoding error is then found line by line, to name its line and offset.
    `read1` returns what a pipe has, so a stream's lines come as they arrive."""
    import zlib
    from gzip import BadGzipFile

    read = getattr(f, "read1", None) or f.read
    rest, done, offset = b"", 0, 0  # done: lines already given; offset: their bytes
    while True:
        try:
            chunk = read(READ_BLOCK)
        except (BadGzipFile, EOFError, zlib.error) as exc:  # a damaged or cut .gz file
            raise NlpkitError(f"{name}:{done + 1}: not a readable gzip file ({exc})") from None
        if chunk:
            data = rest + chunk if rest else chunk
            body, sep, rest = data.rpartition(b"\n")
            if not sep:
                body, rest = b"", data
            if len(rest) > MAX_LINE_BYTES:
                raise _too_long(name, done + body.count(NEWLINE) + (2 if sep else 1))
            if not sep:
                continue
        else:
            if not rest:
                return
            body, rest = rest, b""
        if len(body) > MAX_LINE_BYTES:  # a whole line over the limit may arrive in one block
            for i, raw in enumerate(body.split(b"\n")):
                if len(raw) > MAX_LINE_BYTES:
                    raise _too_long(name, done + i + 1)
        try:
            text = body.decode("utf-8", errors=errors)
        except UnicodeDecodeError:
            for i, raw in enumerate(body.split(b"\n")):  # raises, naming the line
                _decode(raw, name, offset, done + i + 1, errors)
                offset += len(raw) + 1
            raise AssertionError("unreachable: the block failed to decode but none of its lines did") from None
        lines = text.split("\n")
        if "\r" in text:
            lines = [line.rstrip("\r") for line in lines]
        done += len(lines)
        offset += len(body) + 1
        yield lines
        if not chunk:
            return


def _too_long(name: str, line_no: int) -> NlpkitError:
    return NlpkitError(f"{name}:{line_no}: a line longer than {MAX_LINE_BYTES >> 20} MiB (not a text file of lines?)")


def _shard_lines(f, path: str, name: str, errors: str, start: int, end: int | None) -> Iterator[str]:
    """The lines that begin at byte offsets start..end-1, one at a time (offsets counted)."""
    import zlib
    from gzip import BadGzipFile

    offset, line_no = start, 0
    try:
        if start:
            f.seek(start)
        for line_no, raw in enumerate(raw_lines(f, name), start=1):  # in a shard, counted from its start
            if end is not None and offset >= end:
                break
            try:
                text = _decode(raw, name, offset, line_no, errors)
            except NlpkitError:
                if not start:
                    raise
                _decode(raw, name, offset, line_no + _lines_before(path, start), errors)
            if line_no == 1 and not start and text.startswith("\ufeff"):
                text = text[1:]
            offset += len(raw)
            yield text.rstrip("\r\n")
    except (BadGzipFile, EOFError, zlib.error) as exc:  # a damaged or cut .gz file
        raise NlpkitError(f"{name}:{line_no + 1}: not a readable gzip file ({exc})") from None


def _lines_before(path: str, offset: int) -> int:
    """How many lines end before byte `offset` (for an error's line number in a shard)."""
    count = 0
    with open(path, "rb") as f:
        while offset > 0:
            block = f.read(min(offset, 1 << 20))
            if not block:
                break
            count += block.count(b"\n")
            offset -= len(block)
    return count


def iter_json_objects(path: str, encoding_errors: str = "strict", expected: str = "") -> Iterator[tuple[str, dict]]:
    """('file:line', object) for each non-blank line of a JSON-lines file; a line that is not
    a JSON object is an error naming it (`expected` says what the object should hold)."""
    name = display_name(path)
    for line_no, line in enumerate(iter_lines(path, encoding_errors), start=1):
        if not line.strip():
            continue
        where = f"{name}:{line_no}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise NlpkitError(f"{where}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise NlpkitError(f"{where}: expected a JSON object{' with ' + expected if expected else ''}")
        yield where, record


def read_jsonl_texts(path: str, field: str, encoding_errors: str = "strict") -> Iterator[str]:
    for where, record in iter_json_objects(path, encoding_errors, f"a field {field!r} (see {option('text_field')})"):
        if field not in record:
            raise NlpkitError(f"{where}: record has no field {field!r} (see {option('text_field')})")
        value = record[field]
        if not isinstance(value, str):
            raise NlpkitError(f"{where}: field {field!r} is not a string")
        yield from value.split("\n")


_LOCAL_BUILDERS = {
    ".txt": "text",
    ".json": "json",
    ".jsonl": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
}


def load_dataset(source: str, split: str, config: str | None = None):
    """A `datasets` split from a hub name, a local data folder or local data files."""
    try:
        import datasets
    except ImportError:  # pragma: no cover - a declared dependency
        raise NlpkitError(f"{option('dataset')} needs the 'datasets' package: pip install datasets") from None
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    path = Path(source)
    try:
        if path.is_file():
            suffix = path.suffix if path.suffix != ".gz" else Path(path.stem).suffix
            builder = _LOCAL_BUILDERS.get(suffix)
            if builder is None:
                raise NlpkitError(f"{source}: cannot tell the data format from the extension {suffix!r}")
            kwargs = {"delimiter": "\t"} if suffix == ".tsv" else {}
            return datasets.load_dataset(builder, data_files={split: str(path)}, split=split, **kwargs)
        return datasets.load_dataset(source, config, split=split)
    except NlpkitError:
        raise
    except Exception as exc:  # datasets raises many types; the user needs the message
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NlpkitError(f"dataset {source!r} (split {split!r}): {message}") from None


def dataset_texts(source: str, split: str, field: str, config: str | None = None) -> Iterator[str]:
    data = load_dataset(source, split, config)
    if field not in data.column_names:
        raise NlpkitError(
            f"dataset {source!r} has no column {field!r}; columns: {', '.join(data.column_names)} (see {option('text_field')})"
        )
    for row, value in enumerate(data[field]):
        if not isinstance(value, str):
            raise NlpkitError(f"dataset {source!r} row {row}: column {field!r} is not text")
        yield from value.split("\n")


def fingerprint(lines: list[str], sources: list[str]) -> dict:
    """What the model was trained on: the sources, their size and a content hash."""
    digest = hashlib.sha256()
    chars = 0
    for line in lines:
        digest.update(line.encode("utf-8", "surrogatepass"))
        digest.update(b"\n")
        chars += len(line) + 1
    return {"sources": sources, "lines": len(lines), "chars": chars, "sha256": digest.hexdigest()}


def is_jsonl(path: str, input_format: str = "auto") -> bool:
    if input_format != "auto":
        return input_format == "jsonl"
    return path.endswith((".jsonl", ".jsonl.gz"))


def read_texts(
    paths: list[str], *, input_format: str = "auto", text_field: str = "text", encoding_errors: str = "strict"
) -> list[str]:
    """All lines of plain-text or JSONL files ('-' is stdin), in order."""
    lines: list[str] = []
    for path in paths:
        if is_jsonl(path, input_format):
            lines.extend(read_jsonl_texts(path, text_field, encoding_errors))
        else:
            lines.extend(iter_lines(path, encoding_errors))
    return lines


def require_text(lines: list[str], what: str) -> None:
    if not any(line.strip() for line in lines):
        raise NlpkitError(f"{what}: no text to train on (empty, or blank lines only)")


def chunks(items: Iterable, size: int, first: int | None = None) -> Iterator[list]:
    """Lists of up to `size` items, so that any iterable is read a bounded piece at a time. With
    `first`, the first lists are smaller (first, 4 x first, ... up to size): a command's first
    results come out at once (a pipe into `head -1` returns) and large inputs still run in
    full-size batches."""
    import itertools

    iterator = iter(items)
    step = max(1, min(first or size, size))
    while chunk := list(itertools.islice(iterator, step)):
        yield chunk
        step = min(size, step * 4)
