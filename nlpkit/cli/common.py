"""What every command group shares: option spellings of the use commands, loading a model,
running a training, reading input in chunks and writing results.

Kept free of torch so that `--help` stays fast; library modules are imported inside commands.
Training options are not here: they are declared once in nlpkit.options and the task modules.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from nlpkit.console import console, info, warn  # noqa: F401 - the CLI's stderr, re-exported
from nlpkit.errors import NlpkitError


def fail(message: str) -> NlpkitError:
    return NlpkitError(message)


class EncodingErrors(str, Enum):
    strict = "strict"
    replace = "replace"


class EvalFormat(str, Enum):
    table = "table"
    json = "json"


EvalFormatOpt = Annotated[EvalFormat, typer.Option("--format", help="table (on stdout) | json.")]


class Quantize(str, Enum):
    auto = "auto"
    none = "none"
    int8 = "int8"


QuantizeOpt = Annotated[
    Quantize,
    typer.Option(
        "--quantize",
        help="int8: linear and recurrent layers in int8 on the CPU (an error elsewhere) | auto: int8 for a "
        "file written by `nlpkit quantize` on the CPU, else float32 | none: float32.",
    ),
]


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


ModelArg = Annotated[
    str,
    typer.Argument(
        metavar="MODEL",
        help="A model file (.nlpk) of this task; sentiment, ner and translate also run a graph from nlpkit export (.onnx).",
    ),
]
InputsArg = Annotated[
    list[str] | None, typer.Argument(help="Input files, one record a line ('-' or none: stdin).", show_default=False)
]
DeviceOpt = Annotated[Device, typer.Option("--device", help="auto | cpu | cuda (bf16 autocast on CUDA).")]
ThreadsOpt = Annotated[
    int,
    typer.Option(
        "--threads",
        min=0,
        help="CPU threads; 0 = $NLPKIT_THREADS, else the cores free at start (jobs side by side share them).",
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Nothing on stderr but errors (no progress, summary or warnings).")
]
EncodingErrorsOpt = Annotated[
    EncodingErrors,
    typer.Option("--encoding-errors", help="strict: invalid UTF-8 is an error; replace: substitute U+FFFD."),
]
BatchTokensOpt = Annotated[int, typer.Option("--batch-tokens", min=1, help="Tokens per batch (memory vs speed).")]
ShardOpt = Annotated[
    str,
    typer.Option(
        "--shard",
        metavar="K/N",
        help="Only the K-th of N parts of the input files (K from 1, as split -n l/K/N); the N outputs "
        "concatenated in order are the whole output. For job arrays and torchrun ranks.",
        show_default=False,
    ),
]
ChunkLinesOpt = Annotated[
    int, typer.Option("--chunk-lines", min=1, help="Lines read, sorted by length and processed at a time.")
]


def load(path: str, task: str, device: Device, threads: int = 0, quiet: bool = False, quantize=Quantize.auto):
    """The model file at `path`, refused unless it holds a model of `task` (nlpkit.load); with
    quiet, no warnings on stderr (errors still are)."""
    import nlpkit
    from nlpkit import console as stderr

    stderr.silence(quiet)
    return nlpkit.load(path, device.value, threads, task=task, quantize=quantize.value)


def input_lines(inputs: list[str] | None, encoding_errors: EncodingErrors, shard: str = ""):
    """Every line of the input files ('-' or none: stdin), in order; with a shard 'K/N', only
    the lines of its part (nlpkit.data.shards)."""
    from nlpkit.data.readers import iter_lines

    if shard:
        from nlpkit.data import shards

        yield from shards.shard_lines(inputs or ["-"], *shards.parse(shard), encoding_errors.value)
        return
    for path in inputs or ["-"]:
        yield from iter_lines(path, encoding_errors.value)


FIRST_CHUNK = 32  # lines in the first chunk read; each next one is 4 times larger, up to --chunk-lines


def input_chunks(inputs: list[str] | None, size: int, encoding_errors: EncodingErrors, shard: str = ""):
    """The input lines a bounded chunk at a time, so memory stays flat on any input size."""
    from nlpkit.tasks.base import chunks

    if shard:  # a bad K/N fails before the model is read
        from nlpkit.data.shards import parse

        parse(shard)
    return chunks(input_lines(inputs, encoding_errors, shard), size, first=FIRST_CHUNK)


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
