"""What every command group shares: the output option of eval commands, loading the model a
command names, reading input in chunks and writing results.

Kept free of torch so that `--help` stays fast; library modules are imported inside commands.
The options themselves are declared in nlpkit.options (shared) and each task's options module.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from nlpkit.console import console, info, warn  # noqa: F401 - the CLI's stderr, re-exported
from nlpkit.errors import NlpkitError
from nlpkit.options import Options, opt


def fail(message: str) -> NlpkitError:
    return NlpkitError(message)


@dataclass
class EvalOutput(Options):
    """How an eval command prints its scores."""

    format: str = opt("table", "table (on stdout) | json.", choices=("table", "json"))


def load(o, task: str):
    """The model file an option set names (`model`, with LoadOptions' fields), refused unless it
    holds a model of `task` (nlpkit.load); with quiet, no warnings on stderr (errors still are)."""
    import nlpkit
    from nlpkit import console as stderr

    stderr.silence(o.quiet)
    return nlpkit.load(o.model, o.device, o.threads, task=task, quantize=o.quantize)


def input_lines(o):
    """Every line of the input files of an InputOptions set ('-' or none: stdin), in order; with
    a shard 'K/N', only the lines of its part (nlpkit.data.shards)."""
    from nlpkit.data.readers import iter_lines

    if o.shard:
        from nlpkit.data import shards

        yield from shards.shard_lines(o.inputs or ["-"], *shards.parse(o.shard), o.encoding_errors)
        return
    for path in o.inputs or ["-"]:
        yield from iter_lines(path, o.encoding_errors)


FIRST_CHUNK = 32  # lines in the first chunk read; each next one is 4 times larger, up to chunk_size


def input_chunks(o):
    """The input lines a bounded chunk at a time (o.chunk_size), so memory stays flat on any input."""
    from nlpkit.tasks.contract import chunks

    if o.shard:  # a bad K/N fails before the model is read
        from nlpkit.data.shards import parse

        parse(o.shard)
    return chunks(input_lines(o), o.chunk_size, first=FIRST_CHUNK)


# Characters that Python's splitlines() and other readers take as line ends: one record a line
# holds only if none is written raw. JSON escapes them; plain text output shows a space.
LINE_BREAKS = "\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"
_AS_SPACE = str.maketrans(dict.fromkeys(LINE_BREAKS, " "))
_ESCAPED = str.maketrans({ch: f"\\u{ord(ch):04x}" for ch in LINE_BREAKS})


def json_line(record) -> str:
    """One JSON record on one line, with no character some reader would split it at."""
    import json

    return json.dumps(record, ensure_ascii=False).translate(_ESCAPED)


def write_lines(lines) -> None:
    """Results to stdout, one a line, flushed per chunk so `| head` and pipelines see them early."""
    sys.stdout.write("".join(f"{line}\n".translate(_AS_SPACE) for line in lines))
    sys.stdout.flush()


def print_json(value, indent: int | None = None) -> None:
    import json

    print(json.dumps(value, indent=indent))
