"""The input of a predict command (nlpkit.options.InputOptions): files or standard input, one
record a line or what a reader makes of them, optionally one shard, a bounded list at a time.
"""

from __future__ import annotations

from nlpkit.data import readers, shards
from nlpkit.option_parsing import every_seconds

FIRST_CHUNK = 32  # records in the first chunk; each next is 4 times larger


def records(o, reader=None):
    """The records of the input `o` (InputOptions) names, in order ('-' or no file: stdin); with
    `o.shard` 'K/N', only its part (nlpkit.data.shards). A record is a line, or what
    `reader(paths, encoding_errors)` yields (for example a CoNLL sentence)."""
    paths = o.inputs or ["-"]
    if reader is None and not o.shard:
        return (line for path in paths for line in readers.iter_lines(path, o.encoding_errors))
    if reader is None:
        return shards.shard_lines(paths, *shards.parse(o.shard), o.encoding_errors)
    if not o.shard:
        return reader(paths, o.encoding_errors)
    return shards.records_part(lambda: reader(paths, o.encoding_errors), *shards.parse(o.shard), paths)


def chunks(o, size: int, reader=None):
    """The records a bounded list at a time, so memory stays flat on any input: a few at first
    (a pipe into `head -1` returns at once), then up to `size`; a progress line off a terminal."""
    from nlpkit.tracking import follow

    if o.shard:  # a bad K/N fails before anything is read
        shards.parse(o.shard)
    quiet = bool(getattr(o, "quiet", False))  # a command's set has RunOptions' quiet too
    stream = readers.chunks(records(o, reader), size, first=FIRST_CHUNK)
    return follow(stream, every_seconds(o.log_every), quiet, "records")
